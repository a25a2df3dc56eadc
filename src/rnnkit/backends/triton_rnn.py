"""The recurrence of SimpleRNN, LSTM and GRU as one persistent Triton kernel, forward and backward.

`recurrence` takes the input projection xw = x W + b (computed by torch, one large product) and
runs the time loop in `triton_forward`: one program per block of batch rows, all T steps inside
the kernel. The backward kernel (`triton_backward`) runs the loop in reverse and writes dG, the
gradient of every step's gate pre-activations; the weight gradients are then large products in
torch, dU = Σ_t (h_{t-1} ⊙ m_g)ᵀ dG_g over all steps at once.

Importing this module imports triton; `rnnkit` imports it only when the triton backend is asked
for. On CPU tensors the kernels run in Triton's interpreter (TRITON_INTERPRET=1 set before triton
is imported), which is how the tests run without a GPU; there the bf16 products are emulated, on
operands rounded to bfloat16 and multiplied in float32.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import torch

try:
    import triton

    from .triton_backward import backward_kernel
    from .triton_forward import forward_kernel

    # under TRITON_INTERPRET=1 the kernels are interpreted functions, whose tl.dot multiplies
    # bfloat16 operands' raw bits: their bf16 products are emulated (EMULATE_BF16)
    _INTERPRETED = not isinstance(forward_kernel, triton.runtime.JITFunction)
except ImportError:  # the backend reports itself unavailable
    triton = None

# The cells (by spec name) the kernels are written for: gate count and the kernels' CELL code.
CELLS = {"simple_rnn": (1, 0), "lstm": (4, 1), "gru": (3, 2), "gru_reset_before": (3, 3)}
# U's gate blocks stay in registers for the whole sequence when each is at most 64 × 64 and all
# together at most this size (G·HP²·bytes), with 8 warps; larger tiles spill registers (H100,
# triton 3.6: SimpleRNN H=128 resident ran 2.5-5x slower than streamed). Otherwise each step
# reloads U's tiles (from L2) in column blocks of BLOCK_H (BLOCK_H_BF16 for bf16 products, with
# 8 warps at 128), the fastest measured there for H = 128 and 256.
RESIDENT_BYTES = 64 * 1024
BLOCK_H = 64
BLOCK_H_BF16 = 128


def available(x: torch.Tensor | None = None) -> bool:
    """Whether the kernels can run: triton imports and, for a CPU tensor x, TRITON_INTERPRET=1
    was set (for a CUDA tensor, CUDA is there)."""
    if triton is None:
        return False
    if x is None or x.device.type == "cpu":
        return os.environ.get("TRITON_INTERPRET", "0") == "1"
    return x.device.type == "cuda" and torch.cuda.is_available()


class _Plan(NamedTuple):
    """Launch parameters: rows per program, hidden units per column and K block, the hidden
    size padded to a power of two >= 16 (tl.dot's smallest), whether U stays on chip, warps."""
    block_b: int
    block_h: int
    block_k: int
    hp: int
    resident: bool
    num_warps: int


def _plan(B: int, H: int, G: int, bf16: bool, device: torch.device) -> _Plan:
    hp = max(16, triton.next_power_of_2(H))
    resident = hp <= 64 and G * hp * hp * (2 if bf16 else 4) <= RESIDENT_BYTES
    block_h = hp if resident else min(hp, BLOCK_H_BF16 if bf16 else BLOCK_H)
    num_warps = 8 if resident or block_h >= 128 else 4
    # one program per 16 rows while the batch fills the GPU's multiprocessors, larger blocks
    # beyond: each program reads U once per step, so fewer programs read it fewer times
    sms = (torch.cuda.get_device_properties(device).multi_processor_count
           if device.type == "cuda" else 132)  # the interpreter plans as for an H100
    block_b = 16
    while block_b < 64 and triton.cdiv(B, block_b) > sms:
        block_b *= 2
    return _Plan(block_b, block_h, block_h, hp, resident, num_warps)


def recurrence(cell, xw, states, U, b_h, *, recurrent_masks=None, mask=None, bf16=False):
    """Run a cell's recurrence over the projected inputs, with tanh and sigmoid.

    Args:
        cell: a spec name, "simple_rnn", "lstm", "gru" or "gru_reset_before" (Keras gate
            orders: LSTM i, f, c, o; GRU z, r, h; see `rnnkit.cells`).
        xw: (B, T, G·H) float32, x W + b for every step (input dropout applied, already
            reversed for go_backwards).
        states: (h0,) or, for LSTM, (h0, c0); each (B, H) float32.
        U: (H, G·H) float32, the recurrent kernel in Keras layout.
        b_h: (G·H,) float32, GRU reset_after=True's recurrent bias row, or None.
        recurrent_masks: None or a tuple of G (or 1, for all gates) (B, H) float32 tensors,
            Keras's variational recurrent dropout (already scaled): gate g's product takes
            h_{t-1} ⊙ m_g.
        mask: None or (B, T) bool; at a False step every state keeps its value.
        bf16: the products take bfloat16 operands (h_{t-1}, U); accumulation, gate math and
            states stay float32.

    Returns:
        (hs, final_states): hs (B, T, H), the state h after every step (held at masked steps);
        final_states a tuple like `states`. Differentiable with respect to xw, states, U, b_h.

    >>> hs, (h,) = recurrence("gru", xw, (h0,), U, b_h)  # doctest: +SKIP
    """
    G, code = _check(cell, xw, states, U, b_h, recurrent_masks, mask)
    B, _, GH = xw.shape
    masks = (None if recurrent_masks is None else
             torch.stack([m.contiguous() for m in recurrent_masks]))
    tmask = None if mask is None else mask.to(torch.int8).contiguous()
    plan = _plan(B, GH // G, G, bf16, xw.device)
    c0 = states[1].contiguous() if code == 1 else None
    out = _Recurrence.apply(xw.contiguous(), states[0].contiguous(), c0, U.contiguous(),
                            None if b_h is None else b_h.contiguous(), masks, tmask,
                            (code, G, bf16, plan))
    return out[0], tuple(out[1:])


def _check(cell, xw, states, U, b_h, recurrent_masks, mask):
    """(G, the kernels' CELL code); raises ValueError naming what was expected and what came."""
    if cell not in CELLS:
        raise ValueError(f"recurrence: expected cell one of {tuple(CELLS)}, got {cell!r}.")
    G, code = CELLS[cell]
    if not torch.is_tensor(xw) or xw.dim() != 3 or xw.shape[2] % G or 0 in xw.shape:
        raise ValueError(f"recurrence: expected xw of shape (batch, time >= 1, {G}·units) for "
                         f"{cell}, got {_describe(xw)}.")
    B, T, GH = xw.shape
    H = GH // G
    _expect("xw", xw, (B, T, GH), xw.device)
    if not isinstance(states, (tuple, list)) or len(states) != (2 if code == 1 else 1):
        raise ValueError(f"recurrence: expected {'(h0, c0)' if code == 1 else '(h0,)'} for "
                         f"{cell}, got {type(states).__name__} of {len(states)} states.")
    for name, s in zip(("h0", "c0"), states):
        _expect(name, s, (B, H), xw.device)
    _expect("U", U, (H, GH), xw.device)
    if b_h is not None:
        if code != 2:
            raise ValueError("recurrence: a recurrent bias b_h belongs to GRU with "
                             f"reset_after=True only, got one for {cell}.")
        _expect("b_h", b_h, (GH,), xw.device)
    if recurrent_masks is not None:
        if len(recurrent_masks) not in (1, G):
            raise ValueError(f"recurrence: expected 1 or {G} recurrent masks for {cell}, got "
                             f"{len(recurrent_masks)}.")
        for m in recurrent_masks:
            _expect("a recurrent mask", m, (B, H), xw.device)
    if mask is not None:
        _expect("mask", mask, (B, T), xw.device, torch.bool)
    return G, code


def _describe(t):
    if not torch.is_tensor(t):
        return type(t).__name__
    return f"{t.dtype} of shape {tuple(t.shape)} on {t.device}"


def _expect(name, t, shape, device, dtype=torch.float32):
    if (not torch.is_tensor(t) or tuple(t.shape) != tuple(shape) or t.dtype != dtype
            or t.device != device):
        raise ValueError(f"recurrence: expected {name} {dtype} of shape {tuple(shape)} on "
                         f"{device}, got {_describe(t)}.")


def _mask_stride(masks):
    """Elements between gate g's mask and gate g+1's; 0 when one mask serves every gate."""
    return 0 if masks is None or masks.shape[0] == 1 else masks[0].numel()


def _flags(code, G, bf16, plan):
    return dict(CELL=code, G=G, RESIDENT=plan.resident, BF16=bf16, EMULATE_BF16=_INTERPRETED,
                BLOCK_B=plan.block_b, BLOCK_H=plan.block_h, BLOCK_K=plan.block_k, HP=plan.hp,
                num_warps=plan.num_warps,
                # the time loop must not be software-pipelined: a prefetch of step t+1's
                # h_{t-1} would cross the barrier that publishes it
                num_stages=1)


def _forward(config, xw, h0, c0, U, b_h, masks, tmask):
    """(hs, cs, gates, hh): every step's h (and c), activated gates and, for GRU
    reset_after=True, recurrent candidate part; unused ones are hs itself."""
    code, G, bf16, plan = config
    B, T, GH = xw.shape
    H = GH // G
    hs = xw.new_empty(B, T, H)
    gates = xw.new_empty(B, T, GH) if code != 0 else hs
    cs = xw.new_empty(B, T, H) if code == 1 else hs
    hh = xw.new_empty(B, T, H) if code == 2 else hs
    s = xw.new_empty(B, H) if code == 3 else hs
    grid = (triton.cdiv(B, plan.block_b),)
    forward_kernel[grid](
        xw, h0, _or(c0, hs), U, _or(b_h, hs), _or(masks, hs), _or(tmask, hs), hs, cs, gates,
        hh, s, B, T, H, _mask_stride(masks), HAS_BH=b_h is not None,
        HAS_MASKS=masks is not None, HAS_TMASK=tmask is not None, **_flags(code, G, bf16, plan))
    return hs, cs, gates, hh


def _or(t, dummy):
    """A tensor, or for an absent one a pointer the kernel never reads."""
    return dummy if t is None else t


class _Recurrence(torch.autograd.Function):
    """hs and the final states from the kernels; masks get no gradient."""

    @staticmethod
    def forward(ctx, xw, h0, c0, U, b_h, masks, tmask, config):
        hs, cs, gates, hh = _forward(config, xw, h0, c0, U, b_h, masks, tmask)
        ctx.config = config
        ctx.save_for_backward(h0, c0, U, masks, tmask, hs, cs, gates, hh)
        if config[0] == 1:
            return hs, hs[:, -1].clone(), cs[:, -1].clone()
        return hs, hs[:, -1].clone()

    @staticmethod
    def backward(ctx, dhs, dh, dc=None):
        code, G, bf16, plan = ctx.config
        h0, c0, U, masks, tmask, hs, cs, gates, hh = ctx.saved_tensors
        B, T, H = hs.shape
        dhs = torch.zeros_like(hs) if dhs is None else dhs.contiguous()
        dH = _carry(dh, h0)  # the kernel turns d h_T into d h_0 in place
        dC = _carry(dc, c0) if code == 1 else dH
        dG = hs.new_empty(B, T, G * H)
        grid = (triton.cdiv(B, plan.block_b),)
        backward_kernel[grid](
            dhs, U, _or(masks, hs), _or(tmask, hs), h0, hs, _or(c0, hs), cs, gates, hh, dG, dH,
            dC, B, T, H, _mask_stride(masks), HAS_MASKS=masks is not None,
            HAS_TMASK=tmask is not None, **_flags(code, G, bf16, plan))
        need = ctx.needs_input_grad
        dU, db = _weight_grads(code, G, dG, hs, h0, gates, masks, need[3], need[4])
        return (dG, dH, dC if code == 1 else None, dU, db, None, None, None)


def _carry(d, like):
    """A fresh contiguous copy of an incoming gradient (zeros for none), for the kernel to
    overwrite."""
    return torch.zeros_like(like) if d is None else d.clone(memory_format=torch.contiguous_format)


def _weight_grads(code, G, dG, hs, h0, gates, masks, need_u, need_b):
    """(dU, db_h) as products over all steps at once: dU_g = Σ_t (h_{t-1} ⊙ m_g)ᵀ dP_g and
    db_h = Σ_t dP, where dP_g is the gradient of gate g's recurrent product: dG_g, except GRU's
    candidate (reset_after=True: r ⊙ dn_pre; reset_after=False: dn_pre, multiplying
    s = r ⊙ h_{t-1} ⊙ m_h instead of h_{t-1} ⊙ m_h)."""
    B, T, GH = dG.shape
    H = GH // G
    if code == 2:
        dG = torch.cat([dG[..., :2 * H], dG[..., 2 * H:] * gates[..., H:2 * H]], dim=-1)
    db = dG.sum((0, 1)) if need_b else None
    if not need_u:
        return None, db
    hp = torch.cat([h0[:, None], hs[:, :-1]], dim=1).reshape(B * T, H)
    if masks is None and code != 3:
        return hp.T @ dG.reshape(B * T, GH), db
    ops = [hp if masks is None else
           hp * masks[g % masks.shape[0]].repeat_interleave(T, dim=0) for g in range(G)]
    if code == 3:
        ops[2] = ops[2] * gates[..., H:2 * H].reshape(B * T, H)
    blocks = dG.reshape(B * T, GH).split(H, dim=-1)
    return torch.cat([a.T @ d for a, d in zip(ops, blocks)], dim=1), db
