// SimpleRNN, mirroring rnnkit/cells/simple_rnn.py: h_t = φ(x_t W + b + h_{t-1} U).
// Nothing saved beyond y (S = 0): φ'(z) follows from h_t.  Gate gradients (D = 1): dz.
#pragma once

#include "../problem.h"

namespace rnnkit {

template <class A>
struct SimpleRNNCell {
    static constexpr int G = 1, S = 0, D = 1;

    static void forward_step(const Problem& p, Rows& rows, int s) {
        auto x = operand([&](int r0) { return p.x_at(rows.b0 + r0, s); }, p.I, p.I,
                         [&](int q, int v) { return p.w_panel(0, q + v); });
        auto hs = operand([&](int r0) { return rows.h.data() + r0 * p.Hp; }, p.Hp, p.H,
                          [&](int q, int v) { return p.u_panel(0, q + v); });
        group_tiles(rows, p.groups(), x, hs,
                    [&](int i, int q, V acc) {
                        const int b = rows.b0 + i, u = q * W;
                        const V h = A::act(acc + p.bias_x(0, u));
                        store(&rows.hn[i * p.Hp + u], h);
                        p.emit(b, s, u, h);
                    });
    }

    static void backward_step(const Problem& p, Rows& rows, int s) {
        for (int i = 0; i < rows.n; ++i) {
            const int b = rows.b0 + i;
            for (int u = 0; u < p.Hp; u += W) {
                const V dh = p.dh(&rows.h[i * p.Hp + u], b, s, u);
                const V h = load_tail(p.y + p.step(b, s) * p.H + u, p.tail(u));
                store(p.dg_at(b, s, 0, u), dh * A::act_grad(h));
            }
        }
        auto dg = operand([&](int r0) { return p.dg_at(rows.b0 + r0, s, 0, 0); }, D * p.Hp, p.Hp,
                          [&](int q, int v) { return p.ut_panel(q + v, 0); });
        group_tiles(rows, p.groups(), no_operand(), dg,
                    [&](int i, int q, V acc) { store(&rows.h[i * p.Hp + q * W], acc); });
    }
};

}  // namespace rnnkit
