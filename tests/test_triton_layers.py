"""Layers on backend="triton" against the reference loop, through Triton's interpreter on the CPU
(the kernels themselves are tested in test_triton.py), or compiled on CUDA tensors where CUDA is: Keras's outputs at masked steps,
go_backwards, states, input and recurrent dropout, bfloat16 autocast."""

import pytest
import torch

from rnnkit import layers
from helpers import TRITON_DEVICE, outputs_and_grads, twin_layers

CELLS = [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})]
HOLES = torch.tensor([[1, 0, 1, 1, 0], [0, 0, 1, 0, 1], [1, 1, 1, 1, 1]], dtype=torch.bool)


def _pair(cls, kwargs, **options):
    return twin_layers(cls, ("triton", "reference"), 20, 0.5, device=TRITON_DEVICE, seed=4,
                       **kwargs, **options)


@pytest.mark.parametrize("cls, kwargs", CELLS)
@pytest.mark.parametrize("options", [
    {"return_sequences": True, "return_state": True},
    {"return_sequences": True, "go_backwards": True},
    {"return_sequences": True, "zero_output_for_mask": True},
    {"zero_output_for_mask": True, "return_state": True},
    {"go_backwards": True},
    {"dropout": 0.3, "recurrent_dropout": 0.4, "return_sequences": True},
])
def test_values_and_gradients_equal_the_reference(cls, kwargs, options):
    fast, slow = _pair(cls, kwargs, **options)
    x = torch.randn(3, 5, 3, device=TRITON_DEVICE, requires_grad=True)
    call = {"mask": HOLES.to(TRITON_DEVICE), "training": True}
    got, want = outputs_and_grads(fast, x, **call), outputs_and_grads(slow, x, **call)
    assert fast.last_backend == "triton"
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls, kwargs", CELLS)
def test_bf16_autocast_costs_what_torchs_autocast_costs(cls, kwargs):
    """Under bfloat16 autocast the kernel's products take bf16 operands (emulated exactly in the
    interpreter) while its states stay float32: its outputs are float32, differ from the
    float32 run, and by no more than the reference loop under torch's own autocast does."""
    fast, slow = _pair(cls, kwargs, return_sequences=True, return_state=True)
    x = torch.randn(3, 5, 3, device=TRITON_DEVICE)
    with torch.no_grad():
        want = fast(x)
        with torch.autocast(TRITON_DEVICE, dtype=torch.bfloat16):
            got, torchs = fast(x), slow(x)
    assert fast.last_backend == "triton"
    assert all(a.dtype == torch.float32 for a in got)
    error = max(float((a - b).abs().max()) for a, b in zip(got, want))
    torch_error = max(float((a - b).abs().max()) for a, b in zip(torchs, want))
    assert 0 < error <= 1.5 * torch_error


def test_what_triton_cannot_compute_is_refused_by_name():
    layer = layers.LSTM(4, recurrent_activation="hard_sigmoid", backend="triton")
    with pytest.raises(ValueError, match="lstm: backend='triton' does not run activation 'tanh' "
                                         "and recurrent_activation 'hard_sigmoid'"):
        layer.to(TRITON_DEVICE)(torch.zeros(2, 3, 1, device=TRITON_DEVICE))
