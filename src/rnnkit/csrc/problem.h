// One recurrent layer's sequence, as the kernels see it. Shapes (row-major, time-major, so that
// one step's rows are contiguous and the prefetchers follow them):
//   xw  [T, B, G·Hp]   x_t W + b for every step, gate blocks padded to Hp units
//   U   panels of the recurrent kernel [H, G·Hp]; UT panels of its transpose
//   bh  [G·Hp]         GRU reset_after: the recurrent bias (inside r ⊙ (h U_h + b_h)), else null
//   h0, c0 [B, H]      initial states (c0 LSTM only)
//   y   [T, B, H] when seq (or in training), else [B, H];  hT, cT [B, H]
//   ws  [T, B, S·Hp]   what backward needs (training only), S per cell
//   dy  [T, B, H] or null; dhT, dcT [B, H]; dG [T, B, D·Hp] gate gradients; dh0, dc0 [B, H]
#pragma once

#include <vector>

#include "gemm.h"

namespace rnnkit {

enum CellKind : int { SIMPLE_RNN = 0, LSTM_CELL = 1, GRU_AFTER = 2, GRU_BEFORE = 3 };

struct Problem {
    int B = 0, T = 0, H = 0, Hp = 0, G = 1, S = 0, D = 1;
    int act = TANH, ract = SIGMOID;
    const float* xw = nullptr;
    const float* bh = nullptr;
    const float* h0 = nullptr;
    const float* c0 = nullptr;
    float* y = nullptr;
    bool seq = false;
    float* hT = nullptr;
    float* cT = nullptr;
    float* ws = nullptr;
    const float* dy = nullptr;
    const float* dhT = nullptr;
    const float* dcT = nullptr;
    float* dG = nullptr;
    float* dh0 = nullptr;
    float* dc0 = nullptr;
    std::vector<float> U, UT;  // packed panels

    int groups() const { return Hp / W; }
    // The panel of column group q in gate block g of U (K = H rows).
    const float* u_panel(int g, int q) const {
        return U.data() + static_cast<long>(g * groups() + q) * H * W;
    }
    // The panel of output group q of Uᵀ, starting at row k0 (K = G·Hp rows in all).
    const float* ut_panel(int q, int k0) const {
        return UT.data() + (static_cast<long>(q) * G * Hp + k0) * W;
    }
    long step(int b, int s) const { return static_cast<long>(s) * B + b; }
    float* ws_at(int b, int s, int slot, int u) const { return ws + step(b, s) * S * Hp + slot * Hp + u; }
    float* dg_at(int b, int s, int slot, int u) const { return dG + step(b, s) * D * Hp + slot * Hp + u; }
    const float* xw_at(int b, int s, int gate, int u) const {
        return xw + step(b, s) * G * Hp + gate * Hp + u;
    }
    int tail(int u) const { return H - u; }
    // h_{s-1} of batch row b (h0 at s = 0), zero past H.
    V h_prev(int b, int s, int u) const {
        return s > 0 ? load_tail(y + step(b, s - 1) * H + u, tail(u)) : load_tail(h0 + b * H + u, tail(u));
    }
    void emit(int b, int s, int u, V h) const {
        if (seq) store_tail(y + step(b, s) * H + u, h, tail(u));
        else if (s == T - 1) store_tail(y + static_cast<long>(b) * H + u, h, tail(u));
    }
};

// The rows [b0, b0 + n) that one thread owns for the whole sequence, with its state buffers.
struct Rows {
    int b0 = 0, n = 0;
    std::vector<float> h, hn, c, cn, t0, t1;  // n × Hp each

    Rows(int b0_, int n_, int Hp) : b0(b0_), n(n_) {
        for (auto* v : {&h, &hn, &c, &cn, &t0, &t1}) v->assign(static_cast<size_t>(n) * Hp, 0.0f);
    }
};

// Every row of `rows` times column tiles q = 0, qstep, 2·qstep, … < nq: the tile's NV panels are
// panel(q, v), its A rows start at a(r0) with leading dimension lda; f(row, q, acc) gets each
// row's NV accumulators.
template <int NV, class A, class P, class F>
inline void tiles(const Rows& rows, int nq, int qstep, int K, long lda, A&& a, P&& panel, F&& f) {
    constexpr int MR = rows_for<NV>();
    // Column tiles outside, row tiles inside: one column tile's panels (NV·K·W floats) stay in L1
    // while every row tile uses them; the other order streams all of U from L2 per row tile.
    for (int q = 0; q < nq; q += qstep) {
        const float* P_[NV];
        for (int v = 0; v < NV; ++v) P_[v] = panel(q, v);
        for (int r0 = 0; r0 < rows.n; r0 += MR) {
            with_rows<MR>(rows.n - r0 < MR ? rows.n - r0 : MR, [&](auto M) {
                constexpr int mr = decltype(M)::value;
                V acc[mr][NV];
                tile<mr, NV>(a(r0), lda, K, P_, acc);
                for (int r = 0; r < mr; ++r) f(r0 + r, q, static_cast<const V*>(acc[r]));
            });
        }
    }
}

// Vectors per tile when panels are independent column groups: wider tiles on AVX-512.
constexpr int NG = W == 16 ? 4 : 2;

// tiles<> over nq independent column groups, NG at a time when they divide evenly.
template <class A, class P, class F>
inline void group_tiles(const Rows& rows, int nq, int K, long lda, A&& a, P&& panel, F&& f) {
    if (nq % NG == 0) {
        tiles<NG>(rows, nq, NG, K, lda, a, panel, [&](int i, int q, const V* acc) {
            for (int v = 0; v < NG; ++v) f(i, q + v, acc[v]);
        });
    } else {
        tiles<1>(rows, nq, 1, K, lda, a, panel, [&](int i, int q, const V* acc) { f(i, q, acc[0]); });
    }
}

}  // namespace rnnkit
