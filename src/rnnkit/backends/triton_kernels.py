"""The persistent Triton kernels of the recurrence: forward and backward over all time steps.

One program owns BLOCK_B rows of the batch and runs every time step for them, so programs never
wait for each other. Within a step, the product h_{t-1} U is computed in column blocks of BLOCK_H
hidden units (K blocks of BLOCK_K, fp32 accumulation) and the gate math runs on the block in
registers. The next product needs the whole new row, so each step writes its states to global
memory and ends with a barrier (one program's threads then see each other's writes); so does
every phase that needs a full row before its product (GRU with reset_after=False: r ⊙ h_{t-1}
before the candidate's product; the backward's dG_t before dG_t U^T).

Weights on chip: with RESIDENT the G gate blocks of U (or U^T in the backward), padded to
HP × HP, are loaded once before the time loop and stay in registers for all T steps; the launcher
sets it only when they fit in registers (see triton_rnn.RESIDENT_BYTES). Otherwise every step
reloads U's tiles, which then come from L2, shared by all programs.

Layouts (all contiguous): xw, gates, dG (B, T, G·H); hs, cs, hh (B, T, H); h0, c0, dH, dC and
the scratch row s (B, H); U (H, G·H), Keras layout; masks (1 or G, B, H), gate g's at
masks + g·MASK_STRIDE (MASK_STRIDE = 0 when one mask serves all gates); tmask (B, T) int8.
CELL: 0 SimpleRNN, 1 LSTM, 2 GRU reset_after=True, 3 GRU reset_after=False.
"""

import triton
import triton.language as tl


@triton.jit
def _tanh(x):
    # exp of a non-positive argument cannot overflow; the error stays within a few ulps of 1
    e = tl.exp(-2.0 * tl.abs(x))
    y = (1.0 - e) / (1.0 + e)
    return tl.where(x < 0, -y, y)


@triton.jit
def _tile(w, k0, n0, H, S_K, S_N, BLOCK_K: tl.constexpr, BLOCK_N: tl.constexpr,
          BF16: tl.constexpr):
    """The (BLOCK_K, BLOCK_N) tile at (k0, n0) of the H × H matrix whose element (k, n) sits at
    w + k·S_K + n·S_N, zeros beyond H (tl.dot needs every dimension >= 16)."""
    kk = k0 + tl.arange(0, BLOCK_K)[:, None]
    nn = n0 + tl.arange(0, BLOCK_N)[None, :]
    tile = tl.load(w + kk * S_K + nn * S_N, mask=(kk < H) & (nn < H), other=0.0)
    if BF16:
        tile = tile.to(tl.bfloat16)
    return tile


