// The recurrent loop, one template for every cell: a team of threads splits the batch rows (each
// thread runs the whole sequence for its rows, with no barrier between time steps) or, when
// there are few rows, the hidden units (with a barrier wherever a step reads units that other
// threads wrote).
#pragma once

#include <algorithm>
#include <thread>
#include <type_traits>
#include <vector>

#include "problem.h"

namespace rnnkit {

// The OpenMP runtime torch already runs, when Python hands it over (set_openmp): running on
// its thread team, rather than on threads of our own, keeps its workers — which spin for a few
// milliseconds after every parallel torch op — from competing with ours for the same cores.
// Only the C ABI of the runtime is used (GOMP_parallel and two omp_* queries).
struct OpenMP {
    void (*parallel)(void (*)(void*), void*, unsigned, unsigned) = nullptr;
    int (*thread_num)() = nullptr;
    int (*num_threads)() = nullptr;
};
inline OpenMP& openmp() {
    static OpenMP runtime;
    return runtime;
}

// f(k, n) on each thread k of a team of n <= threads (the runtime may grant fewer).
template <class F>
struct Team {
    F* f;
    static void run(void* self) {
        (*static_cast<Team*>(self)->f)(openmp().thread_num(), openmp().num_threads());
    }
};

template <class F>
inline void parallel_team(int threads, F&& f) {
    if (threads > 1 && openmp().parallel) {
        Team<std::remove_reference_t<F>> job{&f};
        openmp().parallel(&Team<std::remove_reference_t<F>>::run, &job, threads, 0);
        return;
    }
    std::vector<std::thread> team;
    for (int k = 1; k < threads; ++k) team.emplace_back([&, k] { f(k, threads); });
    f(0, threads);
    for (auto& t : team) t.join();
}

enum Split : int { SPLIT_AUTO = 0, SPLIT_ROWS = 1, SPLIT_UNITS = 2 };

// Split the hidden units rather than the batch rows when each thread would get at most two
// rows: then a thread streams all of U for a row or two each step, and a barrier per step costs
// less (measured on 2 cores, forward and backward: units 1.1-1.9x faster at 1-2 rows per
// thread, either way at 3, rows 1.1-1.4x faster from 4 on; batch 1 included). Never with more
// threads than the cores the process may use: a barrier per step then waits for threads that
// are not running (LSTM(512), B = 1 on 2 cores: 14 ms by rows, 479 ms by units at 4 threads).
inline bool split_units(const Problem& p, int threads, int split, int cores) {
    if (split != SPLIT_AUTO) return split == SPLIT_UNITS;
    return threads > 1 && threads <= cores && p.B < 3 * threads && p.groups() >= 2 * NG * threads;
}

// Unit groups are handed out in whole tiles of NG groups when they divide evenly, else singly.
inline int unit_chunk(int groups) { return groups % NG == 0 ? NG : 1; }

// Thread k of n gets unit groups [q0, q1).
inline std::pair<int, int> unit_range(int groups, int k, int n) {
    const int chunk = unit_chunk(groups), chunks = groups / chunk;
    return {chunks * k / n * chunk, chunks * (k + 1) / n * chunk};
}

// Copies rows [b0, b0 + n), units [u0, u1) ∩ [0, H), of a [B, H] state into step buffers, or back.
inline void load_state(float* dst, const float* src, const Rows& rows, int H, int Hp) {
    if (!src) return;
    const int u1 = std::min(rows.u1(), H);
    for (int i = 0; i < rows.n; ++i)
        for (int u = rows.u0(); u < u1; ++u) dst[i * Hp + u] = src[static_cast<long>(rows.b0 + i) * H + u];
}

inline void save_state(float* dst, const float* src, const Rows& rows, int H, int Hp) {
    if (!dst) return;
    const int u1 = std::min(rows.u1(), H);
    for (int i = 0; i < rows.n; ++i)
        for (int u = rows.u0(); u < u1; ++u) dst[static_cast<long>(rows.b0 + i) * H + u] = src[i * Hp + u];
}

// Runs body(rows) on a team that splits the batch rows (each thread has its own rows and
// buffers, no barrier) or the hidden units (shared buffers, barriers inside the steps), with
// the states (h, c) loaded from h_in, c_in before and stored to h_out, c_out after.
template <class F>
void sequence(const Problem& p, int threads, int split, int cores, const float* h_in, const float* c_in,
              float* h_out, float* c_out, F&& body) {
    auto run = [&](Rows& rows) {
        load_state(rows.h, h_in, rows, p.H, p.Hp);
        load_state(rows.c, c_in, rows, p.H, p.Hp);
        rows.sync();
        body(rows);
        save_state(h_out, rows.h, rows, p.H, p.Hp);
        save_state(c_out, rows.c, rows, p.H, p.Hp);
    };
    if (split_units(p, threads, split, cores)) {
        const int groups = p.groups();
        StepBuffers buf(p.B, p.Hp, p.extra_buffers());
        Barrier barrier;
        parallel_team(std::max(1, std::min(threads, groups / unit_chunk(groups))), [&](int k, int n) {
            barrier.expect(n);
            const auto [q0, q1] = unit_range(groups, k, n);
            Rows rows(buf, 0, q0, q1, n > 1 ? &barrier : nullptr);
            rows.thread = k;
            run(rows);
        });
        return;
    }
    parallel_team(std::max(1, std::min(threads, p.B)), [&](int k, int n) {
        const int b0 = p.B * k / n;
        StepBuffers buf(p.B * (k + 1) / n - b0, p.Hp, p.extra_buffers());
        Rows rows(buf, b0, 0, p.groups());
        rows.thread = k;
        run(rows);
    });
}

// Rows whose last real step is s (per-row lengths): their states h, c, this thread's units,
// become the final states hT, cT.
inline void save_ending_rows(const Problem& p, const Rows& rows, int s, const float* h, const float* c) {
    const int u1 = std::min(rows.u1(), p.H);
    for (int i = 0; i < rows.n; ++i) {
        const int b = rows.b0 + i;
        if (!p.ends(b, s)) continue;
        for (int u = rows.u0(); u < u1; ++u) {
            p.hT[static_cast<long>(b) * p.H + u] = h[i * p.Hp + u];
            if (p.cT) p.cT[static_cast<long>(b) * p.H + u] = c[i * p.Hp + u];
        }
    }
}

// f(k) for each of this thread's units k = i·Hp + u of the rows that hold their states at step
// s (a padded step of theirs).
template <class F>
inline void for_held_units(const Problem& p, const Rows& rows, int s, F&& f) {
    for (int i = 0; i < rows.n; ++i) {
        if (!p.held(rows.b0 + i, s)) continue;
        for (int u = rows.u0(); u < rows.u1(); ++u) f(i * p.Hp + u);
    }
}

// Rows past their length at step s keep their states (this thread's units), as Keras keeps
// them at masked steps: the step's values, computed and saved all the same, then start from
// the held states, as the reference loop's discarded ones do (a NaN in a padded input stays in
// its own step, and the gradients of the padded steps are the reference's: zero, or NaN where
// its own derivatives are).
inline void hold_ended_rows(const Problem& p, Rows& rows, int s) {
    for_held_units(p, rows, s, [&](int k) { rows.hn[k] = rows.h[k], rows.cn[k] = rows.c[k]; });
}

// Backward's side of the held states: at a padded step, what flows back from later steps
// passes by the step to the held state (the reference loop's torch.where), and the step itself
// is differentiated with nothing coming in (its gate gradients are 0, or NaN where its own
// derivatives are, as the reference's). Before the step (put_aside) the carried gradients move
// aside and zeros take their place; after it (put_back) they are added again.
inline void put_aside(const Problem& p, Rows& rows, int s) {
    float* dh = rows.extra(p.held_buffer());
    float* dc = rows.extra(p.held_buffer() + 1);
    for_held_units(p, rows, s, [&](int k) {
        dh[k] = rows.h[k], dc[k] = rows.c[k];
        rows.h[k] = rows.c[k] = 0.0f;
    });
}

inline void put_back(const Problem& p, Rows& rows, int s) {
    const float* dh = rows.extra(p.held_buffer());
    const float* dc = rows.extra(p.held_buffer() + 1);
    for_held_units(p, rows, s, [&](int k) { rows.h[k] += dh[k], rows.c[k] += dc[k]; });
}

// Rows whose last real step is s: dL/dhT, dL/dcT join what flows back into that step.
inline void add_ending_rows(const Problem& p, Rows& rows, int s) {
    const int u1 = std::min(rows.u1(), p.H);
    for (int i = 0; i < rows.n; ++i) {
        const int b = rows.b0 + i;
        if (!p.ends(b, s)) continue;
        for (int u = rows.u0(); u < u1; ++u) {
            if (p.dhT) rows.h[i * p.Hp + u] += p.dhT[static_cast<long>(b) * p.H + u];
            if (p.dcT) rows.c[i * p.Hp + u] += p.dcT[static_cast<long>(b) * p.H + u];
        }
    }
}

template <class Cell>
void forward(const Problem& p, int threads, int split, int cores) {
    const bool lengths = p.len != nullptr;  // then the final states are saved row by row
    sequence(p, threads, split, cores, p.h0, p.c0, lengths ? nullptr : p.hT, lengths ? nullptr : p.cT, [&](Rows& rows) {
        if (lengths) save_ending_rows(p, rows, -1, rows.h, rows.c);
        for (int s = 0; s < p.T; ++s) {
            Cell::forward_step(p, rows, s);
            if (lengths) hold_ended_rows(p, rows, s);
            rows.sync();  // every unit of h_s is written before any thread reads it
            if (lengths) save_ending_rows(p, rows, s, rows.hn, rows.cn);
            rows.next();
        }
    });
}

// The thread's partial sum dWb_k += [x_s, 1]ᵀ dG_s over its rows and units, while dG_s is still
// in cache: the kernel's and the input-side bias's gradients without another pass over dG
// (for a few input features; many are one large product after the loop).
inline void accumulate_input_grads(const Problem& p, const Rows& rows, int s) {
    const long n = static_cast<long>(p.D) * p.Hp;
    float* acc = p.dWb + rows.thread * (p.I + 1) * n;
    for (int r = 0; r < rows.n; ++r) {
        const float* x = p.x_at(rows.b0 + r, s);
        const float* dg = p.dg_at(rows.b0 + r, s, 0, 0);
        for (int slot = 0; slot < p.D; ++slot)
            for (int u = rows.u0(); u < rows.u1(); u += W) {
                const long j = slot * p.Hp + u;
                const V d = load(dg + j);
                for (int i = 0; i < p.I; ++i) store(acc + i * n + j, load(acc + i * n + j) + x[i] * d);
                store(acc + p.I * n + j, load(acc + p.I * n + j) + d);
            }
    }
}

// rows.h carries dL/dh and rows.c dL/dc backwards through time.
template <class Cell>
void backward(const Problem& p, int threads, int split, int cores) {
    const bool lengths = p.len != nullptr;  // then dhT, dcT enter at each row's last step
    sequence(p, threads, split, cores, lengths ? nullptr : p.dhT, lengths ? nullptr : p.dcT, p.dh0, p.dc0, [&](Rows& rows) {
        for (int s = p.T - 1; s >= 0; --s) {
            if (lengths) add_ending_rows(p, rows, s), put_aside(p, rows, s);
            Cell::backward_step(p, rows, s);
            if (lengths) put_back(p, rows, s);
            if (p.dWb) accumulate_input_grads(p, rows, s);
        }
        if (lengths) add_ending_rows(p, rows, -1);
    });
}

}  // namespace rnnkit
