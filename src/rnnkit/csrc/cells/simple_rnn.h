// SimpleRNN, mirroring rnnkit/cells/simple_rnn.py: h_t = φ(x_t W + b + h_{t-1} U).
// Nothing saved beyond y (S = 0): φ'(z) follows from h_t.  Gate gradients (D = 1): dz.
#pragma once

#include "../problem.h"

namespace rnnkit {

template <class A>
struct SimpleRNNCell {
    static constexpr int G = 1, S = 0, D = 1;

    static void forward_step(const Problem& p, Rows& rows, int s) {
        auto step = [&](int i, int q, V acc) {
            const int b = rows.b0 + i, u = q * W;
            const V h = A::act(acc + p.bias_x(0, u));
            store(&rows.hn[i * p.Hp + u], h);
            p.emit(b, s, u, h);
        };
        if (p.rm) return masked_gate_tiles<1>(p, rows, s, 0, [&](int i, int q, const V* acc, V) { step(i, q, acc[0]); });
        group_tiles(rows, input_groups(p, rows, s, 0), state_groups(p, rows.h, 0), step);
    }

    static void backward_step(const Problem& p, Rows& rows, int s) {
        for (int i = 0; i < rows.n; ++i) {
            const int b = rows.b0 + i;
            for (int u = rows.u0(); u < rows.u1(); u += W) {
                const V dh = p.dh(&rows.h[i * p.Hp + u], b, s, u);
                const V h = load_tail(p.y + p.step(b, s) * p.H + u, p.tail(u));
                p.put_dg(b, s, 0, u, A::act_back(h, dh));
            }
        }
        // dL/dh_{s-1} = dz_s Uᵀ (every unit of dz_s written first)
        rows.sync();
        state_grad_tiles(p, rows, s, 0, 1, [&](int i, int q, V acc) { store(&rows.h[i * p.Hp + q * W], acc); });
    }
};

}  // namespace rnnkit
