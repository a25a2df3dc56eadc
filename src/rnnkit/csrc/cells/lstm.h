// LSTM, mirroring rnnkit/cells/lstm.py: gates i, f, c, o; c_t = f c + i φ(z_c); h_t = o φ(c_t).
// Saved for backward (S = 5): i, f, g = φ(z_c), o, c_t.  Gate gradients (D = 4): dz_i..dz_o.
#pragma once

#include "../problem.h"

namespace rnnkit {

template <class A>
struct LSTMCell {
    static constexpr int G = 4, S = 5, D = 4;

    static void forward_step(const Problem& p, Rows& rows, int s) {
        gate_tiles<4>(p, rows, s, 0, [&](int i, int q, const V* acc, V) {
            const int b = rows.b0 + i, u = q * W;
            const V ig = A::ract(acc[0] + p.bias_x(0, u));
            const V f = A::ract(acc[1] + p.bias_x(1, u));
            const V g = A::act(acc[2] + p.bias_x(2, u));
            const V o = A::ract(acc[3] + p.bias_x(3, u));
            const V c = f * load(&rows.c[i * p.Hp + u]) + ig * g;
            const V h = o * A::act(c);
            store(&rows.cn[i * p.Hp + u], c);
            store(&rows.hn[i * p.Hp + u], h);
            p.save(b, s, u, {ig, f, g, o, c});
            p.emit(b, s, u, h);
        });
    }

    // rows.h holds dL/dh_s (from later steps), rows.c holds dL/dc_s; both become those of s-1.
    static void backward_step(const Problem& p, Rows& rows, int s) {
        for (int i = 0; i < rows.n; ++i) {
            const int b = rows.b0 + i;
            for (int u = rows.u0(); u < rows.u1(); u += W) {
                const V dh = p.dh(&rows.h[i * p.Hp + u], b, s, u);
                const V ig = load(p.ws_at(b, s, 0, u)), f = load(p.ws_at(b, s, 1, u));
                const V g = load(p.ws_at(b, s, 2, u)), o = load(p.ws_at(b, s, 3, u));
                const V c = load(p.ws_at(b, s, 4, u));
                const int q = p.previous(b, s);  // c_{s-1}, held past the row's length
                const V c_prev = q >= 0 ? load(p.ws_at(b, q, 4, u)) : load_tail(p.c0 + b * p.H + u, p.tail(u));
                const V tc = A::act(c);
                const V dc = load(&rows.c[i * p.Hp + u]) + A::act_back(tc, dh * o);
                store(&rows.c[i * p.Hp + u], dc * f);
                p.put_dg(b, s, 0, u, A::ract_back(ig, dc * g));
                p.put_dg(b, s, 1, u, A::ract_back(f, dc * c_prev));
                p.put_dg(b, s, 2, u, A::act_back(g, dc * ig));
                p.put_dg(b, s, 3, u, A::ract_back(o, dh * tc));
            }
        }
        // dL/dh_{s-1} = dG_s Uᵀ (every unit of dG_s written first)
        rows.sync();
        state_grad_tiles(p, rows, s, 0, G, [&](int i, int q, V acc) { store(&rows.h[i * p.Hp + q * W], acc); });
    }
};

}  // namespace rnnkit
