"""The cudnn backend: PyTorch's own fused RNN operators (cuDNN on CUDA) on rnnkit's weights.

torch.nn.LSTM, GRU and RNN compute exactly a Keras layer's function for: LSTM with tanh and
sigmoid; GRU with reset_after=True, tanh and sigmoid; SimpleRNN with tanh or relu; with no
recurrent dropout (Keras's variational masks have no cuDNN equivalent). The Keras-layout weights
are mapped to torch's layout by `interop._gates.keras_to_torch` (the one place that permutes gate
orders) inside the graph, so gradients reach the Keras weights. On the CPU the same operators run
torch's own CPU kernels: `backend="cudnn"` can be asked for there (tests do), `auto` takes it on
CUDA only.

A right-padded mask becomes a packed sequence, so each row stops at its length and returns its
state there; the caller arranges Keras's outputs at the padded steps.
"""

from __future__ import annotations

import contextlib
import warnings

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..interop._gates import keras_to_torch

# (spec name, activation) → torch's fused operator computing exactly that cell (gates sigmoid).
_OPS = {("lstm", "tanh"): torch._VF.lstm, ("gru", "tanh"): torch._VF.gru,
        ("simple_rnn", "tanh"): torch._VF.rnn_tanh, ("simple_rnn", "relu"): torch._VF.rnn_relu}


def refusal(call) -> str | None:
    """Why torch's fused operator cannot compute this call exactly, or None when it can: the
    cells and activations in _OPS, with a sigmoid recurrent activation, any float dtype, a
    right-padded mask with no empty row, input dropout, go_backwards; nothing else."""
    if call.autocast is not None:
        return f"torch.autocast ({call.autocast}): cuDNN would keep the states in {call.autocast}"
    why = call.weights_refusal() or call.unknown_options()
    if why is not None:
        return why
    if call.spec.name == "gru_reset_before":
        return "GRU with reset_after=False"
    if (call.spec.name, call.act) not in _OPS:
        return f"activation '{call.act or '<custom>'}' for {call.spec.name}"
    if call.ract not in (None, "sigmoid"):
        return f"recurrent_activation '{call.ract}'"
    if call.recurrent_masks is not None:
        return "recurrent_dropout"
    if not call.x.is_floating_point():
        return f"{call.x.dtype} inputs"
    why = call.right_padded_refusal()  # the ones that read data (a sync on CUDA) last
    if why is None and call.mask is not None and bool((call.lengths == 0).any()):
        return "a row with every step masked"
    return why or call.input_dropout_refusal()


def sequence(call, x, kernel, lengths=None):
    """(outputs (batch, time, units), final states) of the call's cell over x from its states;
    with `lengths`, row b runs its first lengths[b] steps (its outputs beyond are zeros and its
    final states are those at its last real step)."""
    states = call.states
    bias = call.input_bias  # GRU: its two rows again, (2, 3H)
    if call.recurrent_bias is not None:
        bias = torch.stack([call.input_bias, call.recurrent_bias])
    params = keras_to_torch(call.spec.family, kernel, call.recurrent_kernel, bias)
    op = _OPS[(call.spec.name, call.act)]
    tensors = (x, *states, *params)
    train = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)

    def run(x, *tensors):
        hx = tuple(s.unsqueeze(0) for s in tensors[: len(states)])
        hx = hx if len(hx) == 2 else hx[0]
        weights = list(tensors[len(states):])
        if lengths is not None:
            return _packed(op, x, hx, weights, lengths, train)
        y, *final = op(x, hx, weights, True, 1, 0.0, train, False, True)
        return y, *(h.squeeze(0) for h in final)

    if train:
        y, *final = _Float32.apply(run, *tensors)
    else:
        with _float32():
            y, *final = run(*tensors)
    return y, tuple(final)


@contextlib.contextmanager
def _float32():
    """cuDNN's RNNs may round to TF32 (torch.backends.cudnn.allow_tf32, on by default) where
    torch's matrix products do not (torch.backends.cuda.matmul.allow_tf32, off by default):
    here they follow the matrix products' setting, so that `auto` computes what the reference
    loop computes unless the user allowed TF32 for both. (Also quiet: weights that are not one
    flattened buffer are compacted at each call; these are views of Keras's weights.)"""
    cudnn_flags = torch.backends.cudnn
    saved = cudnn_flags.allow_tf32
    cudnn_flags.allow_tf32 = torch.backends.cuda.matmul.allow_tf32
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*contiguous chunk of memory.*")
            yield
    finally:
        cudnn_flags.allow_tf32 = saved


class _Float32(torch.autograd.Function):
    """run(*tensors) under `_float32` in the forward and in the backward: cuDNN reads the TF32
    flag again when autograd runs its backward, after the forward's context has closed. The
    forward records run's own graph and the backward differentiates it (no double backward)."""

    @staticmethod
    def forward(ctx, run, *tensors):
        with torch.enable_grad(), _float32():
            leaves = [t.detach().requires_grad_(t.requires_grad) for t in tensors]
            outputs = run(*leaves)
        ctx.graph = leaves, outputs
        return tuple(o.detach() for o in outputs)

    @staticmethod
    def backward(ctx, *grads):
        leaves, outputs = ctx.graph
        wanted = [t for t in leaves if t.requires_grad]
        pairs = [(o, g) for o, g in zip(outputs, grads) if g is not None and o.requires_grad]
        with _float32():
            found = iter(torch.autograd.grad([o for o, _ in pairs], wanted,
                                             [g for _, g in pairs], allow_unused=True))
        return None, *(next(found) if t.requires_grad else None for t in leaves)


def _packed(op, x, hx, weights, lengths, train):
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    order, back = packed.sorted_indices, packed.unsorted_indices
    hx = tuple(h.index_select(1, order) for h in hx) if isinstance(hx, tuple) else \
        hx.index_select(1, order)
    y, *final = op(packed.data, packed.batch_sizes, hx, weights, True, 1, 0.0, train, False)
    y, _ = pad_packed_sequence(packed._replace(data=y), batch_first=True,
                               total_length=x.shape[1])
    return y, *(h.index_select(1, back).squeeze(0) for h in final)
