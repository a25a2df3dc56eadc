"""The torch custom ops around the compiled loop (see native.py), with autograd and fake
(shape-only) implementations, so that autograd, torch.library.opcheck and torch.compile see one
op per layer call. Eager calls take the same implementation and formula through a plain
autograd.Function (`sequence`), which skips the custom op's dispatch layers."""

from __future__ import annotations

import math
import threading
from typing import Optional

import torch
from torch import Tensor

from .. import cells
from . import native, native_checks, packing


def module():
    return native.module()


def _hp(units: int) -> int:
    w = module().VECTOR_WIDTH
    return -(-units // w) * w


def pad_gates(w: Tensor, gates: int, units: int, hp: int) -> Tensor:
    """(..., G·H) → (..., G·Hp): each gate block zero-padded to Hp units."""
    if hp == units:
        return w.contiguous()
    blocks = w.reshape(*w.shape[:-1], gates, units)
    return torch.nn.functional.pad(blocks, (0, hp - units)).reshape(*w.shape[:-1], gates * hp)


def unpad_gates(w: Tensor, gates: int, units: int, hp: int) -> Tensor:
    """(..., G·Hp) → (..., G·H), contiguous (as the op's fake implementation promises)."""
    if hp == units:
        return w.contiguous()
    blocks = w.reshape(*w.shape[:-1], gates, hp)[..., :units]
    return blocks.reshape(*w.shape[:-1], gates * units).contiguous()


def _time_major(x: Tensor, go_backwards: bool) -> Tensor:
    """(T, B, I) in processing order, contiguous."""
    return (x.flip(1) if go_backwards else x).transpose(0, 1).contiguous()


def _codes(info, act: str, ract: str) -> dict:
    """The core's activation codes (a cell without a recurrent activation ignores `ract`)."""
    return {"act": native.ACTIVATIONS[act],
            "ract": native.ACTIVATIONS[ract] if info.recurrent_activations else 0}


def _row_args(lengths: Optional[Tensor], go_backwards: bool,
              recurrent_masks: Optional[Tensor]) -> dict:
    """The core's per-row arguments: lengths (a right-padded mask, met with its padding first
    when go_backwards) and the recurrent dropout masks."""
    return {"len": native.buf(lengths), "padded_first": go_backwards and lengths is not None,
            "rm": native.buf(None if recurrent_masks is None else recurrent_masks.contiguous())}


def _empty(like: Tensor) -> Tensor:
    return like.new_empty((0,))


# Up to this many input features, backward's loop sums [x, 1]ᵀ dG itself (csrc/loop.h).
# Measured against the product after the loop (training step, B=32, T=100, H=128): 3-8 % faster
# at I = 1, even at I = 4, 3-9 % slower at I = 8.
FOLDED_INPUTS = 2

# The largest gate-gradient buffer kept between backward calls, in elements (64 MiB of float32).
KEPT_GATE_GRADS = 16 * 2**20

_scratch = threading.local()


def _gate_grads_buffer(like: Tensor, shape: tuple) -> Tensor:
    """backward's (T, B, D·Hp) gate gradients: used only inside one backward call, so the buffer
    is kept for the next call (one per thread, the size of the largest so far, up to
    KEPT_GATE_GRADS). A fresh buffer of this size is page-faulted in by the kernel's threads on
    every call: measured 0.97 ms against 1.45 ms for the SimpleRNN backward at B=32, T=100,
    H=128."""
    n = math.prod(shape)
    if n > KEPT_GATE_GRADS:  # large problems pay the page faults rather than pin the memory
        return like.new_empty(shape)
    buf = getattr(_scratch, "gate_grads", None)
    if buf is None or buf.numel() < n or buf.dtype != like.dtype or buf.device != like.device:
        buf = _scratch.gate_grads = like.new_empty((n,))
    return buf[:n].view(shape)


def _forward_impl(x: Tensor, kernel: Tensor, recurrent_kernel: Tensor,
                  input_bias: Optional[Tensor], recurrent_bias: Optional[Tensor], h0: Tensor,
                  c0: Optional[Tensor], cell: str, act: str, ract: str, go_backwards: bool,
                  full_sequence: bool, training: bool, lengths: Optional[Tensor] = None,
                  recurrent_masks: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(y, h_T, c_T, workspace): y is time-major (T, B, H) when full_sequence, else (B, H).
    cell: a spec name the core lists (native.CELLS); act, ract: activation names it lists.
    lengths (B,) int32, for a right-padded mask in processing order: h_T, c_T are then each
    row's states after its last real step. recurrent_masks (G, B, H): Keras's recurrent dropout,
    gate g's product taking h ⊙ m_g. Every argument is checked first (native_checks)."""
    B, T, I, H, spec, info = native_checks.forward(
        x, kernel, recurrent_kernel, input_bias, recurrent_bias, h0, c0, cell, act, ract,
        lengths, recurrent_masks)
    G, hp = info.gates, _hp(H)
    xs = _time_major(x, go_backwards)
    w = packing.panels(kernel, G, H, hp)
    bx = None if input_bias is None else pad_gates(input_bias, G, H, hp)
    u = packing.panels(recurrent_kernel, G, H, hp)
    bh = None if recurrent_bias is None else pad_gates(recurrent_bias, G, H, hp)
    y = x.new_empty((T, B, H) if full_sequence else (B, H))
    h_t = x.new_empty((B, H))
    c_t = x.new_empty((B, H)) if c0 is not None else _empty(x)
    ws = x.new_empty((T, B, info.saved * hp)) if training and info.saved else _empty(x)
    buf = native.buf
    module().forward(cell=info.code, B=B, T=T, I=I, H=H, Hp=hp, **_codes(info, act, ract),
                     seq=full_sequence, training=training, threads=torch.get_num_threads(),
                     split=native.split(), cores=native.CORES, x=buf(xs), Wx=buf(w), bx=buf(bx),
                     U=buf(u), bh=buf(bh), h0=buf(h0.contiguous()),
                     c0=buf(None if c0 is None else c0.contiguous()), y=buf(y), hT=buf(h_t),
                     cT=buf(c_t), ws=buf(ws), **_row_args(lengths, go_backwards, recurrent_masks))
    return y, h_t, c_t, ws


recurrent_forward = torch.library.custom_op("rnnkit::recurrent_forward", mutates_args=())(_forward_impl)


@recurrent_forward.register_fake
def _(x, kernel, recurrent_kernel, input_bias, recurrent_bias, h0, c0, cell, act, ract,
      go_backwards, full_sequence, training, lengths=None, recurrent_masks=None):
    B, T, _ = x.shape
    H = recurrent_kernel.shape[0]
    info = native.CELLS[cell]
    y = x.new_empty((T, B, H) if full_sequence else (B, H))
    c_t = x.new_empty((B, H)) if c0 is not None else x.new_empty((0,))
    ws_shape = (T, B, info.saved * _hp(H)) if training and info.saved else (0,)
    return y, x.new_empty((B, H)), c_t, x.new_empty(ws_shape)


def _times_previous_states(h0: Tensor, y: Tensor, dg: Tensor) -> Tensor:
    """[h_0; y_1 … y_{T-1}]ᵀ dG without copying the states into one tensor: h_0ᵀ dG_1 plus
    y[:T-1]ᵀ dG[1:] (y is time-major, so both are plain views)."""
    B, H = h0.shape
    du = h0.T @ dg[:B]
    if y.shape[0] > 1:
        du.addmm_(y[:-1].reshape(-1, H).T, dg[B:])
    return du


def held_states(h0: Tensor, y: Tensor, lengths: Tensor, padded_first: bool) -> Tensor:
    """(T, B, H): the state each step starts from when rows hold their states at padded steps
    (csrc/problem.h, Problem::previous): the last real step's before it, or h0."""
    T, B, H = y.shape
    s = torch.arange(T, device=y.device)[:, None]
    n = lengths.to(device=y.device, dtype=torch.long)[None, :]
    first, last = (T - n, torch.full_like(n, T)) if padded_first else (torch.zeros_like(n), n)
    q = torch.minimum(s, last) - 1
    q = torch.where(q >= first, q, -1)
    return torch.cat([h0[None], y]).gather(0, (q + 1)[..., None].expand(-1, -1, H))


def _times_masked_states(h0: Tensor, y: Tensor, dg: Tensor, masks: Optional[Tensor],
                         hp: int, held: Optional[Tensor] = None) -> Tensor:
    """Σ_t h_{t-1}ᵀ dG_t (h_{t-1} from `held` when rows hold their states at padded steps), or
    with recurrent dropout masks, (h_{t-1} ⊙ m_g)ᵀ dG_g for each gate block g of dG."""
    def times(m, block):
        if held is not None:
            prev = held if m is None else held * m
            return prev.reshape(-1, prev.shape[-1]).T @ block
        return _times_previous_states(h0 if m is None else h0 * m, y if m is None else y * m,
                                      block)

    if masks is None:
        return times(None, dg)
    return torch.cat([times(m, dg[:, g * hp:(g + 1) * hp])
                      for g, m in enumerate(masks[: dg.shape[1] // hp])], dim=1)


@torch.library.custom_op("rnnkit::recurrent_backward", mutates_args=())
def recurrent_backward(x: Tensor, kernel: Tensor, recurrent_kernel: Tensor, h0: Tensor,
                       c0: Optional[Tensor], y: Tensor, ws: Tensor, dy: Optional[Tensor],
                       dh_t: Optional[Tensor], dc_t: Optional[Tensor], cell: str, act: str, ract: str,
                       go_backwards: bool, need_dx: bool, lengths: Optional[Tensor] = None,
                       recurrent_masks: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """(dx, d kernel, d recurrent_kernel, d input-side bias, d recurrent-side bias, dh0 ‖ dc0);
    dx is empty unless need_dx (a model's input rarely needs its gradient: one pass over dG
    saved). Every argument is checked first (native_checks)."""
    B, T, I, H, spec, info = native_checks.backward(
        x, kernel, recurrent_kernel, h0, c0, y, ws, dy, dh_t, dc_t, cell, act, ract, lengths,
        recurrent_masks, _hp)
    G, D, hp = info.gates, info.grad_blocks, _hp(H)
    has_c = c0 is not None
    ut = packing.transposed_panels(recurrent_kernel, G, H, hp)
    dg = _gate_grads_buffer(x, (T, B, D * hp))
    dh0 = x.new_empty((B, H))
    dc0 = x.new_empty((B, H)) if has_c else _empty(x)
    dy, dh_t, dc_t, c0 = (t if t is None else t.contiguous() for t in (dy, dh_t, dc_t, c0))
    xs = _time_major(x, go_backwards)
    # [x, 1]ᵀ dG (d kernel and the bias): summed by the loop while dG_t is in cache for a few
    # input features (per-thread partial sums), else one large product after it
    threads = torch.get_num_threads()
    dwb = x.new_zeros((threads, I + 1, D * hp)) if I <= FOLDED_INPUTS else None
    buf = native.buf
    module().backward(cell=info.code, B=B, T=T, I=I, H=H, Hp=hp, **_codes(info, act, ract),
                      threads=threads, split=native.split(), cores=native.CORES, UT=buf(ut),
                      ws=buf(ws.contiguous()), y=buf(y.contiguous()), h0=buf(h0.contiguous()),
                      c0=buf(c0), dy=buf(dy), dhT=buf(dh_t), dcT=buf(dc_t), dG=buf(dg),
                      dh0=buf(dh0), dc0=buf(dc0), x=buf(xs if dwb is not None else None),
                      dWb=buf(dwb), **_row_args(lengths, go_backwards, recurrent_masks))
    dg = dg.reshape(T * B, D * hp)
    xs = xs.reshape(T * B, I)
    if dwb is not None:
        dkb = dwb.sum(0)
    else:
        dkb = torch.cat([xs, xs.new_ones((T * B, 1))], dim=1).T @ dg
    # GRU reset_after's gradient blocks are z, r, da⊙r (recurrent side), da (input side);
    # every other cell's blocks serve both sides.
    unpad = lambda t: unpad_gates(t, G, H, hp)  # noqa: E731
    db_h = _empty(x)
    dg_h = dg
    if spec.recurrent_bias:
        dg_h = dg[:, : 3 * hp]
        db_h = unpad(dkb[I, : 3 * hp])
        dkb = torch.cat([dkb[:, : 2 * hp], dkb[:, 3 * hp:]], dim=1)
    dk, db_x = dkb[:I], dkb[I].clone()  # outputs of an op may not share storage
    # with a mask, the steps' own y past a row's length are not the states the next steps
    # started from (those were held): those states are gathered
    held = None if lengths is None else held_states(h0, y, lengths, go_backwards)
    if spec.name == "gru_reset_before":  # the candidate's product takes r ⊙ h_{t-1} (⊙ m_h)
        rh = ws.reshape(T * B, info.saved * hp)[:, 3 * hp: 3 * hp + H]
        du = torch.cat([_times_masked_states(h0, y, dg[:, : 2 * hp], recurrent_masks, hp, held),
                        rh.T @ dg[:, 2 * hp:]], dim=1)
    else:
        du = _times_masked_states(h0, y, dg_h, recurrent_masks, hp, held)
    dx = _empty(x)
    if need_dx:  # dG's input-side column blocks (views) times the padded kernel's
        wp = pad_gates(kernel, G, H, hp)
        if spec.recurrent_bias:
            dx = dg[:, : 2 * hp] @ wp[:, : 2 * hp].T
            dx.addmm_(dg[:, 3 * hp:], wp[:, 2 * hp:].T)
        else:
            dx = dg @ wp.T
        dx = dx.reshape(T, B, I)
        dx = (dx.flip(0) if go_backwards else dx).transpose(0, 1).contiguous()
    return (dx, unpad(dk), unpad(du), unpad(db_x), db_h,
            torch.cat([dh0, dc0.reshape(-1, H)], dim=0) if has_c else dh0)


@recurrent_backward.register_fake
def _(x, kernel, recurrent_kernel, h0, c0, y, ws, dy, dh_t, dc_t, cell, act, ract, go_backwards,
      need_dx, lengths=None, recurrent_masks=None):
    H = recurrent_kernel.shape[0]
    recurrent_bias = cells.get(cell).recurrent_bias
    db_h = x.new_empty((native.CELLS[cell].gates * H,) if recurrent_bias else (0,))
    states = x.new_empty((2 * x.shape[0] if c0 is not None else x.shape[0], H))
    # contiguous, whatever the inputs' strides, as the real implementation returns them
    return (x.new_empty(x.shape if need_dx else (0,)), x.new_empty(kernel.shape),
            x.new_empty(recurrent_kernel.shape),
            x.new_empty((kernel.shape[1],)), db_h, states)


def _setup_context(ctx, inputs, output):
    x, kernel, recurrent_kernel, input_bias, recurrent_bias, h0, c0, cell, act, ract, back, _, _ = inputs[:13]
    lengths, masks = (list(inputs[13:]) + [None, None])[:2]
    y, _, _, ws = output
    ctx.mark_non_differentiable(ws)
    ctx.set_materialize_grads(False)  # unused outputs send None, not tensors of zeros
    ctx.save_for_backward(x, kernel, recurrent_kernel, h0, c0, y, ws, lengths, masks)
    ctx.options = (cell, act, ract, back, input_bias is not None, recurrent_bias is not None,
                   inputs[12])


def _backward(ctx, dy, dh_t, dc_t, _dws):
    x, kernel, recurrent_kernel, h0, c0, y, ws, lengths, masks = ctx.saved_tensors
    cell, act, ract, back, has_in_bias, has_rec_bias, training = ctx.options
    if not training:
        raise RuntimeError("rnnkit native backend: backward through a forward pass run without "
                           "gradients enabled.")
    dx, dk, du, db_x, db_h, dstates = recurrent_backward(
        x, kernel, recurrent_kernel, h0, c0, y, ws, dy, dh_t, dc_t if c0 is not None else None,
        cell, act, ract, back, ctx.needs_input_grad[0], lengths, masks)
    B = x.shape[0]
    dc0 = dstates[B:] if c0 is not None else None
    return (dx if ctx.needs_input_grad[0] else None, dk, du, db_x if has_in_bias else None,
            db_h if has_rec_bias else None, dstates[:B], dc0, None, None, None, None, None, None,
            None, None)


recurrent_forward.register_autograd(_backward, setup_context=_setup_context)


class _EagerSequence(torch.autograd.Function):
    """recurrent_forward's implementation and autograd formula as a plain autograd.Function:
    eager calls skip the custom op's dispatch layers (measured 0.2 ms a call, 5 % of a seed
    model's train_on_batch). The backward still goes through the recurrent_backward op."""

    @staticmethod
    def forward(ctx, *inputs):
        output = _forward_impl(*inputs)
        _setup_context(ctx, inputs, output)
        return output

    backward = staticmethod(_backward)


def sequence(*inputs):
    """recurrent_forward with autograd: the custom op wherever torch.compile traces, the
    autograd.Function above otherwise; the same implementation and formula either way."""
    if torch.compiler.is_compiling():
        return recurrent_forward(*inputs)
    return _EagerSequence.apply(*inputs)
