// GRU, mirroring rnnkit/cells/gru.py, gates z, r, h.
//   reset_after:  ĥ = φ(x W_h + b^x_h + r ⊙ (h U_h + b^h_h))   saved (S = 4): z, r, ĥ, hh = h U_h + b^h_h
//                 gradients (D = 4): dz, dr, da ⊙ r (recurrent side of the h gate), da (input side)
//   reset_before: ĥ = φ(x W_h + b_h + (r ⊙ h) U_h)            saved (S = 4): z, r, ĥ, r ⊙ h
//                 gradients (D = 3): dz, dr, da
//   h_t = z ⊙ h_{t-1} + (1 − z) ⊙ ĥ;  da = dL/d(pre-activation of ĥ)
//   With recurrent dropout each gate's product takes h ⊙ m_g (reset_before: r ⊙ h ⊙ m_h, saved so),
//   and the carry z ⊙ h keeps h.
#pragma once

#include "../problem.h"

namespace rnnkit {

template <class A>
struct GRUAfterCell {
    static constexpr int G = 3, S = 4, D = 4;

    static void forward_step(const Problem& p, Rows& rows, int s) {
        // acc[2] holds h U_h alone; x W_h arrives separately (it stays outside r ⊙ (·))
        gate_tiles<3, true>(p, rows, s, 0, [&](int i, int q, const V* acc, V xh) {
            const int b = rows.b0 + i, u = q * W;
            const V hh = acc[2] + p.bias_h(2, u);
            const V z = A::ract(acc[0] + p.bias_x(0, u) + p.bias_h(0, u));
            const V r = A::ract(acc[1] + p.bias_x(1, u) + p.bias_h(1, u));
            const V h_hat = A::act(xh + p.bias_x(2, u) + r * hh);
            const V h = z * load(&rows.h[i * p.Hp + u]) + (1.0f - z) * h_hat;
            store(&rows.hn[i * p.Hp + u], h);
            p.save(b, s, u, {z, r, h_hat, hh});
            p.emit(b, s, u, h);
        });
    }

    static void backward_step(const Problem& p, Rows& rows, int s) {
        for (int i = 0; i < rows.n; ++i) {
            const int b = rows.b0 + i;
            for (int u = rows.u0(); u < rows.u1(); u += W) {
                const V dh = p.dh(&rows.h[i * p.Hp + u], b, s, u);
                const V z = load(p.ws_at(b, s, 0, u)), r = load(p.ws_at(b, s, 1, u));
                const V h_hat = load(p.ws_at(b, s, 2, u)), hh = load(p.ws_at(b, s, 3, u));
                const V da = A::act_back(h_hat, dh * (1.0f - z));
                p.put_dg(b, s, 0, u, A::ract_back(z, dh * (p.h_prev(b, s, u) - h_hat)));
                p.put_dg(b, s, 1, u, A::ract_back(r, da * hh));
                p.put_dg(b, s, 2, u, da * r);
                p.put_dg(b, s, 3, u, da);
                store(&rows.t0[i * p.Hp + u], dh * z);
            }
        }
        // dL/dh_{s-1} = z ⊙ dh + [dz, dr, da ⊙ r] Uᵀ (every unit of dG_s written first)
        rows.sync();
        state_grad_tiles(p, rows, s, 0, G, [&](int i, int q, V acc) {
            const int k = i * p.Hp + q * W;
            store(&rows.h[k], load(&rows.t0[k]) + acc);
        });
    }
};

template <class A>
struct GRUBeforeCell {
    static constexpr int G = 3, S = 4, D = 3;

    static void forward_step(const Problem& p, Rows& rows, int s) {
        gate_tiles<2>(p, rows, s, 0, [&](int i, int q, const V* acc, V) {
            const int b = rows.b0 + i, u = q * W, k = i * p.Hp + u;
            const V z = A::ract(acc[0] + p.bias_x(0, u));
            const V r = A::ract(acc[1] + p.bias_x(1, u));
            const V rh = r * load(&rows.h[k]) * p.rmask(2, b, u);  // r ⊙ (h ⊙ m_h)
            store(&rows.t0[k], z);
            store(&rows.t1[k], rh);
            if (p.ws) {
                store(p.ws_at(b, s, 0, u), z);
                store(p.ws_at(b, s, 1, u), r);
                store(p.ws_at(b, s, 3, u), rh);
            }
        });
        rows.sync();  // the candidate's product reads every unit of r ⊙ h
        group_tiles(rows, input_groups(p, rows, s, 2), state_groups(p, rows.t1, 2),
                    [&](int i, int q, V acc) {
                        const int b = rows.b0 + i, u = q * W, k = i * p.Hp + u;
                        const V h_hat = A::act(acc + p.bias_x(2, u));
                        const V z = load(&rows.t0[k]);
                        const V h = z * load(&rows.h[k]) + (1.0f - z) * h_hat;
                        store(&rows.hn[k], h);
                        if (p.ws) store(p.ws_at(b, s, 2, u), h_hat);
                        p.emit(b, s, u, h);
                    });
    }

    static void backward_step(const Problem& p, Rows& rows, int s) {
        for (int i = 0; i < rows.n; ++i) {
            const int b = rows.b0 + i;
            for (int u = rows.u0(); u < rows.u1(); u += W) {
                const V dh = p.dh(&rows.h[i * p.Hp + u], b, s, u);
                const V z = load(p.ws_at(b, s, 0, u)), h_hat = load(p.ws_at(b, s, 2, u));
                p.put_dg(b, s, 0, u, A::ract_back(z, dh * (p.h_prev(b, s, u) - h_hat)));
                p.put_dg(b, s, 2, u, A::act_back(h_hat, dh * (1.0f - z)));
                store(&rows.t0[i * p.Hp + u], dh * z);
            }
        }
        // d(r ⊙ h) = da U_hᵀ (every unit of da written first)
        rows.sync();
        group_tiles(rows, no_operand(), gate_grads(p, rows, s, 2, p.Hp, 2 * p.Hp),
                    [&](int i, int q, V acc) { store(&rows.t1[i * p.Hp + q * W], acc); });
        for (int i = 0; i < rows.n; ++i) {
            const int b = rows.b0 + i;
            for (int u = rows.u0(); u < rows.u1(); u += W) {
                const int k = i * p.Hp + u;
                const V drh = load(&rows.t1[k]) * p.rmask(2, b, u), r = load(p.ws_at(b, s, 1, u));
                p.put_dg(b, s, 1, u, A::ract_back(r, drh * p.h_prev(b, s, u)));
                store(&rows.t0[k], load(&rows.t0[k]) + drh * r);
            }
        }
        // dL/dh_{s-1} = z ⊙ dh + r ⊙ d(r ⊙ h) + [dz, dr] U_zrᵀ (every unit of dr written first)
        rows.sync();
        state_grad_tiles(p, rows, s, 0, 2, [&](int i, int q, V acc) {
            const int k = i * p.Hp + q * W;
            store(&rows.h[k], load(&rows.t0[k]) + acc);
        });
    }
};

}  // namespace rnnkit
