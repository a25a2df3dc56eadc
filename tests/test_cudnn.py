"""The cudnn backend (torch's fused RNN operators on rnnkit's Keras-layout weights) against the
reference loop, in float64, for values and gradients. On the CPU these operators run torch's own
CPU kernels; the same mapping feeds cuDNN on CUDA (tests/test_cuda.py)."""

import pytest
import torch

from rnnkit import layers
from helpers import outputs_and_grads, twin_layers

CASES = [("SimpleRNN", {}), ("SimpleRNN", {"activation": "relu"}), ("LSTM", {}),
         ("LSTM", {"unit_forget_bias": False}), ("GRU", {}), ("GRU", {"use_bias": False})]


def _pair(cls, kwargs, **options):
    """The same layer in float64 on the cudnn and reference backends."""
    return twin_layers(cls, ("cudnn", "reference"), 5, 0.6, dtype="float64", **kwargs, **options)


def _inputs(cls, batch=4, time=6):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, time, 3, generator=g, dtype=torch.float64, requires_grad=True)
    states = 2 if cls == "LSTM" else 1
    initial = [torch.randn(batch, 5, generator=g, dtype=torch.float64, requires_grad=True)
               for _ in range(states)]
    return x, initial


def _compare(fast, slow, *args, **kwargs):
    got, want = outputs_and_grads(fast, *args, **kwargs), outputs_and_grads(slow, *args, **kwargs)
    assert fast.last_backend == "cudnn" and slow.last_backend == "reference"
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls, kwargs", CASES)
@pytest.mark.parametrize("options", [{}, {"return_sequences": True, "return_state": True},
                                     {"go_backwards": True, "return_sequences": True}])
def test_values_and_gradients_equal_the_reference(cls, kwargs, options):
    fast, slow = _pair(cls, kwargs, **options)
    x, initial = _inputs(cls)
    _compare(fast, slow, x, initial_state=initial)


@pytest.mark.parametrize("cls, kwargs", CASES)
@pytest.mark.parametrize("options", [{"return_sequences": True},
                                     {"return_sequences": True, "zero_output_for_mask": True},
                                     {"return_sequences": True, "go_backwards": True},
                                     {"return_state": True}])
def test_right_padded_mask_equals_the_reference(cls, kwargs, options):
    fast, slow = _pair(cls, kwargs, **options)
    x, initial = _inputs(cls)
    mask = torch.arange(6) < torch.tensor([6, 3, 1, 5])[:, None]
    _compare(fast, slow, x, mask=mask, initial_state=initial)


def test_input_dropout_equals_the_reference():
    fast, slow = _pair("LSTM", {}, dropout=0.4, seed=3, return_sequences=True)
    x, _ = _inputs("LSTM")
    _compare(fast, slow, x, training=True)
    # the masks really dropped something: without them the output differs
    assert not torch.allclose(fast(x, training=True), fast(x, training=False))


@pytest.mark.parametrize("make, why", [
    (lambda: layers.GRU(5, reset_after=False, backend="cudnn"), "GRU with reset_after=False"),
    (lambda: layers.LSTM(5, recurrent_dropout=0.5, backend="cudnn"), "recurrent_dropout"),
    (lambda: layers.LSTM(5, recurrent_activation="hard_sigmoid", backend="cudnn"),
     "recurrent_activation 'hard_sigmoid'"),
    (lambda: layers.SimpleRNN(5, activation="sigmoid", backend="cudnn"), "activation 'sigmoid'"),
])
def test_what_cudnn_cannot_compute_is_refused_by_name(make, why):
    layer = make()
    with pytest.raises(ValueError, match=f"{layer.name}: backend='cudnn' does not run {why}"):
        layer(torch.zeros(2, 3, 1), training=True)


def test_masks_cudnn_cannot_run_are_refused():
    layer = layers.LSTM(5, backend="cudnn")
    with pytest.raises(ValueError, match="not right-padded"):
        layer(torch.zeros(2, 3, 1), mask=torch.tensor([[False, True, True], [True] * 3]))
    with pytest.raises(ValueError, match="every step masked"):
        layer(torch.zeros(2, 3, 1), mask=torch.tensor([[False] * 3, [True] * 3]))


def test_auto_never_takes_cudnn_on_the_cpu():
    layer = layers.LSTM(5)
    layer(torch.zeros(2, 3, 1))
    assert layer.last_backend in ("native", "reference")


def test_autocast_is_refused_by_cudnn():
    layer = layers.LSTM(5, backend="cudnn")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with pytest.raises(ValueError, match="autocast"):
            layer(torch.zeros(2, 3, 1))


def test_cudnn_runs_forward_and_backward_without_tf32(monkeypatch):
    """cuDNN reads torch.backends.cudnn.allow_tf32 (on by default) in the forward and again in
    the backward; both must see torch's matrix-product setting (TF32 off by default), and the
    user's flag must come back."""
    from rnnkit.backends import cudnn

    seen = []
    real = cudnn._OPS[("lstm", "tanh")]

    def spy(*args):
        seen.append(("forward", torch.backends.cudnn.allow_tf32))
        y, *final = real(*args)
        y.register_hook(lambda g: seen.append(("backward", torch.backends.cudnn.allow_tf32)))
        return y, *final

    monkeypatch.setitem(cudnn._OPS, ("lstm", "tanh"), spy)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    layer = layers.LSTM(4, backend="cudnn")
    x = torch.randn(2, 3, 1, requires_grad=True)
    layer(x).sum().backward()
    assert seen == [("forward", False), ("backward", False)]
    assert torch.backends.cudnn.allow_tf32 and x.grad is not None
