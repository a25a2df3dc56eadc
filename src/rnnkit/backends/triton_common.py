"""What the persistent Triton kernels of the recurrence share (the kernels themselves are in
`triton_forward` and `triton_backward`), and how both work.

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
CELL: 0 SimpleRNN, 1 LSTM, 2 GRU reset_after=True, 3 GRU reset_after=False. BF16: the products
take bfloat16 operands; EMULATE_BF16 (set in Triton's interpreter only) rounds them to bfloat16
and multiplies in float32 instead.
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
def _round_bf16(x):
    """x rounded to the nearest bfloat16 (ties to even), kept in float32, for EMULATE_BF16:
    Triton's interpreter multiplies bfloat16 operands' raw bits in tl.dot, and its cast to
    bfloat16 truncates."""
    bits = x.to(tl.uint32, bitcast=True)
    # adding half a bf16 ulp (less one, plus the kept lsb: ties go to the even neighbour) carries
    # into the kept bits exactly when the dropped ones round up; overflow rounds to inf
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return tl.where(x != x, x, bits.to(tl.float32, bitcast=True))  # the carry could make NaN inf


@triton.jit
def _tile(w, k0, n0, H, S_K, S_N, BLOCK_K: tl.constexpr, BLOCK_N: tl.constexpr,
          BF16: tl.constexpr, EMULATE_BF16: tl.constexpr):
    """The (BLOCK_K, BLOCK_N) tile at (k0, n0) of the H × H matrix whose element (k, n) sits at
    w + k·S_K + n·S_N, zeros beyond H (tl.dot needs every dimension >= 16)."""
    kk = k0 + tl.arange(0, BLOCK_K)[:, None]
    nn = n0 + tl.arange(0, BLOCK_N)[None, :]
    tile = tl.load(w + kk * S_K + nn * S_N, mask=(kk < H) & (nn < H), other=0.0)
    if BF16:
        if EMULATE_BF16:
            tile = _round_bf16(tile)
        else:
            tile = tile.to(tl.bfloat16)
    return tile


@triton.jit
def _product(a_rows, s_rows, w, w_res, n0, H, S_K, S_N, row_ok, HAS_SCALE: tl.constexpr,
             RESIDENT: tl.constexpr, BF16: tl.constexpr, EMULATE_BF16: tl.constexpr,
             BLOCK_B: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, HP: tl.constexpr):
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
            b = _tile(w, k0, n0, H, S_K, S_N, BLOCK_K, BLOCK_N, BF16, EMULATE_BF16)
        if BF16:
            # mixed precision: bf16 operands, fp32 accumulation and state
            if EMULATE_BF16:
                # products of bf16 values are exact in fp32: the same sum, in another order
                acc = tl.dot(_round_bf16(a), b, acc, input_precision="ieee")
            else:
                acc = tl.dot(a.to(tl.bfloat16), b, acc)
        else:
            acc = tl.dot(a, b, acc, input_precision="ieee")
    return acc


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
def _resident(U, g, H, S_K, S_N, RESIDENT: tl.constexpr, BF16: tl.constexpr,
              EMULATE_BF16: tl.constexpr, HP: tl.constexpr):
    """Gate g's whole HP × HP block of U (or of U^T), loaded once, when RESIDENT."""
    if RESIDENT:
        w = _tile(U + g * H, 0, 0, H, S_K, S_N, HP, HP, BF16, EMULATE_BF16)
    else:
        w = U
    return w
