"""Bad input gets one clear error naming the layer, what was expected and what came."""

import re

import numpy as np
import pytest
import torch

from rnnkit import callbacks, layers, optimizers
from rnnkit.layers import GRU, LSTM, Dense, SimpleRNN
from rnnkit.models import Sequential
from rnnkit.utils import clear_session


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
    with pytest.raises(ValueError, match=r"expected validation_data=\(x_val, y_val\), got int"):
        model.fit(x, y, verbose=0, validation_data=3)
    with pytest.raises(ValueError, match=r"fit \(validation_data\): expected targets y, got None"):
        model.fit(x, y, verbose=0, validation_data=(i for i in range(2)))  # batches without y
    with pytest.raises(ValueError, match=r"got a tuple of length 1"):
        model.fit(x, y, verbose=0, validation_data=(x,))


def test_bad_dtype():
    with pytest.raises(ValueError, match="dense: expected dtype as a name like 'float32' or a "
                                         "torch.dtype, got 'float33'"):
        Dense(1, dtype="float33")


def test_optimizer_takes_one_clipping_option():
    with pytest.raises(ValueError, match="give at most one of clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)


# -- arguments checked up front, as Keras checks them --------------------------------------------

def _model(units=1, loss="mse", **layer):
    model = Sequential([LSTM(3, input_shape=(None, 2), **layer), Dense(units)])
    model.compile("sgd", loss)
    return model


X = np.random.default_rng(0).normal(size=(6, 4, 2)).astype("float32")
Y = np.random.default_rng(1).normal(size=(6, 1)).astype("float32")


@pytest.mark.parametrize("call", [
    lambda m: m.fit(X[:0], Y[:0], verbose=0),
    lambda m: m.evaluate(X[:0], Y[:0], verbose=0),
    lambda m: m.predict(X[:0], verbose=0),
    lambda m: m.train_on_batch(X[:0], Y[:0]),
    lambda m: m.test_on_batch(X[:0], Y[:0]),
], ids=["fit", "evaluate", "predict", "train_on_batch", "test_on_batch"])
def test_no_samples_is_an_error_not_a_loss_of_zero(request, call):
    # Keras finds no batch to run either; a loss of 0.0 over nothing was reported before.
    model = _model()
    before = model.get_weights()
    method = request.node.callspec.id
    with pytest.raises(ValueError, match=rf"sequential.{method}: expected at least one sample, "
                                         r"got x of shape \(0, 4, 2\)"):
        call(model)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_empty_validation_data_is_an_error():
    with pytest.raises(ValueError, match=r"sequential.fit \(validation_data\): expected at least "
                                         r"one sample, got x of shape \(0, 4, 2\)"):
        _model().fit(X, Y, validation_data=(X[:0], Y[:0]), verbose=0)


@pytest.mark.parametrize("bad,error,got", [
    (0, ValueError, "got 0."), (-2, ValueError, "got -2."),
    (2.0, TypeError, r"got 2.0 \(float\)"), (True, TypeError, r"got True \(bool\)"),
    ("32", TypeError, r"got '32' \(str\)")])
@pytest.mark.parametrize("method,name", [("fit", "batch_size"),
                                         ("fit", "validation_batch_size"),
                                         ("evaluate", "batch_size"), ("predict", "batch_size")])
def test_bad_batch_sizes_are_refused_up_front(method, name, bad, error, got):
    model = _model()
    args = (X,) if method == "predict" else (X, Y)
    kwargs = {name: bad, "verbose": 0}
    if name == "validation_batch_size":
        kwargs["validation_data"] = (X, Y)
    with pytest.raises(error, match=rf"sequential.{method}: expected {name} to be a positive "
                                    rf"integer, {got}"):
        getattr(model, method)(*args, **kwargs)


class _Steps(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.sizes = []

    def on_train_batch_begin(self, batch, logs=None):
        self.sizes.append(batch)


def _history(batch_size, epochs, n=40):
    """The losses of two epochs from a fixed start, and how many steps each epoch took."""
    torch.manual_seed(0)
    model = _model()
    x = np.resize(X, (n, 4, 2))
    y = np.resize(Y, (n, 1))
    steps = _Steps()
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0,
                        callbacks=[steps])
    return history.history["loss"], len(steps.sizes)


def test_numpy_integers_count_as_integers_and_none_means_32():
    assert _history(np.int64(8), np.int32(2)) == _history(8, 2)
    assert _history(None, 1) == _history(32, 1)
    assert _history(None, 1)[1] == 2  # 40 samples in batches of 32: 32 + 8


@pytest.mark.parametrize("name,bad,error,match", [
    ("epochs", "3", TypeError, r"expected epochs to be a non-negative integer, got '3' \(str\)"),
    ("epochs", 2.0, TypeError, r"expected epochs to be a non-negative integer, got 2.0"),
    ("epochs", -1, ValueError, r"expected epochs to be a non-negative integer, got -1"),
    ("initial_epoch", None, TypeError, r"expected initial_epoch to be a non-negative integer, "
                                       r"got None"),
    ("shuffle", "yes", TypeError, r"expected shuffle to be True or False, got 'yes'"),
])
def test_bad_fit_loop_arguments(name, bad, error, match):
    with pytest.raises(error, match=r"sequential.fit: " + match):
        _model().fit(X, Y, verbose=0, **{name: bad})


@pytest.mark.parametrize("call", [
    lambda m, y: m.fit(X, y, verbose=0),
    lambda m, y: m.evaluate(X, y, verbose=0),
    lambda m, y: m.train_on_batch(X, y),
    lambda m, y: m.fit(X, Y, validation_data=(X, y), verbose=0),
], ids=["fit", "evaluate", "train_on_batch", "fit (validation_data)"])
def test_targets_with_an_extra_column_are_refused_before_training(request, call):
    # Keras's mean squared error would broadcast y (6, 2) against the output (6, 1) and train.
    model = _model()
    before = model.get_weights()
    where = re.escape(f"sequential.{request.node.callspec.id}")
    with pytest.raises(ValueError, match=rf"{where}: expected y of shape \(6, 1\) or \(6,\) for "
                                         r"the model's output of shape \(None, 1\) and the loss "
                                         r"mean_squared_error, got y of shape \(6, 2\)"):
        call(model, np.zeros((6, 2), "float32"))
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_targets_keras_accepts_still_train_as_keras_reads_them():
    """y (n,) against an output (batch, 1), and class ids (n,) or (n, 1) against (batch, k):
    the loss is torch's on the aligned targets, computed here independently."""
    model = _model()
    prediction = torch.from_numpy(model.predict(X, verbose=0))
    want = torch.nn.functional.mse_loss(prediction, torch.from_numpy(Y)).item()
    assert model.evaluate(X, Y[:, 0], verbose=0) == pytest.approx(want, rel=1e-6)
    assert model.evaluate(X, Y[:, :, None], verbose=0) == pytest.approx(want, rel=1e-6)

    classes = Sequential([LSTM(3, input_shape=(None, 2)), Dense(4, activation="softmax")])
    classes.compile("sgd", "sparse_categorical_crossentropy")
    ids = np.array([0, 3, 1, 2, 2, 0])
    p = torch.from_numpy(classes.predict(X, verbose=0))
    want = torch.nn.functional.nll_loss(torch.log(p), torch.from_numpy(ids)).item()
    for y in (ids, ids[:, None]):
        assert classes.evaluate(X, y, verbose=0) == pytest.approx(want, rel=1e-5)
    with pytest.raises(ValueError, match=r"sequential_1.evaluate: expected y of shape \(6,\) or "
                                         r"\(6, 1\) for the model's output of shape \(None, 4\) "
                                         r"and the loss sparse_categorical_crossentropy, got y of "
                                         r"shape \(6, 4\)\. Give one class id per sample"):
        classes.evaluate(X, np.eye(4)[ids], verbose=0)


def test_sequence_targets_are_checked_per_time_step():
    model = _model(return_sequences=True)
    model.fit(X, np.zeros((6, 4, 1), "float32"), verbose=0)
    with pytest.raises(ValueError, match=r"expected y of shape \(6, 4, 1\) or \(6, 4\) .* got y "
                                         r"of shape \(6, 1\)"):
        model.fit(X, Y, verbose=0)


def test_compile_tells_unknown_arguments_from_unsupported_ones():
    model = Sequential([Dense(1, input_shape=(2,))])
    with pytest.raises(TypeError, match=r"sequential.compile: unexpected argument\(s\) "
                                        r"\['optimiser'\]; expected optimizer, loss, metrics"):
        model.compile(optimiser="adam", loss="mse")
    model.compile("adam", "mse", weighted_metrics=["mae"])  # Keras's argument, taken
    model.compile("adam", "mse", jit_compile=True)  # Keras's graph options change nothing here


# -- layer arguments --------------------------------------------------------------------------

@pytest.mark.parametrize("make,layer,value", [
    (lambda v: Dense(v), "dense", "units"),
    (lambda v: layers.Embedding(v, 2), "embedding", "input_dim"),
    (lambda v: layers.Embedding(5, v), "embedding", "output_dim"),
    (lambda v: layers.RepeatVector(v), "repeat_vector", "n")])
def test_integer_layer_arguments(make, layer, value):
    for ok in (np.int64(3), np.int32(3), np.uint8(3), 3):
        assert getattr(make(ok), value) == 3 and type(getattr(make(ok), value)) is int
    for bad, error, got in ((0, ValueError, "got 0."), (-1, ValueError, "got -1."),
                            (3.0, TypeError, r"got 3.0 \(float\)"),
                            (True, TypeError, r"got True \(bool\)"),
                            ("3", TypeError, r"got '3' \(str\)")):
        clear_session()
        with pytest.raises(error, match=rf"^{layer}: expected {value} to be a positive integer, "
                                        rf"{got}"):
            make(bad)


@pytest.mark.parametrize("bad,error,match", [
    (float("nan"), ValueError, "got nan"), (-0.2, ValueError, "got -0.2"),
    (1.5, ValueError, "got 1.5"), ("0.2", TypeError, r"got '0.2' \(str\)"),
    (True, TypeError, r"got True \(bool\)")])
def test_dropout_rate_is_checked_as_keras_does(bad, error, match):
    with pytest.raises(error, match="dropout: expected rate to be a number between 0 and 1, "
                                    + match):
        layers.Dropout(bad)


def test_dropout_rate_one_drops_everything_as_in_keras():
    # Keras's Dropout takes rate in [0, 1]; at 1 its backends keep nothing (not 0 / 0 = NaN).
    x = torch.randn(3, 5)
    np.testing.assert_array_equal(layers.Dropout(1.0)(x, training=True).numpy(), np.zeros((3, 5)))
    np.testing.assert_array_equal(layers.Dropout(np.float32(1.0))(x).numpy(), x.numpy())
    assert layers.Dropout(np.float64(0.25)).rate == 0.25


def test_shared_validators_for_the_recurrent_layers():
    from rnnkit.layers._checks import check_rate, check_units
    assert check_units("lstm", np.int64(8)) == 8 and type(check_units("lstm", np.int64(8))) is int
    with pytest.raises(TypeError, match=r"lstm: expected units to be a positive integer, got "
                                        r"8.0 \(float\)"):
        check_units("lstm", 8.0)
    # Keras's recurrent layers: min(1, max(0, rate)); NaN, which that would turn into 0, refused
    for rate in (-0.2, 0.0, 0.3, 1.0, 7.0, float("inf"), np.float32(0.5)):
        assert check_rate("gru", "dropout", rate, clip=True) == min(1.0, max(0.0, float(rate)))
    for clip in (False, True):
        with pytest.raises(ValueError, match="gru: expected recurrent_dropout to be a number "
                                             "between 0 and 1, got nan"):
            check_rate("gru", "recurrent_dropout", float("nan"), clip=clip)
        with pytest.raises(TypeError, match=r"gru: expected dropout to be a number between 0 "
                                            r"and 1, got None \(NoneType\)"):
            check_rate("gru", "dropout", None, clip=clip)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_recurrent_layers_take_numpy_units_and_refuse_bad_rates(cls):
    assert cls(np.int64(8)).units == 8
    for name in ("dropout", "recurrent_dropout"):
        for bad in (float("nan"), -0.2, 3.0):
            with pytest.raises(ValueError, match=f"expected {name} to be a number between 0 and "
                                                 f"1, got {bad}"):
                cls(4, **{name: bad})
    assert cls(4, dropout=np.float32(0.25), recurrent_dropout=1).get_config()["dropout"] == 0.25


@pytest.mark.parametrize("call,match", [
    (lambda m, x, y: m.fit(x, y, sample_weight=np.ones(4), class_weight={0: 1.0}),
     "sequential.fit: expected sample_weight or class_weight, got both"),
    (lambda m, x, y: m.fit(x, y, sample_weight=np.ones(3)),
     r"sequential.fit: expected sample_weight with one entry per sample \(4\), got shape \(3,\)"),
    (lambda m, x, y: m.train_on_batch(x, y, class_weight=[1.0]),
     "sequential.train_on_batch: expected class_weight as a dict"),
])
def test_bad_sample_and_class_weights(call, match):
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    with pytest.raises((ValueError, TypeError), match=match):
        call(model, np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"))
