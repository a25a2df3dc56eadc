"""Bad input gets one clear error naming the layer, what was expected and what came."""

import numpy as np
import pytest
import torch

from rnnkit import layers, optimizers
from rnnkit.layers import GRU, LSTM, Dense, SimpleRNN
from rnnkit.models import Sequential


def test_wrong_rank():
    with pytest.raises(ValueError, match=r"lstm: expected input of shape \(batch, time, features\).*got shape \(2, 3\)"):
        LSTM(4)(torch.zeros(2, 3))


def test_wrong_feature_size_after_build():
    layer = GRU(4, input_shape=(None, 3))
    with pytest.raises(ValueError, match=r"gru: expected 3 input features.*got shape \(2, 5, 2\)"):
        layer(torch.zeros(2, 5, 2))


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_integer_and_bool_input_are_cast_complex_is_refused(cls):
    # Keras 3 casts integer and boolean input to the layer's float dtype (checked with Keras on
    # JAX: same output as the float input) and cannot run complex input.
    layer = cls(4, input_shape=(None, 1))
    ids = torch.tensor([[[0], [3], [1]], [[2], [0], [5]]])
    for x in (ids, ids.to(torch.uint8), ids > 1):
        out = layer(x)
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, layer(x.float()), rtol=0, atol=0)
    with pytest.raises(TypeError, match=f"{layer.name}: expected real-valued input .* got dtype "
                                        r"torch.complex64"):
        layer(ids.to(torch.complex64))


def test_empty_sequence():
    with pytest.raises(ValueError, match="lstm: expected at least one time step"):
        LSTM(4)(torch.zeros(2, 0, 1))


def test_wrong_initial_state_count_and_shape():
    layer = LSTM(4, input_shape=(None, 1))
    with pytest.raises(ValueError, match=r"lstm: expected 2 initial state\(s\) \(h, c\), got 1"):
        layer(torch.zeros(2, 3, 1), initial_state=[torch.zeros(2, 4)])
    with pytest.raises(ValueError, match=r"lstm: expected initial state c of shape \(2, 4\), got \(2, 5\)"):
        layer(torch.zeros(2, 3, 1), initial_state=[torch.zeros(2, 4), torch.zeros(2, 5)])


def test_xy_length_mismatch():
    model = Sequential([LSTM(4, input_shape=(None, 1)), Dense(1)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"sequential.fit: expected x and y to have the same number "
                                         r"of samples, got x with 10 .* and y with 9"):
        model.fit(np.zeros((10, 3, 1)), np.zeros((9, 1)), verbose=0)


@pytest.mark.parametrize("make,match", [
    (lambda: Sequential([Dense(1, input_shape=(2,))]).compile(optimizer="adamm", loss="mse"),
     r"sequential: unknown optimizer 'adamm'\. Did you mean 'adam'\?"),
    (lambda: Sequential([Dense(1, input_shape=(2,))]).compile(optimizer="adam", loss="mean_sq_error"),
     r"sequential: unknown loss 'mean_sq_error'\. Did you mean 'mean_squared_error'\?"),
    (lambda: Sequential([Dense(1, input_shape=(2,))]).compile("adam", "mse", metrics=["acuracy"]),
     r"sequential: unknown metric 'acuracy'\. Did you mean 'accuracy'\?"),
    (lambda: LSTM(4, activation="tanhh"), r"lstm: unknown activation 'tanhh'\. Did you mean 'tanh'\?"),
    (lambda: GRU(4, kernel_initializer="glorot"), r"gru: unknown initializer 'glorot'"),
])
def test_unknown_names(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_set_weights_wrong_count_and_shape_changes_nothing():
    layer = LSTM(4, input_shape=(None, 2))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"lstm: set_weights expected 3 arrays .* got 2"):
        layer.set_weights(before[:2])
    with pytest.raises(ValueError, match=r"lstm: set_weights expected recurrent_kernel of shape "
                                         r"\(4, 16\), got \(4, 12\)"):
        layer.set_weights([before[0], np.zeros((4, 12)), before[2]])
    model = Sequential([layers.Input((None, 2)), LSTM(4), Dense(1)])
    weights = model.get_weights()
    bad = [w + 1 for w in weights[:-1]] + [np.zeros((3,))]
    with pytest.raises(ValueError, match=r"sequential: set_weights expected dense/bias of shape \(1,\), got \(3,\)"):
        model.set_weights(bad)
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_fit_before_compile():
    model = Sequential([Dense(1, input_shape=(2,))])
    with pytest.raises(RuntimeError, match=r"sequential: call compile\(optimizer, loss\) before fit\(\)"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)))


