"""TimeDistributed, Flatten and RepeatVector against real Keras 3 (summary text, outputs and
training steps) and against their definitions."""

import numpy as np
import pytest
import torch

from rnnkit import layers, optimizers
from rnnkit.models import Sequential, load_model
from helpers import Golden, assert_close, assert_compiled_matches_eager


def _layer(spec):
    cls, kwargs = spec
    kwargs = {k: _layer(v) if k == "layer" else v for k, v in kwargs.items()}
    return getattr(layers, cls)(**kwargs)


def _model():
    """The stack the Keras fixture script built, from its [class, kwargs] list."""
    specs = Golden().meta["more_layers"]["layers"]
    return Sequential([layers.Input((4, 3))] + [_layer(s) for s in specs])


@pytest.mark.parametrize("key,columns", [("summary", "120"), ("summary80", "80")])
def test_summary_matches_keras(golden, key, columns, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", columns)
    _model().summary()
    assert capsys.readouterr().out == golden.meta["more_layers"][key]["text"]


def test_outputs_and_training_match_keras(golden):
    meta = golden.meta["more_layers"]
    model = _model()
    model.set_weights(golden.seq("more_layers/w_init", meta["n_weights"]))
    x, y = golden["more_layers/x"], golden["more_layers/y"]
    assert_close(model.predict(x, verbose=0), golden["more_layers/predict"])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mean_squared_error")
    losses = [model.train_on_batch(x, y) for _ in range(3)]
    np.testing.assert_allclose(losses, meta["losses"], rtol=2e-5)
    for got, want in zip(model.get_weights(), golden.seq("more_layers/step3_w", meta["n_weights"])):
        assert_close(got, want)


def test_time_distributed_is_the_layer_at_every_step():
    dense = layers.Dense(4, activation="relu", input_shape=(3,))
    wrapped = layers.TimeDistributed(dense)
    x = torch.randn(2, 5, 3)
    y = wrapped(x)
    for t in range(5):
        torch.testing.assert_close(y[:, t], dense(x[:, t]))
    assert wrapped.weights == dense.weights and wrapped.count_params() == 16


def test_flatten_and_repeat_vector_by_definition():
    x = torch.arange(24.0).reshape(2, 3, 4)
    torch.testing.assert_close(layers.Flatten()(x), x.reshape(2, 12))
    torch.testing.assert_close(layers.Flatten(data_format="channels_first")(x),
                               x.permute(0, 2, 1).reshape(2, 12))
    v = torch.randn(2, 3)
    torch.testing.assert_close(layers.RepeatVector(4)(v), v[:, None].repeat(1, 4, 1))


def test_save_and_load_keep_the_wrapped_layer(tmp_path):
    model = _model()
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    model.save(tmp_path / "m.zip")
    loaded = load_model(tmp_path / "m.zip")
    assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[1].layer.get_config() == model.layers[1].layer.get_config()


def test_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match="repeat_vector: expected input of shape \\(batch, features\\)"):
        layers.RepeatVector(2)(torch.zeros(2, 3, 4))
    with pytest.raises(TypeError, match="TimeDistributed: expected an rnnkit layer"):
        layers.TimeDistributed(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="time_distributed: expected input of shape \\(batch, time"):
        layers.TimeDistributed(layers.Dense(2))(torch.zeros(2, 3))


def test_frozen_wrapper_freezes_the_layer_and_empty_batches_flatten():
    wrapped = layers.TimeDistributed(layers.Dense(3), trainable=False)
    wrapped(torch.zeros(2, 4, 5))
    assert not wrapped.trainable and wrapped.trainable_weights == []
    assert wrapped.get_config()["trainable"] is False
    assert layers.Flatten()(torch.zeros(0, 3, 4)).shape == (0, 12)


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_torch_compile_fullgraph_matches_eager(backend, tmp_path, monkeypatch):
    """torch.compile(fullgraph=True) over recurrent layers on either backend, the wrapper, the
    reshaping layers, penalties and dropout: the same outputs and gradients as eager."""
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))  # no code compiled earlier
    model = Sequential([
        layers.Input((5, 3)), layers.LSTM(4, return_sequences=True, backend=backend),
        layers.TimeDistributed(layers.Dense(2)), layers.Flatten(),
        layers.Dense(3, activity_regularizer="l2"), layers.RepeatVector(2),
        layers.SimpleRNN(2, backend=backend, kernel_regularizer="l2"), layers.Dropout(0.5),
        layers.Activation("tanh")])
    assert_compiled_matches_eager(model, torch.randn(2, 5, 3))
