"""The backward kernel of the recurrence: all T steps in reverse, the gradient of every step's
gate pre-activations and the carries (layouts and design in `triton_common`)."""

import triton
import triton.language as tl

from .triton_common import _columns, _previous, _product, _resident, _tanh


@triton.jit
def _d_simple(dh, keep, h_rows, dg_rows, nn, ok):
    h = tl.load(h_rows + nn, mask=ok, other=0.0)
    tl.store(dg_rows + nn, tl.where(keep, dh * (1.0 - h * h), 0.0), mask=ok)
    return tl.where(keep, 0.0, dh)


@triton.jit
def _d_lstm(dh, keep, g_rows, c_rows, cp_rows, dc_rows, dg_rows, nn, ok, H):
    """Gate gradients of an LSTM step; dc_{t-1} = dc_t ⊙ f replaces the carry in place."""
    i = tl.load(g_rows + nn, mask=ok, other=0.0)
    f = tl.load(g_rows + H + nn, mask=ok, other=0.0)
    g = tl.load(g_rows + 2 * H + nn, mask=ok, other=0.0)
    o = tl.load(g_rows + 3 * H + nn, mask=ok, other=0.0)
    tc = _tanh(tl.load(c_rows + nn, mask=ok, other=0.0))
    cp = tl.load(cp_rows + nn, mask=ok, other=0.0)
    dc_carry = tl.load(dc_rows + nn, mask=ok, other=0.0)
    dc = dc_carry + dh * o * (1.0 - tc * tc)
    tl.store(dg_rows + nn, tl.where(keep, dc * g * i * (1.0 - i), 0.0), mask=ok)
    tl.store(dg_rows + H + nn, tl.where(keep, dc * cp * f * (1.0 - f), 0.0), mask=ok)
    tl.store(dg_rows + 2 * H + nn, tl.where(keep, dc * i * (1.0 - g * g), 0.0), mask=ok)
    tl.store(dg_rows + 3 * H + nn, tl.where(keep, dh * tc * o * (1.0 - o), 0.0), mask=ok)
    tl.store(dc_rows + nn, tl.where(keep, dc * f, dc_carry), mask=ok)
    return tl.where(keep, 0.0, dh)


@triton.jit
def _d_gru(dh, keep, g_rows, hp_rows, hh_rows, dg_rows, nn, ok, H, AFTER: tl.constexpr):
    """Gate gradients of a GRU step (with reset_after=False, r's comes in the reset phase);
    returns the direct part z ⊙ dh of dh_{t-1}."""
    z = tl.load(g_rows + nn, mask=ok, other=0.0)
    n = tl.load(g_rows + 2 * H + nn, mask=ok, other=0.0)
    hp = tl.load(hp_rows + nn, mask=ok, other=0.0)
    dn = dh * (1.0 - z) * (1.0 - n * n)
    if AFTER:
        r = tl.load(g_rows + H + nn, mask=ok, other=0.0)
        hu = tl.load(hh_rows + nn, mask=ok, other=0.0)
        tl.store(dg_rows + H + nn, tl.where(keep, dn * hu * r * (1.0 - r), 0.0), mask=ok)
    tl.store(dg_rows + nn, tl.where(keep, dh * (hp - n) * z * (1.0 - z), 0.0), mask=ok)
    tl.store(dg_rows + 2 * H + nn, tl.where(keep, dn, 0.0), mask=ok)
    return tl.where(keep, dh * z, dh)


