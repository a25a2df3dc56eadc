"""Every recurrent path on CUDA against the reference loop: cuDNN where it computes the layer's
function, the Triton kernel for the rest (GRU reset_after=False, masks that are not
right-padded, recurrent dropout, bfloat16 autocast). Runs where torch sees a CUDA device."""

import numpy as np
import pytest
import torch

from rnnkit import layers
from rnnkit.models import Sequential
from helpers import outputs_and_grads, twin_layers

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CELLS = [("SimpleRNN", {}), ("SimpleRNN", {"activation": "relu"}), ("LSTM", {}), ("GRU", {}),
         ("GRU", {"reset_after": False})]
PADDED = torch.arange(7) < torch.tensor([7, 4, 1, 6, 7, 2])[:, None]
HOLES = torch.rand(6, 7, generator=torch.Generator().manual_seed(2)) > 0.3


def _pair(cls, kwargs, **options):
    return twin_layers(cls, ("auto", "reference"), 24, 0.4, device="cuda", seed=5, **kwargs,
                       **options)


def _expected_backend(cls, kwargs, mask, dropout):
    exact = not (kwargs.get("reset_after") is False or dropout or mask is HOLES)
    if exact:
        return "cudnn"
    return "reference" if kwargs.get("activation") == "relu" else "triton"  # tanh only


@pytest.mark.parametrize("cls, kwargs", CELLS)
@pytest.mark.parametrize("mask", [None, PADDED, HOLES], ids=["unmasked", "padded", "holes"])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_auto_equals_the_reference_on_cuda(cls, kwargs, mask, dropout):
    fast, slow = _pair(cls, kwargs, return_sequences=True, return_state=True,
                       recurrent_dropout=dropout)
    x = torch.randn(6, 7, 3, device="cuda", requires_grad=True)
    m = None if mask is None else mask.cuda()
    got = outputs_and_grads(fast, x, mask=m, training=True)
    want = outputs_and_grads(slow, x, mask=m, training=True)
    assert fast.last_backend == _expected_backend(cls, kwargs, mask, dropout)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("cls, kwargs", CELLS[:1] + CELLS[2:])
def test_bf16_autocast_runs_triton_with_float32_states(cls, kwargs):
    fast, _ = _pair(cls, kwargs, return_sequences=True, return_state=True)
    x = torch.randn(6, 7, 3, device="cuda")
    want = fast(x)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        got = fast(x)
    assert fast.last_backend == "triton"
    for a, b in zip(got, want):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=0, atol=2 * 2.0 ** -8)


def test_training_on_cuda_follows_the_cpu():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 12, 2)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None]
    losses, weights = [], None
    for device in ("cpu", "cuda"):
        model = Sequential([layers.Input((12, 2)), layers.LSTM(16, return_sequences=True),
                            layers.GRU(8, reset_after=False), layers.Dense(1)]).to(device)
        weights = weights or model.get_weights()
        model.set_weights(weights)
        model.compile("adam", "mse")
        losses.append(model.fit(x, y, batch_size=16, epochs=3, shuffle=False,
                                verbose=0).history["loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
