// One recurrent layer's sequence, as the kernels see it. Shapes (row-major, time-major, so that
// one step's rows are contiguous and the prefetchers follow them):
//   x   [T, B, I]      the input; Wx panels of the kernel [I, G·Hp] (gate blocks padded to Hp)
//   U   panels of the recurrent kernel [H, G·Hp]; UT panels of its transpose (packed once per
//       weight version by the caller: gemm.h pack_panels, pack_panels_transposed)
//   bx  [G·Hp]         the input-side bias, or null
//   bh  [G·Hp]         GRU reset_after: the recurrent bias (inside r ⊙ (h U_h + b_h)), else null
// The input projection x_t W is fused into each step's product (K = I, then K = H), so no
// T·B·G·H buffer of it is ever written.
//   h0, c0 [B, H]      initial states (c0 LSTM only)
//   y   [T, B, H] when seq (or in training), else [B, H];  hT, cT [B, H]
//   ws  [T, B, S·Hp]   what backward needs (training only), S per cell
//   dy  [T, B, H] or null; dhT, dcT [B, H]; dG [T, B, D·Hp] gate gradients; dh0, dc0 [B, H]
//   rm  [G, B, H] or null: recurrent dropout masks (Keras's, one per gate): gate g's product
//       takes h ⊙ m_g (the carry of GRU keeps h), and its gradient comes back through the mask
//   len [B] or null: each row's number of real steps, the first ones (a right-padded mask) or,
//       with padded_first, the last ones (a right-padded mask met backwards); hT, cT are then
//       the states after a row's last real step (h0, c0 for length 0), and dhT, dcT enter
//       backward there. At the padded steps a row holds its states, as Keras does at masked
//       steps: the steps are computed from the held states all the same (and differentiated
//       with nothing coming in), exactly as the reference loop computes and discards them.
#pragma once

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "gemm.h"

namespace rnnkit {

enum CellKind : int { SIMPLE_RNN = 0, LSTM_CELL = 1, GRU_AFTER = 2, GRU_BEFORE = 3 };

struct Problem {
    int B = 0, T = 0, H = 0, Hp = 0, G = 1, S = 0, D = 1;
    int act = TANH, ract = SIGMOID;
    int I = 0;
    const float* x = nullptr;   // [T, B, I]
    const float* bx = nullptr;  // [G·Hp] input-side bias, or null
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
    float* dWb = nullptr;  // [threads, I + 1, D·Hp]: each thread's Σ [x_t, 1]ᵀ dG_t, or null
    const float* Wx = nullptr;  // packed panels of the kernel,
    const float* U = nullptr;   // the recurrent kernel,
    const float* UT = nullptr;  // and its transpose
    const int* len = nullptr;   // [B] per-row lengths, or null
    bool padded_first = false;  // the real steps are each row's last len[b] (else its first)
    const float* rm = nullptr;  // [G, B, H] recurrent dropout masks, or null