@triton.jit
def _d_step_block(dhs_rows, dh_rows, dc_rows, keep, g_rows, dg_rows, h_rows, c_rows, cp_rows,
                  hp_rows, hh_rows, n0, H, row_ok, CELL: tl.constexpr, BLOCK_H: tl.constexpr):
    """dh = dhs_t + the carry; writes dG_t (zero at a masked step) on columns n0.. and leaves
    in the carry the part of dh_{t-1} that bypasses U (all of dh at a masked step)."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    dh = tl.load(dhs_rows + nn, mask=ok, other=0.0) + tl.load(dh_rows + nn, mask=ok, other=0.0)
    if CELL == 0:
        carry = _d_simple(dh, keep, h_rows, dg_rows, nn, ok)
    elif CELL == 1:
        carry = _d_lstm(dh, keep, g_rows, c_rows, cp_rows, dc_rows, dg_rows, nn, ok, H)
    else:
        carry = _d_gru(dh, keep, g_rows, hp_rows, hh_rows, dg_rows, nn, ok, H, CELL == 2)
    tl.store(dh_rows + nn, carry, mask=ok)


@triton.jit
def _d_reset_block(dg_rows, g_rows, hp_rows, m_rows, U, ut_2, dh_rows, n0, H, MASK_STRIDE, row_ok,
                   HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr, BF16: tl.constexpr,
                   EMULATE_BF16: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
                   BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """GRU reset_after=False: ds = dn_pre U_h^T, the gradient of s = r ⊙ h_{t-1} ⊙ m_h, on
    columns n0..; dr_pre = ds ⊙ h_{t-1} ⊙ m_h ⊙ r(1 − r) and dh_{t-1} += ds ⊙ r ⊙ m_h."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    ds = _product(dg_rows + 2 * H, dg_rows, U + 2 * H, ut_2, n0, H, 1, 3 * H, row_ok, False,
                  RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    r = tl.load(g_rows + H + nn, mask=ok, other=0.0)
    hp = tl.load(hp_rows + nn, mask=ok, other=0.0)
    rm = r
    if HAS_MASKS:
        m = tl.load(m_rows + 2 * MASK_STRIDE + nn, mask=ok, other=0.0)
        hp = hp * m
        rm = r * m
    tl.store(dg_rows + H + nn, ds * hp * r * (1.0 - r), mask=ok)
    tl.store(dh_rows + nn, tl.load(dh_rows + nn, mask=ok, other=0.0) + ds * rm, mask=ok)


