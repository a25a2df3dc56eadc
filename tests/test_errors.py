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


def test_non_float_input():
    with pytest.raises(TypeError, match="simple_rnn: expected floating-point input, got dtype torch.int64"):
        SimpleRNN(4)(torch.zeros(2, 5, 1, dtype=torch.long))


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


def test_unknown_backend_and_unavailable_native():
    with pytest.raises(ValueError, match=r"lstm: expected backend one of"):
        LSTM(4, backend="fast")
    with pytest.raises(RuntimeError, match="backend='native' was asked for"):
        LSTM(4, backend="native")(torch.zeros(1, 2, 1))


def test_unsupported_options_are_refused_not_ignored():
    with pytest.raises(NotImplementedError, match="LSTM: dropout=0.5 is not supported yet"):
        LSTM(4, dropout=0.5)


def test_units_must_be_positive():
    with pytest.raises(ValueError, match="simple_rnn: expected units to be a positive integer, got 0"):
        SimpleRNN(0)


def test_optimizer_takes_one_clipping_option():
    with pytest.raises(ValueError, match="give at most one of clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