@triton.jit
def _product(a_rows, s_rows, w, w_res, n0, H, S_K, S_N, row_ok, HAS_SCALE: tl.constexpr,
             RESIDENT: tl.constexpr, BF16: tl.constexpr, BLOCK_B: tl.constexpr,
             BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """Columns n0 .. n0+BLOCK_N of (A ⊙ S) M for the rows' A and S (H wide, at a_rows and
    s_rows) and the H × H matrix M of `_tile` (or its resident copy w_res)."""
    acc = tl.zeros((BLOCK_B, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, HP, BLOCK_K):
        kk = k0 + tl.arange(0, BLOCK_K)[None, :]
        ok = row_ok & (kk < H)
        a = tl.load(a_rows + kk, mask=ok, other=0.0)
        if HAS_SCALE:
            a = a * tl.load(s_rows + kk, mask=ok, other=0.0)
        if RESIDENT:
            b = w_res
        else:
            b = _tile(w, k0, n0, H, S_K, S_N, BLOCK_K, BLOCK_N, BF16)
        if BF16:
            # mixed precision: bf16 operands, fp32 accumulation and state
            acc = tl.dot(a.to(tl.bfloat16), b, acc)
        else:
            acc = tl.dot(a, b, acc, input_precision="ieee")
    return acc


@triton.jit
def _pre(x_rows, hp_rows, m_rows, U, w_res, g, n0, H, GH, MASK_STRIDE, row_ok,
         HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr, BF16: tl.constexpr,
         BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """Gate g's pre-activation on columns n0..: xw_g + (h_{t-1} ⊙ m_g) U_g."""
    nn = n0 + tl.arange(0, BLOCK_H)[None, :]
    x = tl.load(x_rows + g * H + nn, mask=row_ok & (nn < H), other=0.0)
    return x + _product(hp_rows, m_rows + g * MASK_STRIDE, U + g * H, w_res, n0, H, GH, 1,
                        row_ok, HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)


@triton.jit
def _columns(n0, H, row_ok, BLOCK_H: tl.constexpr):
    nn = n0 + tl.arange(0, BLOCK_H)[None, :]
    return nn, row_ok & (nn < H)


@triton.jit
def _previous(t, now, first, T, H, rows):
    """Row pointers to a state before step t: step t-1 of the (B, T, H) sequence, or the
    initial (B, H) state at t = 0."""
    return tl.where(t > 0, now + rows * T * H + (t - 1) * H, first + rows * H)


@triton.jit
def _simple_block(x_rows, hp_rows, m_rows, U, u_0, h_out, keep, n0, H, MASK_STRIDE, row_ok,
                  HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr, BF16: tl.constexpr,
                  BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr,
                  HP: tl.constexpr):
    """h_t = tanh(xw + (h_{t-1} ⊙ m) U) on columns n0..; a masked step keeps h_{t-1}."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    h = _tanh(_pre(x_rows, hp_rows, m_rows, U, u_0, 0, n0, H, H, MASK_STRIDE, row_ok,
                   HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    hp = tl.load(hp_rows + nn, mask=ok, other=0.0)
    tl.store(h_out + nn, tl.where(keep, h, hp), mask=ok)


@triton.jit
def _lstm_block(x_rows, hp_rows, cp_rows, m_rows, U, u_0, u_1, u_2, u_3, h_out, c_out, g_rows,
                keep, n0, H, MASK_STRIDE, row_ok, HAS_MASKS: tl.constexpr,
                RESIDENT: tl.constexpr, BF16: tl.constexpr, BLOCK_B: tl.constexpr,
                BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t) on columns n0..; saves i, f, g, o."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    GH = 4 * H
    i = tl.sigmoid(_pre(x_rows, hp_rows, m_rows, U, u_0, 0, n0, H, GH, MASK_STRIDE, row_ok,
                        HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    f = tl.sigmoid(_pre(x_rows, hp_rows, m_rows, U, u_1, 1, n0, H, GH, MASK_STRIDE, row_ok,
                        HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    g = _tanh(_pre(x_rows, hp_rows, m_rows, U, u_2, 2, n0, H, GH, MASK_STRIDE, row_ok,
                   HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    o = tl.sigmoid(_pre(x_rows, hp_rows, m_rows, U, u_3, 3, n0, H, GH, MASK_STRIDE, row_ok,
                        HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
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
            BF16: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
            BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """GRU's update and reset gates z, r on columns n0.. (b_h's rows inside with HAS_BH)."""
    nn = n0 + tl.arange(0, BLOCK_H)[None, :]
    b_z = 0.0
    b_r = 0.0
    if HAS_BH:
        b_z = tl.load(bh + nn, mask=nn < H, other=0.0)
        b_r = tl.load(bh + H + nn, mask=nn < H, other=0.0)
    z = tl.sigmoid(b_z + _pre(x_rows, hp_rows, m_rows, U, u_0, 0, n0, H, 3 * H, MASK_STRIDE,
                              row_ok, HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    r = tl.sigmoid(b_r + _pre(x_rows, hp_rows, m_rows, U, u_1, 1, n0, H, 3 * H, MASK_STRIDE,
                              row_ok, HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    return z, r


@triton.jit
def _gru_block(x_rows, hp_rows, m_rows, U, u_0, u_1, u_2, bh, h_out, hh_out, g_rows, keep, n0,
               H, MASK_STRIDE, row_ok, HAS_BH: tl.constexpr, HAS_MASKS: tl.constexpr,
               RESIDENT: tl.constexpr, BF16: tl.constexpr, BLOCK_B: tl.constexpr,
               BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """GRU reset_after=True on columns n0..: n = tanh(xw_h + r ⊙ (h_{t-1} U_h + b_h)),
    h_t = z ⊙ h_{t-1} + (1 − z) ⊙ n; saves z, r, n and the recurrent part h U_h + b_h."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    z, r = _gru_zr(x_rows, hp_rows, m_rows, U, u_0, u_1, bh, n0, H, MASK_STRIDE, row_ok, HAS_BH,
                   HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    hu = _product(hp_rows, m_rows + 2 * MASK_STRIDE, U + 2 * H, u_2, n0, H, 3 * H, 1, row_ok,
                  HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
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
                     row_ok, HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr,
                     BF16: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
                     BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """GRU reset_after=False, first phase on columns n0..: z, r and s = r ⊙ h_{t-1} ⊙ m_h,
    the candidate product's operand (which needs all columns before its product)."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    z, r = _gru_zr(x_rows, hp_rows, m_rows, U, u_0, u_1, U, n0, H, MASK_STRIDE, row_ok, False,
                   HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    hm = tl.load(hp_rows + nn, mask=ok, other=0.0)
    if HAS_MASKS:
        hm = hm * tl.load(m_rows + 2 * MASK_STRIDE + nn, mask=ok, other=0.0)
    s = r * hm  # cells/gru.py's order, so that bf16 rounds the same float32 value
    tl.store(g_rows + nn, z, mask=ok)
    tl.store(g_rows + H + nn, r, mask=ok)
    tl.store(s_rows + nn, s, mask=ok)


@triton.jit
def _gru_candidate_block(x_rows, hp_rows, U, u_2, s_rows, h_out, g_rows, keep, n0, H, row_ok,
                         RESIDENT: tl.constexpr, BF16: tl.constexpr, BLOCK_B: tl.constexpr,
                         BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """GRU reset_after=False, second phase on columns n0..: n = tanh(xw_h + s U_h),
    h_t = z ⊙ h_{t-1} + (1 − z) ⊙ n; saves n."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    n = _tanh(tl.load(x_rows + 2 * H + nn, mask=ok, other=0.0)
              + _product(s_rows, s_rows, U + 2 * H, u_2, n0, H, 3 * H, 1, row_ok, False,
                         RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP))
    z = tl.load(g_rows + nn, mask=ok, other=0.0)
    hp = tl.load(hp_rows + nn, mask=ok, other=0.0)
    h = z * hp + (1.0 - z) * n
    tl.store(g_rows + 2 * H + nn, n, mask=ok)
    tl.store(h_out + nn, tl.where(keep, h, hp), mask=ok)


@triton.jit
def _resident(U, g, H, S_K, S_N, RESIDENT: tl.constexpr, BF16: tl.constexpr,
              HP: tl.constexpr):
    """Gate g's whole HP × HP block of U (or of U^T), loaded once, when RESIDENT."""
    if RESIDENT:
        w = _tile(U + g * H, 0, 0, H, S_K, S_N, HP, HP, BF16)
    else:
        w = U
    return w


@triton.jit
def forward_kernel(xw, h0, c0, U, bh, masks, tmask, hs, cs, gates, hh, s,
                   B, T, H, MASK_STRIDE, CELL: tl.constexpr, G: tl.constexpr,
                   HAS_BH: tl.constexpr, HAS_MASKS: tl.constexpr, HAS_TMASK: tl.constexpr,
                   RESIDENT: tl.constexpr, BF16: tl.constexpr, BLOCK_B: tl.constexpr,
                   BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """All T steps for BLOCK_B rows: hs (and cs, the gates, hh) from xw and the initial states."""
    rows = (tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)).to(tl.int64)[:, None]
    row_ok = rows < B
    GH = G * H
    # unused gates (G < 4) load gate G-1 again; dead loads are dropped by the compiler
    u_0 = _resident(U, 0, H, GH, 1, RESIDENT, BF16, HP)
    u_1 = _resident(U, 1 % G, H, GH, 1, RESIDENT, BF16, HP)
    u_2 = _resident(U, 2 % G, H, GH, 1, RESIDENT, BF16, HP)
    u_3 = _resident(U, 3 % G, H, GH, 1, RESIDENT, BF16, HP)
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
                                 MASK_STRIDE, row_ok, HAS_MASKS, RESIDENT, BF16, BLOCK_B,
                                 BLOCK_H, BLOCK_K, HP)
            tl.debug_barrier()  # the candidate's product reads all of s
            for n0 in range(0, HP, BLOCK_H):
                _gru_candidate_block(x_rows, hp_rows, U, u_2, s_rows, hs + out, g_rows, keep,
                                     n0, H, row_ok, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K,
                                     HP)
        else:
            for n0 in range(0, HP, BLOCK_H):
                if CELL == 0:
                    _simple_block(x_rows, hp_rows, m_rows, U, u_0, hs + out, keep, n0, H,
                                  MASK_STRIDE, row_ok, HAS_MASKS, RESIDENT, BF16, BLOCK_B,
                                  BLOCK_H, BLOCK_K, HP)
                elif CELL == 1:
                    _lstm_block(x_rows, hp_rows, _previous(t, cs, c0, T, H, rows), m_rows, U,
                                u_0, u_1, u_2, u_3, hs + out, cs + out, g_rows, keep, n0, H,
                                MASK_STRIDE, row_ok, HAS_MASKS, RESIDENT, BF16, BLOCK_B,
                                BLOCK_H, BLOCK_K, HP)
                else:
                    _gru_block(x_rows, hp_rows, m_rows, U, u_0, u_1, u_2, bh, hs + out,
                               hh + out, g_rows, keep, n0, H, MASK_STRIDE, row_ok, HAS_BH,
                               HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
        tl.debug_barrier()  # step t+1 reads all of h_t (and c_t)


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
def _d_reset_block(dg_rows, g_rows, hp_rows, m_rows, U, ut_2, dh_rows, n0, H, MASK_STRIDE,
                   row_ok, HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr, BF16: tl.constexpr,
                   BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr,
                   HP: tl.constexpr):
    """GRU reset_after=False: ds = dn_pre U_h^T, the gradient of s = r ⊙ h_{t-1} ⊙ m_h, on
    columns n0..; dr_pre = ds ⊙ h_{t-1} ⊙ m_h ⊙ r(1 − r) and dh_{t-1} += ds ⊙ r ⊙ m_h."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    ds = _product(dg_rows + 2 * H, dg_rows, U + 2 * H, ut_2, n0, H, 1, 3 * H, row_ok, False,
                  RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
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
            BF16: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
            BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """(dG_g U_g^T) ⊙ m_g on columns n0..; with SCALE the operand is r ⊙ dG_g (GRU's
    candidate with reset_after=True, whose recurrent part is r ⊙ (h U_h + b_h))."""
    p = _product(dg_rows + g * H, g_rows + H, U + g * H, w_res, n0, H, 1, GH, row_ok, SCALE,
                 RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    if HAS_MASKS:
        nn, ok = _columns(n0, H, row_ok, BLOCK_H)
        p = p * tl.load(m_rows + g * MASK_STRIDE + nn, mask=ok, other=0.0)
    return p


@triton.jit
def _d_carry_block(dg_rows, g_rows, m_rows, U, ut_0, ut_1, ut_2, ut_3, dh_rows, n0, H,
                   MASK_STRIDE, row_ok, CELL: tl.constexpr, G: tl.constexpr,
                   HAS_MASKS: tl.constexpr, RESIDENT: tl.constexpr, BF16: tl.constexpr,
                   BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr,
                   HP: tl.constexpr):
    """dh_{t-1} += Σ_g (dG_g U_g^T) ⊙ m_g on columns n0.. (with reset_after=False the
    candidate's part came from the reset phase)."""
    nn, ok = _columns(n0, H, row_ok, BLOCK_H)
    GH = G * H
    d = _d_gate(dg_rows, g_rows, m_rows, U, ut_0, 0, n0, H, GH, MASK_STRIDE, row_ok, False,
                HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    if G > 1:
        d += _d_gate(dg_rows, g_rows, m_rows, U, ut_1, 1, n0, H, GH, MASK_STRIDE, row_ok, False,
                     HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    if CELL != 3:
        if G > 2:
            d += _d_gate(dg_rows, g_rows, m_rows, U, ut_2, 2, n0, H, GH, MASK_STRIDE, row_ok,
                         CELL == 2, HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    if G > 3:
        d += _d_gate(dg_rows, g_rows, m_rows, U, ut_3, 3, n0, H, GH, MASK_STRIDE, row_ok, False,
                     HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H, BLOCK_K, HP)
    tl.store(dh_rows + nn, tl.load(dh_rows + nn, mask=ok, other=0.0) + d, mask=ok)


@triton.jit
def backward_kernel(dhs, U, masks, tmask, h0, hs, c0, cs, gates, hh, dG, dH, dC,
                    B, T, H, MASK_STRIDE, CELL: tl.constexpr, G: tl.constexpr,
                    HAS_MASKS: tl.constexpr, HAS_TMASK: tl.constexpr, RESIDENT: tl.constexpr,
                    BF16: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
                    BLOCK_K: tl.constexpr, HP: tl.constexpr):
    """All T steps backwards for BLOCK_B rows: dG (B, T, G·H), the gradient of the gates'
    pre-activations, and the carries dH (dC) from d h_T (d c_T) down to d h_0 (d c_0)."""
    rows = (tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)).to(tl.int64)[:, None]
    row_ok = rows < B
    GH = G * H
    ut_0 = _resident(U, 0, H, 1, GH, RESIDENT, BF16, HP)
    ut_1 = _resident(U, 1 % G, H, 1, GH, RESIDENT, BF16, HP)
    ut_2 = _resident(U, 2 % G, H, 1, GH, RESIDENT, BF16, HP)
    ut_3 = _resident(U, 3 % G, H, 1, GH, RESIDENT, BF16, HP)
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
                               MASK_STRIDE, row_ok, HAS_MASKS, RESIDENT, BF16, BLOCK_B, BLOCK_H,
                               BLOCK_K, HP)
            tl.debug_barrier()  # and of dr_pre
        for n0 in range(0, HP, BLOCK_H):
            _d_carry_block(dg_rows, g_rows, m_rows, U, ut_0, ut_1, ut_2, ut_3, dh_rows, n0, H,
                           MASK_STRIDE, row_ok, CELL, G, HAS_MASKS, RESIDENT, BF16, BLOCK_B,
                           BLOCK_H, BLOCK_K, HP)
        tl.debug_barrier()  # step t-1 reads all of the carry
