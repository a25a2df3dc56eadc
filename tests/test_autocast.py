"""bfloat16 autocast: every cell's products take bfloat16, its gates and states stay float32.
Measured against real Keras's float32 numbers (tests/data/keras_golden.*): the error grows from
float32 rounding to bfloat16's, and no further."""

import numpy as np
import pytest
import torch

from rnnkit import layers
from rnnkit.backends import native
from rnnkit.models import Sequential
from helpers import Golden, needs_native

CASES = sorted(Golden().meta["layers"])
BF16 = 2.0 ** -8  # bfloat16's relative rounding step


def _golden_layer(golden, case):
    meta = golden.meta["layers"][case]
    layer = getattr(layers, meta["class"])(**meta["config"])
    x = torch.from_numpy(golden[f"{case}/x"])
    layer.build((None,) + tuple(x.shape[1:]))
    layer.set_weights(golden.seq(f"{case}/w", meta["n_weights"]))
    initial = [torch.from_numpy(golden[f"{case}/h0_{j}"]) for j in range(meta["n_initial_states"])]
    return layer, x, {"initial_state": initial} if initial else {}


def _errors(golden, case, outs):
    return [np.abs(o.detach().numpy() - golden[f"{case}/out{k}"]).max() for k, o in enumerate(outs)]


@pytest.mark.parametrize("case", CASES)
def test_bf16_outputs_are_float32_within_bf16_rounding_of_keras(golden, case):
    layer, x, kwargs = _golden_layer(golden, case)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x, **kwargs)
    outs = out if isinstance(out, list) else [out]
    assert layer.last_backend == "reference"
    assert all(o.dtype == torch.float32 for o in outs)  # states (h, c) included
    errors = _errors(golden, case, outs)
    # outputs are bounded by 1 here (tanh, sigmoid; relu's stay below 1 in these cases): a few
    # bfloat16 steps over six time steps, where float32 gives 1e-7
    assert max(errors) < 2 * BF16
    assert max(errors) > 1e-5  # the products really were bfloat16


def test_bf16_gradients_are_close_to_float32():
    torch.manual_seed(0)
    for cls in ("SimpleRNN", "LSTM", "GRU"):
        layer = getattr(layers, cls)(16, backend="reference")
        x = torch.randn(8, 12, 3)
        layer.build((None, 12, 3))
        grads = []
        for enabled in (False, True):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled):
                loss = layer(x).square().sum()
            grads.append(torch.autograd.grad(loss, layer.weights))
        for g32, g16 in zip(*grads):
            assert g16.dtype == torch.float32
            assert (g16 - g32).norm() <= 4 * BF16 * g32.norm()


def test_training_under_autocast_follows_float32_training():
    torch.manual_seed(0)
    x, y = torch.randn(32, 10, 2), torch.randn(32, 1)
    runs = []
    for enabled in (False, True):
        torch.manual_seed(1)
        model = Sequential([layers.Input((10, 2)), layers.GRU(8, reset_after=False),
                            layers.Dense(1)])
        model.compile(optimizer="adam", loss="mean_squared_error")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled):
            history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        assert all(w.dtype == torch.float32 for w in model.weights)
        runs.append(history.history["loss"])
    np.testing.assert_allclose(runs[1], runs[0], rtol=8 * BF16)
    assert runs[1] != runs[0]


@needs_native
def test_native_refuses_autocast_by_name():
    layer = layers.LSTM(4, backend="native")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with pytest.raises(ValueError, match=r"lstm: backend='native' does not run torch.autocast"):
            layer(torch.zeros(2, 3, 1))