@triton.jit
def _d_gate(dg_rows, g_rows, m_rows, U, w_res, g, n0, H, GH, MASK_STRIDE, row_ok,
            SCALE: tl.constexpr, HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr,
            BF16: tl.constexpr, EMULATE_BF16: tl.constexpr, BLOCK_B: tl.constexpr,
            BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """(dG_g U_g^T) ⊙ m_g on columns n0..; with SCALE the operand is r ⊙ dG_g (GRU's
    candidate with reset_after=True, whose recurrent part is r ⊙ (h U_h + b_h))."""
    p = _product(dg_rows + g * H, g_rows + H, U + g * H, w_res, n0, H, 1, GH, row_ok, SCALE,
                 RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    if HAS_MASKS:
        nn, ok = _columns(n0, H, row_ok, BLOCK_H)
        p = p * tl.load(m_rows + g * MASK_STRIDE + nn, mask=ok, other=0.0)
    return p


@triton.jit
def _d_carry_block(dg_rows, g_rows, m_rows, U, ut_0, ut_1, ut_2, ut_3, dh_rows, n0, H, MASK_STRIDE,
                   row_ok, CELL: tl.constexpr, G: tl.constexpr, HAS_MASKS: tl.constexpr,
                   RESIDENT: tl.constexpr, BF16: tl.constexpr, EMULATE_BF16: tl.constexpr,
                   BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr,
                   HP: tl.constexpr):
    """dh_{t-1} += Σ_g (dG_g U_g^T) ⊙ m_g on columns n0.. (with reset_after=False the
    candidate's part came from the reset phase)."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    GH = G * H
    d = _d_gate(dg_rows, g_rows, m_rows, U, ut_0, 0, n0, H, GH, MASK_STRIDE, row_ok, False,
                HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    if G > 1:
        d += _d_gate(dg_rows, g_rows, m_rows, U, ut_1, 1, n0, H, GH, MASK_STRIDE, row_ok, False,
                     HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    if CELL != 3:
        if G > 2:
            d += _d_gate(dg_rows, g_rows, m_rows, U, ut_2, 2, n0, H, GH, MASK_STRIDE, row_ok,
                         CELL == 2, HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H,
                         BLOCK_K, HP)
    if G > 3:
        d += _d_gate(dg_rows, g_rows, m_rows, U, ut_3, 3, n0, H, GH, MASK_STRIDE, row_ok, False,
                     HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    tl.store(dh_rows + nn, tl.load(dh_rows + nn, mask=ok, other=0.0) + d, mask=ok)


@triton.jit
def backward_kernel(dhs, U, masks, tmask, h0, hs, c0, cs, gates, hh, dG, dH, dC, B, T, H,
                    MASK_STRIDE, CELL: tl.constexpr, G: tl.constexpr, HAS_MASKS: tl.constexpr,
                    HAS_TMASK: tl.constexpr, RESIDENT: tl.constexpr, BF16: tl.constexpr,
                    EMULATE_BF16: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
                    BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """All T steps backwards for BLOCK_B rows: dG (B, T, G·H), the gradient of the gates'
    pre-activations, and the carries dH (dC) from d h_T (d c_T) down to d h_0 (d c_0)."""
    rows = (tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)).to(tl.int64)[:, None]
    row_ok = rows < B
    GH = G * H
    ut_0 = _resident(U, 0, H, 1, GH, RESIDENT, BF16, EMULATE_BF16, HP)
    ut_1 = _resident(U, 1 % G, H, 1, GH, RESIDENT, BF16, EMULATE_BF16, HP)
    ut_2 = _resident(U, 2 % G, H, 1, GH, RESIDENT, BF16, EMULATE_BF16, HP)
    ut_3 = _resident(U, 3 % G, H, 1, GH, RESIDENT, BF16, EMULATE_BF16, HP)
    m_rows = masks + rows * H
    dh_rows = dH + rows * H
    dc_rows = dC + rows * H
    for step in range(T):
        t = T - 1 - step
        keep = row_ok
        if HAS_TMASK:
            keep = tl.load(tmask + rows * T + t, mask=row_ok, other=0) != 0
        out = rows * T * H + t * H
        g_rows = gates + rows * T * GH + t * GH
        dg_rows = dG + rows * T * GH + t * GH
        hp_rows = _previous(t, hs, h0, T, H, rows)
        cp_rows = _previous(t, cs, c0, T, H, rows)
        for n0 in range(0, HP, BLOCK_H):
            _d_step_block(dhs + out, dh_rows, dc_rows, keep, g_rows, dg_rows, hs + out, cs + out,
                          cp_rows, hp_rows, hh + out, n0, H, row_ok, CELL, BLOCK_H)
        tl.debug_barrier()  # the products below read all of dG_t
        if CELL == 3:
            for n0 in range(0, HP, BLOCK_H):
                _d_reset_block(dg_rows, g_rows, hp_rows, m_rows, U, ut_2, dh_rows, n0, H,
                               MASK_STRIDE, row_ok, HAS_MASKS, RESIDENT, BF16, EMULATE_BF16,
                               BLOCK_B, BLOCK_H, BLOCK_K, HP)
            tl.debug_barrier()  # and of dr_pre
        for n0 in range(0, HP, BLOCK_H):
            _d_carry_block(dg_rows, g_rows, m_rows, U, ut_0, ut_1, ut_2, ut_3, dh_rows, n0, H,
                           MASK_STRIDE, row_ok, CELL, G, HAS_MASKS, RESIDENT, BF16, EMULATE_BF16,
                           BLOCK_B, BLOCK_H, BLOCK_K, HP)
        tl.debug_barrier()  # step t-1 reads all of the carry
