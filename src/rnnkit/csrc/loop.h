// The recurrent loop, one template for every cell: a team of threads splits the batch rows and
// each thread runs the whole sequence for its rows, with no barrier between time steps.
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

template <class F>
struct RowSplit {
    F* f;
    int B;
    static void run(void* self) {
        auto* job = static_cast<RowSplit*>(self);
        const int k = openmp().thread_num(), n = openmp().num_threads(), B = job->B;
        (*job->f)(B * k / n, B * (k + 1) / n - B * k / n);
    }
};

template <class F>
inline void parallel_rows(int B, int threads, F&& f) {
    const int n = std::max(1, std::min(threads, B));
    if (n > 1 && openmp().parallel) {
        RowSplit<std::remove_reference_t<F>> job{&f, B};
        openmp().parallel(&RowSplit<std::remove_reference_t<F>>::run, &job, n, 0);
        return;
    }
    std::vector<std::thread> team;
    for (int k = 1; k < n; ++k) team.emplace_back([&, k] { f(B * k / n, B * (k + 1) / n - B * k / n); });
    f(0, B / n);
    for (auto& t : team) t.join();
}

inline void load_rows(std::vector<float>& dst, const float* src, int b0, int n, int H, int Hp) {
    if (!src) return;
    for (int i = 0; i < n; ++i) std::copy_n(src + static_cast<long>(b0 + i) * H, H, dst.data() + i * Hp);
}

inline void save_rows(float* dst, const std::vector<float>& src, int b0, int n, int H, int Hp) {
    if (!dst) return;
    for (int i = 0; i < n; ++i) std::copy_n(src.data() + i * Hp, H, dst + static_cast<long>(b0 + i) * H);
}

template <class Cell>
void forward(const Problem& p, int threads) {
    parallel_rows(p.B, threads, [&](int b0, int n) {
        Rows rows(b0, n, p.Hp);
        load_rows(rows.h, p.h0, b0, n, p.H, p.Hp);
        load_rows(rows.c, p.c0, b0, n, p.H, p.Hp);
        for (int s = 0; s < p.T; ++s) {
            Cell::forward_step(p, rows, s);
            std::swap(rows.h, rows.hn);
            std::swap(rows.c, rows.cn);
        }
        save_rows(p.hT, rows.h, b0, n, p.H, p.Hp);
        save_rows(p.cT, rows.c, b0, n, p.H, p.Hp);
    });
}

// rows.h carries dL/dh and rows.c dL/dc backwards through time.
template <class Cell>
void backward(const Problem& p, int threads) {
    parallel_rows(p.B, threads, [&](int b0, int n) {
        Rows rows(b0, n, p.Hp);
        load_rows(rows.h, p.dhT, b0, n, p.H, p.Hp);
        load_rows(rows.c, p.dcT, b0, n, p.H, p.Hp);
        for (int s = p.T - 1; s >= 0; --s) Cell::backward_step(p, rows, s);
        save_rows(p.dh0, rows.h, b0, n, p.H, p.Hp);
        save_rows(p.dc0, rows.c, b0, n, p.H, p.Hp);
    });
}

}  // namespace rnnkit