    int groups() const { return Hp / W; }
    // Row b's real steps are [first(b), last(b)).
    int first(int b) const { return padded_first ? T - len[b] : 0; }
    int last(int b) const { return padded_first ? T : len[b]; }
    // Whether row b's last real step is s (s = -1: a right-padded row of length 0).
    bool ends(int b, int s) const { return len && last(b) - 1 == s; }
    // Whether row b holds its states at step s (a padded step).
    bool held(int b, int s) const { return len && (s < first(b) || s >= last(b)); }
    // The panel of column group q in gate block g of the kernel W (K = I rows).
    const float* w_panel(int g, int q) const {
        return Wx + static_cast<long>(g * groups() + q) * I * W;
    }
    // The panel of column group q in gate block g of U (K = H rows).
    const float* u_panel(int g, int q) const {
        return U + static_cast<long>(g * groups() + q) * H * W;
    }
    // The panel of output group q of Uᵀ, starting at row k0 (K = G·Hp rows in all).
    const float* ut_panel(int q, int k0) const {
        return UT + (static_cast<long>(q) * G * Hp + k0) * W;
    }
    long step(int b, int s) const { return static_cast<long>(s) * B + b; }
    float* ws_at(int b, int s, int slot, int u) const { return ws + step(b, s) * S * Hp + slot * Hp + u; }
    float* dg_at(int b, int s, int slot, int u) const { return dG + step(b, s) * D * Hp + slot * Hp + u; }
    // Stores a gate gradient with the padded units (past H) zeroed: their pre-activations are
    // x·0 + h·0, NaN for an infinite x, and a NaN there would reach real units through the zero
    // rows of the padded Uᵀ (and dx through those of W) as NaN·0.
    void put_dg(int b, int s, int slot, int u, V d) const {
        if (u + W > H) d = select(lane_index() < tail(u), d, splat(0.0f));
        store(dg_at(b, s, slot, u), d);
    }
    const float* x_at(int b, int s) const { return x + step(b, s) * I; }
    V bias_x(int gate, int u) const { return bx ? load(bx + gate * Hp + u) : splat(0.0f); }
    V bias_h(int gate, int u) const { return bh ? load(bh + gate * Hp + u) : splat(0.0f); }
    int tail(int u) const { return H - u; }
    // Gate g's recurrent dropout mask at row b, units u.. (ones without masks; zero past H).
    V rmask(int g, int b, int u) const {
        return rm ? load_tail(rm + (static_cast<long>(g) * B + b) * H + u, tail(u)) : splat(1.0f);
    }
    // Step buffers beyond the six every cell has: with recurrent dropout, h ⊙ m_g (G), the
    // gates' products or sums (G), and the candidate's input part (1).
    // With per-row lengths, two more: backward's held dL/dh and dL/dc of rows past their length.
    int extra_buffers() const { return (rm ? 2 * G + 1 : 0) + (len ? 2 : 0); }
    int held_buffer() const { return rm ? 2 * G + 1 : 0; }
    // Saves a step's values for backward, one slot each (training only).
    template <int N>
    void save(int b, int s, int u, const V (&values)[N]) const {
        if (!ws) return;
        for (int k = 0; k < N; ++k) store(ws_at(b, s, k, u), values[k]);
    }
    // dL/dh_s: what later steps sent back (carried in `carried`) plus this step's dL/dy_s.
    V dh(const float* carried, int b, int s, int u) const {
        V d = load(carried);
        if (dy) d += load_tail(dy + step(b, s) * H + u, tail(u));
        return d;
    }
    // The step whose states step s of row b starts from: s - 1, or, with the states held at
    // padded steps, the row's last real step before s; -1 for the initial states.
    int previous(int b, int s) const {
        if (!len) return s - 1;
        const int q = (s < last(b) ? s : last(b)) - 1;
        return q >= first(b) ? q : -1;
    }
    // h_{s-1} of batch row b (h0 at s = 0; the held state past the row's length), zero past H.
    V h_prev(int b, int s, int u) const {
        const int q = previous(b, s);
        return q >= 0 ? load_tail(y + step(b, q) * H + u, tail(u)) : load_tail(h0 + b * H + u, tail(u));
    }
    void emit(int b, int s, int u, V h) const {
        if (seq) store_tail(y + step(b, s) * H + u, h, tail(u));
        else if (s == T - 1) store_tail(y + static_cast<long>(b) * H + u, h, tail(u));
    }
};

// A barrier for the threads of one team (a generation counter): a unit-split step waits here
// between writing its units and reading everyone's. It spins, which suits a team that has the
// cores to itself (a step is microseconds long), and yields the core after SPINS rounds, so a
// team with more threads than the cores it may use slows down instead of stalling (a spinning
// waiter would hold the core that the last thread to arrive needs).
class Barrier {
  public:
    static constexpr int SPINS = 4096;
    // Every thread states the team size before its first wait (all state the same number).
    void expect(int n) { n_.store(n, std::memory_order_relaxed); }
    void wait() {
        const int gen = generation_.load(std::memory_order_acquire);
        if (arrived_.fetch_add(1, std::memory_order_acq_rel) == n_.load(std::memory_order_relaxed) - 1) {
            arrived_.store(0, std::memory_order_relaxed);
            generation_.store(gen + 1, std::memory_order_release);
            return;
        }
        for (int k = 0; generation_.load(std::memory_order_acquire) == gen; ++k) {
            if (k < SPINS) pause();
            else std::this_thread::yield();
        }
    }

