"""stateful=True against real Keras 3: states carried from batch to batch (predictions and
training steps), reset_states, and the errors for a batch size the states do not fit."""

import numpy as np
import pytest
import torch

from rnnkit import layers, optimizers
from rnnkit.models import Sequential
from helpers import assert_close


def _model(golden, backend="auto"):
    stack = [layers.Input((4, 2), batch_size=2)]
    for cls, kwargs in golden.meta["stateful"]["layers"]:
        extra = {"backend": backend} if cls != "Dense" else {}
        stack.append(getattr(layers, cls)(**kwargs, **extra))
    model = Sequential(stack)
    model.set_weights(golden.seq("stateful/a/w_init", golden.meta["stateful"]["n_weights"]))
    return model


def _reset(model):
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_states()


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_predictions_carry_states_like_keras(golden, backend):
    model = _model(golden, backend)
    assert_close(model.predict_on_batch(golden["stateful/a/x"]), golden["stateful/predict_a"])
    assert_close(model.predict_on_batch(golden["stateful/b/x"]), golden["stateful/predict_b"])
    _reset(model)
    assert_close(model.predict_on_batch(golden["stateful/a/x"]),
                 golden["stateful/predict_a_after_reset"])


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_training_carries_detached_states_like_keras(golden, backend):
    """Each batch starts from the states the previous one ended with, and backward stops
    there (no "backward through the graph a second time")."""
    meta = golden.meta["stateful"]
    model = _model(golden, backend)
    model.compile(optimizer=optimizers.SGD(0.1), loss="mean_squared_error")
    a, b = (golden["stateful/a/x"], golden["stateful/a/y"]), (golden["stateful/b/x"], golden["stateful/b/y"])
    losses = [model.train_on_batch(*batch) for batch in (a, b, a)]
    np.testing.assert_allclose(losses, meta["losses"], rtol=2e-5)
    for got, want in zip(model.get_weights(), golden.seq("stateful/step3_w", meta["n_weights"])):
        assert_close(got, want)
    for layer in model.layers[:-1]:
        for k, state in enumerate(layer.states):
            assert_close(state.numpy(), golden[f"stateful/states/{layer.name}/{k}"])


def test_stateful_needs_a_fixed_batch_size_and_keeps_it():
    with pytest.raises(ValueError, match="lstm: stateful=True needs a fixed batch size"):
        Sequential([layers.Input((4, 2)), layers.LSTM(3, stateful=True)])
    layer = layers.GRU(3, stateful=True, batch_size=2, input_shape=(4, 2))
    layer(torch.zeros(2, 4, 2))
    with pytest.raises(ValueError, match="gru: a stateful layer keeps states for batches of 2, got a batch of 3"):
        layer(torch.zeros(3, 4, 2))


def test_explicit_initial_state_overrides_the_carried_one():
    layer = layers.SimpleRNN(3, stateful=True, batch_size=2, input_shape=(4, 2))
    x, h0 = torch.randn(2, 4, 2), torch.randn(2, 3)
    layer(x)
    plain = layers.SimpleRNN(3, input_shape=(4, 2))
    plain.set_weights(layer.get_weights())
    torch.testing.assert_close(layer(x, initial_state=h0), plain(x, initial_state=h0))
    torch.testing.assert_close(layer.states[0], plain(x, initial_state=h0))


def test_saving_keeps_stateful_and_its_batch_size(golden, tmp_path):
    from rnnkit.models import load_model
    model = _model(golden)
    model.compile(optimizer="adam", loss="mean_squared_error")
    model.save(tmp_path / "m.zip")
    loaded = load_model(tmp_path / "m.zip")
    x = torch.as_tensor(golden["stateful/a/x"])
    for _ in range(2):  # both carry their states the same way
        torch.testing.assert_close(loaded(x), model(x))
    assert [layer.states[0].shape[0] for layer in loaded.layers[:-1]] == [2, 2, 2]
