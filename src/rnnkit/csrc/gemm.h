// The small matrix product of every time step, C (m × NV·W) = A (m × K) · B (K × NV·W), with B
// pre-packed into column panels so that each k reads NV vectors that sit next to each other.
#pragma once

#include <type_traits>
#include <vector>

#include "simd.h"

namespace rnnkit {

// A weight in Keras layout, (K, G·H) row-major, is used with each of its G gate blocks padded
// to Hp columns (a multiple of W). Column n of the padded matrix comes from column
// source_column(n) of the weight, or is zero (-1).
inline int source_column(int n, int H, int Hp) {
    const int g = n / Hp, u = n % Hp;
    return u < H ? g * H + u : -1;
}

// The padded (K, G·Hp) matrix as G·Hp / W column panels, each K × W contiguous.
inline void pack_panels(const float* B, int K, int G, int H, int Hp, float* out) {
    const int P = G * Hp / W;
    for (int p = 0; p < P; ++p)
        for (int k = 0; k < K; ++k)
            for (int j = 0; j < W; ++j) {
                const int n = source_column(p * W + j, H, Hp);
                out[(static_cast<long>(p) * K + k) * W + j] = n < 0 ? 0.0f : B[static_cast<long>(k) * G * H + n];
            }
}

// The transpose of the padded (H, G·Hp) matrix, (G·Hp, Hp) with rows past H zero, as Hp / W
// column panels, each G·Hp × W contiguous.
inline void pack_panels_transposed(const float* B, int H, int G, int Hp, float* out) {
    const int P = Hp / W, K = G * Hp;
    for (int p = 0; p < P; ++p)
        for (int k = 0; k < K; ++k) {
            const int n = source_column(k, H, Hp);
            for (int j = 0; j < W; ++j) {
                const int r = p * W + j;
                out[(static_cast<long>(p) * K + k) * W + j] =
                    n < 0 || r >= H ? 0.0f : B[static_cast<long>(r) * G * H + n];
            }
        }
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
