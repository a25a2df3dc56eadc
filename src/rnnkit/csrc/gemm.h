// The small matrix product of every time step, C (m × NV·W) = A (m × K) · B (K × NV·W), with B
// pre-packed into column panels so that each k reads NV vectors that sit next to each other.
#pragma once

#include <type_traits>
#include <vector>

#include "simd.h"

namespace rnnkit {

// B: (K, N) row-major with leading dimension ldb → ceil(N / W) panels, each K × W contiguous;
// columns at or past N are zero.
inline void pack_panels(const float* B, int K, int N, long ldb, std::vector<float>& out) {
    const int P = (N + W - 1) / W;
    out.assign(static_cast<size_t>(P) * K * W, 0.0f);
    for (int p = 0; p < P; ++p)
        for (int k = 0; k < K; ++k)
            for (int j = 0; j < W && p * W + j < N; ++j)
                out[(static_cast<size_t>(p) * K + k) * W + j] = B[k * ldb + p * W + j];
}

// The panels of Bᵀ for B: (R, C) row-major, i.e. of a (C, R) matrix: Bᵀ[k][n] = B[n][k].
inline void pack_panels_transposed(const float* B, int R, int C, long ldb, int N_padded,
                                   std::vector<float>& out) {
    const int P = N_padded / W;
    out.assign(static_cast<size_t>(P) * C * W, 0.0f);
    for (int p = 0; p < P; ++p)
        for (int k = 0; k < C; ++k)
            for (int j = 0; j < W && p * W + j < R; ++j)
                out[(static_cast<size_t>(p) * C + k) * W + j] = B[(p * W + j) * ldb + k];
}

// c[r][v] += Σ_k a[r·lda + k] · panel[v][k·W .. k·W + W)
template <int MR, int NV>
__attribute__((always_inline)) inline void accumulate(const float* a, long lda, int K,
                                                      const float* const* panel, V (&c)[MR][NV]) {
    for (int k = 0; k < K; ++k) {
        V b[NV];
#pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) b[v] = load(panel[v] + static_cast<long>(k) * W);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
            const V ar = splat(a[r * lda + k]);
#pragma GCC unroll 16
            for (int v = 0; v < NV; ++v) c[r][v] += ar * b[v];
        }
    }
}

// Calls f(std::integral_constant<int, m>) for a row count m in 1..MR known only at run time.
template <int MR, class F>
inline void with_rows(int m, F&& f) {
    if constexpr (MR > 1) {
        if (m < MR) return with_rows<MR - 1>(m, f);
    }
    f(std::integral_constant<int, MR>{});
}

// Rows per tile for NV vectors per row: as many accumulators as the register file holds
// (32 vector registers with AVX-512, 16 otherwise), leaving room for B and one broadcast.
template <int NV>
constexpr int rows_for() {
    constexpr int regs = W == 16 ? 32 : 16;
    constexpr int mr = (regs - NV - 1) / NV;
    return mr < 1 ? 1 : (mr > 8 ? 8 : mr);
}

// Loads n <= W floats (the tail of a row whose length is not a multiple of W), zero-filled.
inline V load_tail(const float* p, int n) {
    if (n >= W) return load(p);
    float tmp[W] = {};
    for (int j = 0; j < n; ++j) tmp[j] = p[j];
    return load(tmp);
}

inline void store_tail(float* p, V v, int n) {
    if (n >= W) return store(p, v);
    float tmp[W];
    store(tmp, v);
    for (int j = 0; j < n; ++j) p[j] = tmp[j];
}

}  // namespace rnnkit
