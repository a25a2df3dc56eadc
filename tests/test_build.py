"""Lazy building: weights take the dtype and device asked for before build, or the input's."""

import numpy as np
import pytest
import torch

from rnnkit import layers
from rnnkit.layers import GRU, LSTM, Dense
from rnnkit.models import Sequential


def test_dtype_given_as_torch_dtype():
    layer = LSTM(3, dtype=torch.float64, input_shape=(None, 1))
    assert layer.kernel.dtype == torch.float64 and layer.get_config()["dtype"] == "float64"
    assert type(layer).from_config(layer.get_config()).kernel.dtype == torch.float64


def test_double_before_build_gives_float64_weights_and_output():
    lazy = LSTM(3).double()
    x = torch.randn(2, 4, 1)
    out = lazy(x)
    assert out.dtype == torch.float64 and lazy.kernel.dtype == torch.float64
    same = LSTM(3, input_shape=(None, 1), backend="reference")
    same.set_weights(lazy.get_weights())
    torch.testing.assert_close(out.float(), same(x), rtol=1e-6, atol=1e-6)


def test_unbuilt_double_model_fits_in_float64():
    model = Sequential([GRU(3), Dense(1)]).double()
    model.compile("sgd", "mse")
    x = torch.randn(4, 5, 2)
    model.fit(x, x.sum((1, 2))[:, None], verbose=0)
    assert [p.dtype for p in model.parameters()] == [torch.float64] * 5


def test_lazy_build_uses_the_input_device_unless_to_chose_one():
    dense = Dense(2)
    dense(torch.zeros(1, 3, device="meta"))
    assert dense.kernel.device.type == "meta"
    moved = Dense(2).to("meta")
    moved.build((None, 3))
    assert moved.kernel.device.type == "meta"
    model = Sequential([Dense(2)]).to("meta")
    model.build((None, 3))
    assert model.layers[0].kernel.device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_unbuilt_model_moved_to_cuda_builds_and_trains_there():
    model = Sequential([LSTM(4), Dense(1)]).to("cuda")
    model.compile("adam", "mse")
    x = np.random.default_rng(0).standard_normal((8, 5, 2)).astype("float32")
    model.fit(x, x.sum(axis=(1, 2))[:, None], verbose=0)
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert model.predict(x, verbose=0).shape == (8, 1)


def test_integer_input_trains_like_float_input():
    """Keras casts integer input to float and trains (checked with Keras on JAX)."""
    x = np.random.default_rng(0).integers(0, 5, (16, 5, 1))
    y = x.sum(axis=1).astype("float32")
    histories = []
    for data in (x, x.astype("float32")):
        torch.manual_seed(0)
        model = Sequential([layers.Input((None, 1)), LSTM(4), Dense(1)])
        model.compile("adam", "mse")
        histories.append(model.fit(data, y, epochs=2, shuffle=False, verbose=0).history["loss"])
    assert histories[0] == histories[1]


def test_ci_fails_instead_of_skipping_without_the_compiled_core(monkeypatch):
    """Under CI=true a missing compiled core stops the run before any native test could turn
    into a skip."""
    import conftest

    monkeypatch.setattr(conftest, "IN_CI", True)
    monkeypatch.setattr(conftest.native, "available", lambda: False)
    with pytest.raises(pytest.UsageError, match="compiled core is not installed"):
        conftest.pytest_sessionstart(None)
    monkeypatch.setattr(conftest, "IN_CI", False)
    conftest.pytest_sessionstart(None)  # elsewhere the native tests skip instead
