"""The one place where gate orders and weight layouts are permuted.

Keras (and rnnkit) store `kernel (I, G·H)`, `recurrent_kernel (H, G·H)` with gate blocks side by
side; torch.nn stores `weight_ih (G·H, I)`, `weight_hh (G·H, H)` and two biases.
    LSTM: Keras i, f, c, o  = torch i, f, g, o       (same order)
    GRU:  Keras z, r, h     → torch r, z, n          (reset_after=True only; bias rows x, h)
    SimpleRNN: one block.
"""

from __future__ import annotations

import torch

# For each cell, torch's gate blocks in terms of Keras's: torch block j is Keras block ORDER[j].
KERAS_TO_TORCH_ORDER = {"simple_rnn": (0,), "lstm": (0, 1, 2, 3), "gru": (1, 0, 2)}


def _blocks(w: torch.Tensor, order, axis: int) -> torch.Tensor:
    """Reorder the gate blocks of w along `axis`."""
    chunks = w.chunk(len(order), dim=axis)
    return torch.cat([chunks[j] for j in order], dim=axis)


def _inverse(order):
    return tuple(sorted(range(len(order)), key=lambda j: order[j]))


def keras_to_torch(cell: str, kernel, recurrent_kernel, bias=None, reset_after=True):
    """(weight_ih, weight_hh, bias_ih, bias_hh) of torch.nn for Keras-layout weights."""
    if cell == "gru" and not reset_after:
        raise ValueError("GRU with reset_after=False has no torch.nn.GRU equivalent: torch applies "
                         "the reset gate after the recurrent product (reset_after=True).")
    order = KERAS_TO_TORCH_ORDER[cell]
    weight_ih = _blocks(kernel, order, axis=1).T.contiguous()
    weight_hh = _blocks(recurrent_kernel, order, axis=1).T.contiguous()
    width = weight_ih.shape[0]
    if bias is None:
        b_ih = b_hh = kernel.new_zeros(width)
    elif cell == "gru":
        b_ih, b_hh = _blocks(bias[0], order, 0), _blocks(bias[1], order, 0)
    else:
        b_ih, b_hh = _blocks(bias, order, 0), bias.new_zeros(width)
    return weight_ih, weight_hh, b_ih, b_hh


def torch_to_keras(cell: str, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """Keras-layout [kernel, recurrent_kernel, bias] for torch.nn weights (biases summed where
    Keras has one bias; GRU keeps both rows)."""
    order = _inverse(KERAS_TO_TORCH_ORDER[cell])
    kernel = _blocks(weight_ih.T, order, axis=1).contiguous()
    recurrent_kernel = _blocks(weight_hh.T, order, axis=1).contiguous()
    if bias_ih is None:
        return [kernel, recurrent_kernel]
    b_ih, b_hh = _blocks(bias_ih, order, 0), _blocks(bias_hh, order, 0)
    bias = torch.stack([b_ih, b_hh]) if cell == "gru" else b_ih + b_hh
    return [kernel, recurrent_kernel, bias]


# ONNX (RNN, LSTM, GRU operators): W [G·H, I], R [G·H, H], B [2·G·H] = [Wb, Rb] per direction.
#   LSTM: ONNX i, o, f, c   ← Keras i, f, c, o
#   GRU:  ONNX z, r, h      = Keras z, r, h   (linear_before_reset = reset_after)
KERAS_TO_ONNX_ORDER = {"simple_rnn": (0,), "lstm": (0, 3, 1, 2), "gru": (0, 1, 2)}


def keras_to_onnx(cell: str, kernel, recurrent_kernel, bias=None, reset_after=True):
    """(W, R, B) of one direction of an ONNX RNN/LSTM/GRU node for Keras-layout weights; both GRU
    forms are exact (reset_after=False is linear_before_reset=0)."""
    order = KERAS_TO_ONNX_ORDER[cell]
    w = _blocks(kernel, order, axis=1).T.contiguous()
    r = _blocks(recurrent_kernel, order, axis=1).T.contiguous()
    width = w.shape[0]
    if bias is None:
        b = kernel.new_zeros(2 * width)
    elif cell == "gru" and reset_after:
        b = torch.cat([_blocks(bias[0], order, 0), _blocks(bias[1], order, 0)])
    else:
        b = torch.cat([_blocks(bias, order, 0), bias.new_zeros(width)])
    return w, r, b
