"""The forward kernel of the recurrence: all T steps of SimpleRNN, LSTM or GRU for a block of
batch rows (layouts and design in `triton_common`)."""

import triton
import triton.language as tl

from .triton_common import _columns, _previous, _product, _resident, _tanh


@triton.jit
def _pre(x_rows, hp_rows, m_rows, U, w_res, g, n0, H, GH, MASK_STRIDE, row_ok,
         HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr, BF16: tl.constexpr,
         EMULATE_BF16: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
         BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """Gate g's pre-activation on columns n0..: xw_g + (h_{t-1} ⊙ m_g) U_g."""
    nn = n0 + tl.arange(0, BLOCK_H)[None, :]
    x = tl.load(x_rows + g * H + nn, mask=row_ok & (nn < H), other=0.0)
    return x + _product(hp_rows, m_rows + g * MASK_STRIDE, U + g * H, w_res, n0, H, GH, 1, row_ok,
                        HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)


@triton.jit
def _simple_block(x_rows, hp_rows, m_rows, U, u_0, h_out, keep, n0, H, MASK_STRIDE, row_ok,
                  HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr, BF16: tl.constexpr,
                  EMULATE_BF16: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
                  BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """h_t = tanh(xw + (h_{t-1} ⊙ m) U) on columns n0..; a masked step keeps h_{t-1}."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    h = _tanh(_pre(x_rows, hp_rows, m_rows, U, u_0, 0, n0, H, H, MASK_STRIDE, row_ok,
                   HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    hp = tl.load(hp_rows + nn, mask=ok, other=0.0)
    tl.store(h_out + nn, tl.where(keep, h, hp), mask=ok)


@triton.jit
def _lstm_block(x_rows, hp_rows, cp_rows, m_rows, U, u_0, u_1, u_2, u_3, h_out, c_out, g_rows, keep,
                n0, H, MASK_STRIDE, row_ok, HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr,
                BF16: tl.constexpr, EMULATE_BF16: tl.constexpr, BLOCK_B: tl.constexpr,
                BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t) on columns n0..; saves i, f, g, o."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    GH = 4 * H
    i = tl.sigmoid(_pre(x_rows, hp_rows, m_rows, U, u_0, 0, n0, H, GH, MASK_STRIDE, row_ok,
                        HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    f = tl.sigmoid(_pre(x_rows, hp_rows, m_rows, U, u_1, 1, n0, H, GH, MASK_STRIDE, row_ok,
                        HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    g = _tanh(_pre(x_rows, hp_rows, m_rows, U, u_2, 2, n0, H, GH, MASK_STRIDE, row_ok,
                   HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    o = tl.sigmoid(_pre(x_rows, hp_rows, m_rows, U, u_3, 3, n0, H, GH, MASK_STRIDE, row_ok,
                        HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    cp = tl.load(cp_rows + nn, mask=ok, other=0.0)
    hp = tl.load(hp_rows + nn, mask=ok, other=0.0)
    c = f * cp + i * g
    h = o * _tanh(c)
    tl.store(g_rows + nn, i, mask=ok)
    tl.store(g_rows + H + nn, f, mask=ok)
    tl.store(g_rows + 2 * H + nn, g, mask=ok)
    tl.store(g_rows + 3 * H + nn, o, mask=ok)
    tl.store(c_out + nn, tl.where(keep, c, cp), mask=ok)
    tl.store(h_out + nn, tl.where(keep, h, hp), mask=ok)


@triton.jit
def _gru_zr(x_rows, hp_rows, m_rows, U, u_0, u_1, bh, n0, H, MASK_STRIDE, row_ok,
            HAS_BH: tl.constexpr, HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr,
            BF16: tl.constexpr, EMULATE_BF16: tl.constexpr, BLOCK_B: tl.constexpr,
            BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """GRU's update and reset gates z, r on columns n0.. (b_h's rows inside with HAS_BH)."""
    nn = n0 + tl.arange(0, BLOCK_H)[None, :]
    b_z = 0.0
    b_r = 0.0
    if HAS_BH:
        b_z = tl.load(bh + nn, mask=nn < H, other=0.0)
        b_r = tl.load(bh + H + nn, mask=nn < H, other=0.0)
    z = tl.sigmoid(b_z + _pre(x_rows, hp_rows, m_rows, U, u_0, 0, n0, H, 3 * H, MASK_STRIDE,
                              row_ok, HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H,
                              BLOCK_K, HP))
    r = tl.sigmoid(b_r + _pre(x_rows, hp_rows, m_rows, U, u_1, 1, n0, H, 3 * H, MASK_STRIDE,
                              row_ok, HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H,
                              BLOCK_K, HP))
    return z, r


@triton.jit
def _gru_block(x_rows, hp_rows, m_rows, U, u_0, u_1, u_2, bh, h_out, hh_out, g_rows, keep, n0, H,
               MASK_STRIDE, row_ok, HAS_BH: tl.constexpr, HAS_MASKS: tl.constexpr,
               RESIDENT: tl.constexpr, BF16: tl.constexpr, EMULATE_BF16: tl.constexpr,
               BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr,
               HP: tl.constexpr):
    """GRU reset_after=True on columns n0..: n = tanh(xw_h + r ⊙ (h_{t-1} U_h + b_h)),
    h_t = z ⊙ h_{t-1} + (1 − z) ⊙ n; saves z, r, n and the recurrent part h U_h + b_h."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    z, r = _gru_zr(x_rows, hp_rows, m_rows, U, u_0, u_1, bh, n0, H, MASK_STRIDE, row_ok, HAS_BH,
                   HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    hu = _product(hp_rows, m_rows + 2 * MASK_STRIDE, U + 2 * H, u_2, n0, H, 3 * H, 1, row_ok,
                  HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    if HAS_BH:
        hu += tl.load(bh + 2 * H + nn, mask=nn < H, other=0.0)
    n = _tanh(tl.load(x_rows + 2 * H + nn, mask=ok, other=0.0) + r * hu)
    hp = tl.load(hp_rows + nn, mask=ok, other=0.0)
    h = z * hp + (1.0 - z) * n
    tl.store(g_rows + nn, z, mask=ok)
    tl.store(g_rows + H + nn, r, mask=ok)
    tl.store(g_rows + 2 * H + nn, n, mask=ok)
    tl.store(hh_out + nn, hu, mask=ok)
    tl.store(h_out + nn, tl.where(keep, h, hp), mask=ok)


@triton.jit
def _gru_gates_block(x_rows, hp_rows, m_rows, U, u_0, u_1, s_rows, g_rows, n0, H, MASK_STRIDE,
                     row_ok, HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr, BF16: tl.constexpr,
                     EMULATE_BF16: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
                     BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """GRU reset_after=False, first phase on columns n0..: z, r and s = r ⊙ h_{t-1} ⊙ m_h,
    the candidate product's operand (which needs all columns before its product)."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    z, r = _gru_zr(x_rows, hp_rows, m_rows, U, u_0, u_1, U, n0, H, MASK_STRIDE, row_ok, False,
                   HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    hm = tl.load(hp_rows + nn, mask=ok, other=0.0)
    if HAS_MASKS:
        hm = hm * tl.load(m_rows + 2 * MASK_STRIDE + nn, mask=ok, other=0.0)
    s = r * hm  # cells/gru.py's order, so that bf16 rounds the same float32 value
    tl.store(g_rows + nn, z, mask=ok)
    tl.store(g_rows + H + nn, r, mask=ok)
    tl.store(s_rows + nn, s, mask=ok)


@triton.jit
def _gru_candidate_block(x_rows, hp_rows, U, u_2, s_rows, h_out, g_rows, keep, n0, H, row_ok,
                         RESIDENT: tl.constexpr, BF16: tl.constexpr, EMULATE_BF16: tl.constexpr,
                         BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr,
                         HP: tl.constexpr):
    """GRU reset_after=False, second phase on columns n0..: n = tanh(xw_h + s U_h),
    h_t = z ⊙ h_{t-1} + (1 − z) ⊙ n; saves n."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    n = _tanh(tl.load(x_rows + 2 * H + nn, mask=ok, other=0.0)
              + _product(s_rows, s_rows, U + 2 * H, u_2, n0, H, 3 * H, 1, row_ok, False,
                         RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    z = tl.load(g_rows + nn, mask=ok, other=0.0)
    hp = tl.load(hp_rows + nn, mask=ok, other=0.0)
    h = z * hp + (1.0 - z) * n
    tl.store(g_rows + 2 * H + nn, n, mask=ok)
    tl.store(h_out + nn, tl.where(keep, h, hp), mask=ok)


@triton.jit
def forward_kernel(xw, h0, c0, U, bh, masks, tmask, hs, cs, gates, hh, s, B, T, H, MASK_STRIDE,
                   CELL: tl.constexpr, G: tl.constexpr, HAS_BH: tl.constexpr,
                   HAS_MASKS: tl.constexpr, HAS_TMASK: tl.constexpr, RESIDENT: tl.constexpr,
                   BF16: tl.constexpr, EMULATE_BF16: tl.constexpr, BLOCK_B: tl.constexpr,
                   BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """All T steps for BLOCK_B rows: hs (and cs, the gates, hh) from xw and the initial states."""
    rows = (tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)).to(tl.int64)[:, None]
    row_ok = rows < B
    GH = G * H
    # unused gates (G < 4) load gate G-1 again; dead loads are dropped by the compiler
    u_0 = _resident(U, 0, H, GH, 1, RESIDENT, BF16, EMULATE_BF16, HP)
    u_1 = _resident(U, 1 % G, H, GH, 1, RESIDENT, BF16, EMULATE_BF16, HP)
    u_2 = _resident(U, 2 % G, H, GH, 1, RESIDENT, BF16, EMULATE_BF16, HP)
    u_3 = _resident(U, 3 % G, H, GH, 1, RESIDENT, BF16, EMULATE_BF16, HP)
    m_rows = masks + rows * H
    s_rows = s + rows * H
    for t in range(T):
        x_rows = xw + rows * T * GH + t * GH
        g_rows = gates + rows * T * GH + t * GH
        hp_rows = _previous(t, hs, h0, T, H, rows)
        keep = row_ok
        if HAS_TMASK:
            keep = tl.load(tmask + rows * T + t, mask=row_ok, other=0) != 0
        out = rows * T * H + t * H
        if CELL == 3:
            for n0 in range(0, HP, BLOCK_H):
                _gru_gates_block(x_rows, hp_rows, m_rows, U, u_0, u_1, s_rows, g_rows, n0, H,
                                 MASK_STRIDE, row_ok, HAS_MASKS, RESIDENT, BF16, EMULATE_BF16,
                                 BLOCK_B, BLOCK_H, BLOCK_K, HP)
            tl.debug_barrier()  # the candidate's product reads all of s
            for n0 in range(0, HP, BLOCK_H):
                _gru_candidate_block(x_rows, hp_rows, U, u_2, s_rows, hs + out, g_rows, keep, n0, H,
                                     row_ok, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H,
                                     BLOCK_K, HP)
        else:
            for n0 in range(0, HP, BLOCK_H):
                if CELL == 0:
                    _simple_block(x_rows, hp_rows, m_rows, U, u_0, hs + out, keep, n0, H,
                                  MASK_STRIDE, row_ok, HAS_MASKS, RESIDENT, BF16, EMULATE_BF16,
                                  BLOCK_B, BLOCK_H, BLOCK_K, HP)
                elif CELL == 1:
                    _lstm_block(x_rows, hp_rows, _previous(t, cs, c0, T, H, rows), m_rows, U, u_0,
                                u_1, u_2, u_3, hs + out, cs + out, g_rows, keep, n0, H, MASK_STRIDE,
                                row_ok, HAS_MASKS, RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H,
                                BLOCK_K, HP)
                else:
                    _gru_block(x_rows, hp_rows, m_rows, U, u_0, u_1, u_2, bh, hs + out, hh + out,
                               g_rows, keep, n0, H, MASK_STRIDE, row_ok, HAS_BH, HAS_MASKS,
                               RESIDENT, BF16, EMULATE_BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
        tl.debug_barrier()  # step t+1 reads all of h_t (and c_t)