  private:
    static void pause() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    std::atomic<int> n_{1}, arrived_{0}, generation_{0};
};

// The step buffers of n batch rows: state h, c, the next state hn, cn, scratch t0, t1, and
// `extra` more (n × Hp each).
struct StepBuffers {
    int n, Hp, extra;
    std::vector<float> data;
    StepBuffers(int n_, int Hp_, int extra_ = 0)
        : n(n_), Hp(Hp_), extra(extra_), data(static_cast<size_t>(6 + extra_) * n_ * Hp_, 0.0f) {}
    float* slot(int k) { return data.data() + static_cast<long>(k) * n * Hp; }
};

// What one thread works on: the batch rows [b0, b0 + n) and the unit groups [q0, q1) of them
// (a split over rows gives each thread all groups of its rows; a split over units gives each
// thread some groups of all rows, and then the team shares the buffers and meets at a barrier
// wherever a step reads units that other threads wrote).
struct Rows {
    int b0 = 0, n = 0, q0 = 0, q1 = 0;
    int thread = 0;                    // this thread's index in the team
    float *h, *hn, *c, *cn, *t0, *t1;  // row i, unit u at [i·Hp + u]
    float* more;                       // the extra buffers, one after another
    int Hp;
    Barrier* barrier = nullptr;

    Rows(StepBuffers& buf, int b0_, int q0_, int q1_, Barrier* barrier_ = nullptr)
        : b0(b0_), n(buf.n), q0(q0_), q1(q1_), h(buf.slot(0)), hn(buf.slot(1)), c(buf.slot(2)),
          cn(buf.slot(3)), t0(buf.slot(4)), t1(buf.slot(5)), more(buf.slot(6)), Hp(buf.Hp),
          barrier(barrier_) {}
    float* extra(int k) const { return more + static_cast<long>(k) * n * Hp; }
    int u0() const { return q0 * W; }
    int u1() const { return q1 * W; }
    void sync() const {
        if (barrier) barrier->wait();
    }
    void next() {
        std::swap(h, hn);
        std::swap(c, cn);
    }
};

// One factor of a step's product: A rows start at a(r0) with leading dimension lda and K
// columns; column tile q's v-th panel is panel(q, v).
template <class A, class P>
struct Operand {
    A a;
    P panel;
    long lda;
    int K;
};

template <class A, class P>
inline Operand<A, P> operand(A a, long lda, int K, P panel) { return {a, panel, lda, K}; }

inline auto no_operand() {
    return operand([](int) { return static_cast<const float*>(nullptr); }, 0, 0,
                   [](int, int) { return static_cast<const float*>(nullptr); });
}

// The operands of a step's forward product. "gates": tile q's panel v is gate g0 + v of unit
// group q (all of a unit's gates in one tile); "groups": panel v is unit group q + v of one gate.
inline auto input_gates(const Problem& p, const Rows& rows, int s, int g0 = 0) {
    return operand([&p, &rows, s](int r0) { return p.x_at(rows.b0 + r0, s); }, p.I, p.I,
                   [&p, g0](int q, int v) { return p.w_panel(g0 + v, q); });
}
inline auto input_groups(const Problem& p, const Rows& rows, int s, int gate) {
    return operand([&p, &rows, s](int r0) { return p.x_at(rows.b0 + r0, s); }, p.I, p.I,
                   [&p, gate](int q, int v) { return p.w_panel(gate, q + v); });
}
inline auto state_gates(const Problem& p, const float* a, int g0 = 0) {
    return operand([&p, a](int r0) { return a + r0 * p.Hp; }, p.Hp, p.H,
                   [&p, g0](int q, int v) { return p.u_panel(g0 + v, q); });
}
inline auto state_groups(const Problem& p, const float* a, int gate) {
    return operand([&p, a](int r0) { return a + r0 * p.Hp; }, p.Hp, p.H,
                   [&p, gate](int q, int v) { return p.u_panel(gate, q + v); });
}
// The backward product's operand: gate gradients from block `slot` on, K columns, times Uᵀ
// from row k0.
inline auto gate_grads(const Problem& p, const Rows& rows, int s, int slot, int K, int k0) {
    return operand([&p, &rows, s, slot](int r0) { return p.dg_at(rows.b0 + r0, s, slot, 0); },
                   static_cast<long>(p.D) * p.Hp, K,
                   [&p, k0](int q, int v) { return p.ut_panel(q + v, k0); });
}

// Every row of `rows` times its column tiles q = q0, q0 + qstep, … < q1 of x·Wx + h·U (two operands, the
// input's and the state's, summed in the same registers). With SPLIT, the last vector's input
// part is handed to f separately (GRU reset_after keeps x W_h apart from h U_h).
// f(row, q, acc, x_part_of_last) gets each row's NV accumulators.
template <int NV, bool SPLIT = false, class X, class Hs, class F>
inline void tiles(const Rows& rows, int qstep, const X& x, const Hs& h, F&& f) {
    constexpr int MR = rows_for<NV>();
    // Column tiles outside, row tiles inside: one column tile's panels stay in L1 while every
    // row tile uses them; the other order streams all of U from L2 once per row tile.
    for (int q = rows.q0; q < rows.q1; q += qstep) {
        const float *px[NV], *ph[NV];
        for (int v = 0; v < NV; ++v) px[v] = x.panel(q, v), ph[v] = h.panel(q, v);
        for (int r0 = 0; r0 < rows.n; r0 += MR) {
            with_rows<MR>(rows.n - r0 < MR ? rows.n - r0 : MR, [&](auto M) {
                constexpr int mr = decltype(M)::value;
                V c[mr][NV], x_last[mr];
                for (int r = 0; r < mr; ++r)
                    for (int v = 0; v < NV; ++v) c[r][v] = splat(0.0f);
                accumulate<mr, NV>(x.a(r0), x.lda, x.K, px, c);
                for (int r = 0; r < mr; ++r) {
                    x_last[r] = SPLIT ? c[r][NV - 1] : splat(0.0f);
                    if (SPLIT) c[r][NV - 1] = splat(0.0f);
                }
                accumulate<mr, NV>(h.a(r0), h.lda, h.K, ph, c);
                for (int r = 0; r < mr; ++r) f(r0 + r, q, static_cast<const V*>(c[r]), x_last[r]);
            });
        }
    }
}

// Vectors per tile when panels are independent column groups: wider tiles on AVX-512.
constexpr int NG = W == 16 ? 4 : 2;

// tiles<> over the rows' independent column groups, NG at a time when they divide evenly;
// f(row, q, acc) per row and group.
template <class X, class Hs, class F>
inline void group_tiles(const Rows& rows, const X& x, const Hs& h, F&& f) {
    if ((rows.q1 - rows.q0) % NG == 0) {
        tiles<NG>(rows, NG, x, h, [&](int i, int q, const V* acc, V) {
            for (int v = 0; v < NG; ++v) f(i, q + v, acc[v]);
        });
    } else {
        tiles<1>(rows, 1, x, h, [&](int i, int q, const V* acc, V) { f(i, q, acc[0]); });
    }
}

}  // namespace rnnkit

