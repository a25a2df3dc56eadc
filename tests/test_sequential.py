"""Sequential as Keras users and PyTorch users reach it."""

import numpy as np
import pytest
import torch

from rnnkit import layers, optimizers
from rnnkit.backends import native
from rnnkit.layers import GRU, LSTM, Dense, SimpleRNN
from rnnkit.models import Sequential
from helpers import needs_native


def test_list_constructor_equals_add():
    a = Sequential([LSTM(4, input_shape=(None, 2)), Dense(1)])
    b = Sequential()
    b.add(LSTM(4, input_shape=(None, 2)))
    b.add(Dense(1))
    b.set_weights(a.get_weights())
    x = torch.randn(3, 5, 2)
    torch.testing.assert_close(a(x), b(x))


def test_lazy_build_on_first_call_and_any_length():
    model = Sequential([GRU(4), Dense(2)])
    assert not model.built
    for time in (1, 3, 17):
        assert model(torch.randn(2, time, 3)).shape == (2, 2)
    assert model.built and model.count_params() == 3 * (3 * 4 + 4 * 4 + 2 * 4) + 4 * 2 + 2


def test_is_a_torch_module_and_trains_with_a_torch_optimizer():
    model = Sequential([SimpleRNN(8, input_shape=(None, 1)), Dense(1)])
    assert isinstance(model, torch.nn.Module)
    assert len(list(model.parameters())) == 5
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x = torch.randn(16, 5, 1)
    y = x.sum(1)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        first = first or loss.item()
    assert loss.item() < 0.5 * first


def test_compile_accepts_torch_optimizer_and_rnnkit_optimizer_on_params():
    model = Sequential([SimpleRNN(8, input_shape=(None, 1)), Dense(1)])
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.01), loss="mse")
    x = np.random.default_rng(0).standard_normal((8, 4, 1)).astype("float32")
    before = model.get_weights()
    model.train_on_batch(x, x.sum(1))
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    opt = optimizers.Adam(model.parameters(), learning_rate=0.1)
    assert opt.built and opt.learning_rate == 0.1
    assert optimizers.Adam(model.parameters(), lr=0.2).learning_rate == 0.2
    assert optimizers.SGD(0.3).learning_rate == 0.3 and not optimizers.SGD(0.3).built


def test_numpy_and_tensor_inputs_and_1d_targets_agree():
    model = Sequential([layers.Input((None, 1)), LSTM(4), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).standard_normal((6, 3, 1))
    y = np.random.default_rng(1).standard_normal((6,))
    a = model.evaluate(x, y, verbose=0)
    b = model.evaluate(torch.from_numpy(x), torch.from_numpy(y[:, None]), verbose=0)
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert model.predict(torch.from_numpy(x), verbose=0).dtype == np.float32


def test_predict_on_batch_and_test_on_batch():
    model = Sequential([layers.Input((None, 1)), LSTM(4), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((3, 2, 1), "float32")
    y = np.zeros((3, 1), "float32")
    pred = model.predict_on_batch(x)
    assert model.test_on_batch(x, y) == pytest.approx(float((pred ** 2).mean()), rel=1e-6)


def test_direct_call_is_inference_and_fit_uses_training_mode():
    model = Sequential([layers.Input((4,)), layers.Dropout(0.5), Dense(1)])
    x = torch.ones(64, 4)
    torch.testing.assert_close(model(x), model(x))
    assert not model(x, training=True).equal(model(x))


def test_float64_model_runs_in_float64():
    model = Sequential([GRU(3, input_shape=(None, 2), reset_after=False), Dense(1)]).double()
    assert model(torch.randn(2, 4, 2, dtype=torch.float64)).dtype == torch.float64


def test_backend_that_ran_is_reported():
    layer = LSTM(3, backend="reference")
    layer(torch.zeros(1, 2, 1))
    assert layer.last_backend == "reference"


@needs_native
def test_env_backend_forces_auto_layers(monkeypatch):
    monkeypatch.setenv("RNNKIT_BACKEND", "reference")
    layer = LSTM(3)
    layer(torch.zeros(1, 2, 1))
    assert layer.last_backend == "reference"
    monkeypatch.setenv("RNNKIT_BACKEND", "native")
    with pytest.raises(ValueError, match="backend='native' does not run torch.float64 on cpu"):
        LSTM(3, input_shape=(None, 1)).double()(torch.zeros(1, 2, 1, dtype=torch.float64))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    model = Sequential([LSTM(4, input_shape=(None, 2), return_sequences=True), GRU(3), Dense(1)])
    x = torch.randn(2, 5, 2)
    expected = model(x)
    torch.testing.assert_close(model.to("cuda")(x.cuda()).cpu(), expected, rtol=1e-5, atol=1e-5)


def test_layer_config_round_trip():
    for layer in (LSTM(4, recurrent_activation="hard_sigmoid", unit_forget_bias=False,
                       return_sequences=True, go_backwards=True, name="enc"),
                  GRU(3, reset_after=False, use_bias=False, kernel_initializer="he_normal"),
                  SimpleRNN(2, activation="relu", return_state=True), Dense(5, activation="softmax"),
                  layers.Embedding(10, 3), layers.Dropout(0.3), layers.Activation("relu")):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


def test_embedding_then_lstm_trains():
    model = Sequential([layers.Embedding(20, 8), LSTM(8), Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, size=(64, 5))
    y = (x[:, -1] < 10).astype("int64")
    h = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert h.history["accuracy"][-1] > 0.9