def test_return_state_layer_in_sequential():
    with pytest.raises(ValueError, match="lstm returns its states"):
        Sequential([LSTM(4, return_state=True)])


def test_unknown_backend_and_unsupported_native():
    with pytest.raises(ValueError, match=r"lstm: expected backend one of"):
        LSTM(4, backend="fast")
    with pytest.raises(ValueError, match=r"lstm_1: backend='native' does not run torch.float64 on "
                                         r"cpu .* \(it runs float32 CPU tensors"):
        LSTM(4, backend="native", input_shape=(None, 1)).double()(torch.zeros(1, 2, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"gru: backend='native' does not run .* with activation "
                                         r"'relu'"):
        GRU(4, activation="relu", backend="native")(torch.zeros(1, 2, 1))


def test_unsupported_options_are_refused_not_ignored():
    with pytest.raises(NotImplementedError, match="Dense: lora_rank is not supported yet"):
        Dense(4, lora_rank=2)


def test_units_must_be_positive():
    with pytest.raises(ValueError, match="simple_rnn: expected units to be a positive integer, got 0"):
        SimpleRNN(0)


@pytest.mark.parametrize("call,match", [
    (lambda m, x, y: m.fit(x, y, sample_weight=np.ones(4)), r"sequential.fit: sample_weight=\.\.\. is not supported yet"),
    (lambda m, x, y: m.fit(x, y, class_weight={0: 1.0}), r"sequential.fit: class_weight=\.\.\. is not supported yet"),
    (lambda m, x, y: m.fit(x, y, steps_per_epoch=2), r"sequential.fit: steps_per_epoch=\.\.\. is not supported yet"),
    (lambda m, x, y: m.fit(x, y, validation_data=(x, y), validation_steps=1), r"validation_steps=\.\.\. is not supported yet"),
    (lambda m, x, y: m.fit(x, y, validation_data=(x, y), validation_freq=2), r"validation_freq=\.\.\. is not supported yet"),
    (lambda m, x, y: m.evaluate(x, y, steps=1), r"sequential.evaluate: steps=\.\.\. is not supported yet"),
    (lambda m, x, y: m.predict(x, steps=1), r"sequential.predict: steps=\.\.\. is not supported yet"),
    (lambda m, x, y: m.train_on_batch(x, y, sample_weight=np.ones(4)), r"sequential.train_on_batch: sample_weight"),
])
def test_unsupported_training_arguments_are_refused(call, match):
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    with pytest.raises(NotImplementedError, match=match):
        call(model, np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"))


def test_fit_arguments_are_in_keras_order():
    import inspect
    names = list(inspect.signature(Sequential.fit).parameters)[1:]
    assert names == ["x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split",
                     "validation_data", "shuffle", "class_weight", "sample_weight", "initial_epoch",
                     "steps_per_epoch", "validation_steps", "validation_batch_size",
                     "validation_freq"]
    assert list(inspect.signature(Sequential).parameters) == ["layers", "trainable", "name"]


def test_bad_validation_data():
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    with pytest.raises(ValueError, match=r"expected validation_data=\(x_val, y_val\), got generator"):
        model.fit(x, y, verbose=0, validation_data=(i for i in range(2)))
    with pytest.raises(ValueError, match=r"got a tuple of length 1"):
        model.fit(x, y, verbose=0, validation_data=(x,))


def test_bad_dtype():
    with pytest.raises(ValueError, match="dense: expected dtype as a name like 'float32' or a "
                                         "torch.dtype, got 'float33'"):
        Dense(1, dtype="float33")


def test_optimizer_takes_one_clipping_option():
    with pytest.raises(ValueError, match="give at most one of clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