namespace rnnkit {

// Recurrent dropout: the gates [g0, g0 + NV) of a step read h ⊙ m_g, a different operand per
// gate, so each gate's product runs on its own (into the extra buffers), and then f gets the
// same accumulators, row by row and unit group by unit group, that tiles<NV, SPLIT> gives it.
template <int NV, bool SPLIT = false, class F>
void masked_gate_tiles(const Problem& p, Rows& rows, int s, int g0, F&& f) {
    for (int v = 0; v < NV; ++v)
        for (int i = 0; i < rows.n; ++i)
            for (int u = rows.u0(); u < rows.u1(); u += W) {
                const int k = i * p.Hp + u;
                store(rows.extra(v) + k, load(&rows.h[k]) * p.rmask(g0 + v, rows.b0 + i, u));
            }
    rows.sync();  // every unit of h ⊙ m_g is written before any product reads it
    auto into = [&](float* out) {
        return [&p, out](int i, int q, V acc) { store(out + i * p.Hp + q * W, acc); };
    };
    for (int v = 0; v < NV; ++v) {
        float* z = rows.extra(p.G + v);
        if (SPLIT && v == NV - 1) {  // x W_h stays apart (GRU reset_after)
            group_tiles(rows, input_groups(p, rows, s, g0 + v), no_operand(), into(rows.extra(2 * p.G)));
            group_tiles(rows, no_operand(), state_groups(p, rows.extra(v), g0 + v), into(z));
        } else {
            group_tiles(rows, input_groups(p, rows, s, g0 + v), state_groups(p, rows.extra(v), g0 + v), into(z));
        }
    }
    for (int q = rows.q0; q < rows.q1; ++q)
        for (int i = 0; i < rows.n; ++i) {
            const int k = i * p.Hp + q * W;
            V acc[NV];
            for (int v = 0; v < NV; ++v) acc[v] = load(rows.extra(p.G + v) + k);
            f(i, q, static_cast<const V*>(acc), SPLIT ? load(rows.extra(2 * p.G) + k) : splat(0.0f));
        }
}

// A step's forward products, x W + h U for the gates [g0, g0 + NV): fused tiles, or one product
// per gate with recurrent dropout.
template <int NV, bool SPLIT = false, class F>
void gate_tiles(const Problem& p, Rows& rows, int s, int g0, F&& f) {
    if (p.rm) return masked_gate_tiles<NV, SPLIT>(p, rows, s, g0, f);
    tiles<NV, SPLIT>(rows, 1, input_gates(p, rows, s, g0), state_gates(p, rows.h, g0), f);
}

// dL/dh_{s-1} through a step's products: Σ_g (dG_g U_gᵀ) ⊙ m_g over the gradient blocks
// [slot0, slot0 + count) (mask g for block g; no masks: one product, K = count·Hp).
// f(row, unit group, sum).
template <class F>
void state_grad_tiles(const Problem& p, Rows& rows, int s, int slot0, int count, F&& f) {
    if (!p.rm) return group_tiles(rows, no_operand(), gate_grads(p, rows, s, slot0, count * p.Hp, slot0 * p.Hp), f);
    float* sum = rows.extra(p.G);
    for (int g = slot0; g < slot0 + count; ++g)
        group_tiles(rows, no_operand(), gate_grads(p, rows, s, g, p.Hp, g * p.Hp), [&](int i, int q, V acc) {
            const int k = i * p.Hp + q * W;
            const V d = acc * p.rmask(g, rows.b0 + i, q * W);
            store(sum + k, g == slot0 ? d : load(sum + k) + d);
        });
    for (int q = rows.q0; q < rows.q1; ++q)
        for (int i = 0; i < rows.n; ++i) f(i, q, load(sum + i * p.Hp + q * W));
}

}  // namespace rnnkit
