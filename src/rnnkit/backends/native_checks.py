"""The checks at the native seam: every tensor that `rnnkit::recurrent_forward` and
`rnnkit::recurrent_backward` hand to the compiled core is verified (dtype, device, shape) against
the sizes the call implies before its address crosses, so the public ops raise one clear error
for any inconsistent call instead of reading past a buffer. The core checks every buffer's
element count again (csrc/seam.h)."""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import Tensor

from .. import cells
from . import native


class Sizes(NamedTuple):
    """One call's sizes and its cell, as the compiled core lists it."""
    B: int
    T: int
    I: int
    H: int
    spec: cells.CellSpec
    info: native.CellInfo


def fail(op: str, what: str, expected: str, got) -> ValueError:
    return ValueError(f"rnnkit::{op}: expected {what} {expected}, got {got}.")


def describe(t: Optional[Tensor]) -> str:
    if t is None:
        return "None"
    return f"shape {tuple(t.shape)} {t.dtype} on {t.device.type}"


def tensor(op: str, what: str, t: Optional[Tensor], shape: Optional[tuple], *, required=True,
           dtype=torch.float32) -> None:
    """t is a CPU tensor of `dtype` and `shape` (or None where not required; shape None: t
    must be None)."""
    if t is None:
        if required and shape is not None:
            raise fail(op, what, f"of shape {shape} ({dtype})", "None")
        return
    if shape is None:
        raise fail(op, what, "to be None for this cell", describe(t))
    if t.dtype != dtype or not t.is_cpu or t.shape != shape:
        raise fail(op, what, f"of shape {tuple(shape)} {dtype} on cpu", describe(t))


def cell(op: str, name: str, act: str, ract: str) -> tuple[cells.CellSpec, native.CellInfo]:
    info = native.CELLS.get(name)
    if info is None:
        raise fail(op, "cell", f"one of {tuple(native.CELLS)}", repr(name))
    if act not in info.activations:
        raise fail(op, f"activation of {name}", f"one of {info.activations}", repr(act))
    if info.recurrent_activations and ract not in info.recurrent_activations:
        raise fail(op, f"recurrent activation of {name}", f"one of {info.recurrent_activations}",
                   repr(ract))
    return cells.get(name), info


def sizes(op: str, x: Tensor, kernel: Tensor, recurrent_kernel: Tensor, name: str, act: str,
          ract: str) -> Sizes:
    """The call's sizes from x (B, T, I) and the recurrent kernel (H, G·H), each checked."""
    spec, info = cell(op, name, act, ract)
    if x.dim() != 3 or min(x.shape) < 1:
        raise fail(op, "x", "of shape (B, T, I) with every size >= 1", describe(x))
    if recurrent_kernel.dim() != 2 or recurrent_kernel.shape[0] < 1:
        raise fail(op, "recurrent_kernel", f"of shape (H, {info.gates}·H)",
                   describe(recurrent_kernel))
    B, T, I = x.shape
    H = recurrent_kernel.shape[0]
    tensor(op, "x", x, (B, T, I))
    tensor(op, "kernel", kernel, (I, info.gates * H))
    tensor(op, "recurrent_kernel", recurrent_kernel, (H, info.gates * H))
    return Sizes(B, T, I, H, spec, info)


def states(op: str, s: Sizes, h: Optional[Tensor], c: Optional[Tensor], names=("h0", "c0"),
           required=True) -> None:
    """h (B, H), and c (B, H) exactly when the cell has a cell state."""
    tensor(op, names[0], h, (s.B, s.H), required=required)
    has_c = "c" in s.spec.state_names
    tensor(op, names[1], c, (s.B, s.H) if has_c else None, required=required)


def extras(op: str, s: Sizes, lengths: Optional[Tensor], masks: Optional[Tensor]) -> None:
    """Per-row lengths (B,) int32 in 0..T, and recurrent dropout masks (G, B, H)."""
    tensor(op, "lengths", lengths, (s.B,), required=False, dtype=torch.int32)
    if lengths is not None and bool(((lengths < 0) | (lengths > s.T)).any()):
        raise fail(op, "lengths", f"in 0..{s.T}", lengths.tolist())
    tensor(op, "recurrent_masks", masks, (s.info.gates, s.B, s.H), required=False)


def forward(x, kernel, recurrent_kernel, input_bias, recurrent_bias, h0, c0, name, act, ract,
            lengths, masks) -> Sizes:
    op = "recurrent_forward"
    s = sizes(op, x, kernel, recurrent_kernel, name, act, ract)
    width = s.info.gates * s.H
    tensor(op, "input_bias", input_bias, (width,), required=False)
    tensor(op, "recurrent_bias", recurrent_bias, (width,) if s.spec.recurrent_bias else None,
           required=False)
    states(op, s, h0, c0)
    extras(op, s, lengths, masks)
    return s


def backward(x, kernel, recurrent_kernel, h0, c0, y, ws, dy, dh_t, dc_t, name, act, ract,
             lengths, masks, padded_units) -> Sizes:
    """As forward, and the forward's outputs: y (T, B, H), the workspace (T, B, S·Hp) with Hp
    = padded_units(H), and the incoming gradients."""
    op = "recurrent_backward"
    s = sizes(op, x, kernel, recurrent_kernel, name, act, ract)
    states(op, s, h0, c0)
    tensor(op, "y", y, (s.T, s.B, s.H))
    saved = s.info.saved * padded_units(s.H)
    tensor(op, "ws", ws, (s.T, s.B, saved) if saved else (0,))
    tensor(op, "dy", dy, (s.T, s.B, s.H), required=False)
    states(op, s, dh_t, dc_t, names=("dh_t", "dc_t"), required=False)
    extras(op, s, lengths, masks)
    return s
