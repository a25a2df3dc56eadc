// Vector types and the activation functions on them, written once with GCC/Clang vector
// extensions. The same source is compiled three times (AVX-512: W = 16, AVX2+FMA: W = 8,
// portable: W = 4) into three extension modules; Python picks one at run time.
#pragma once

#include <cstdint>
#include <cstring>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#ifndef RNNKIT_W
#define RNNKIT_W 4
#endif

namespace rnnkit {

constexpr int W = RNNKIT_W;  // floats per vector
typedef float V __attribute__((vector_size(W * 4)));
typedef int32_t VI __attribute__((vector_size(W * 4)));

inline V load(const float* p) { V v; std::memcpy(&v, p, sizeof(V)); return v; }
inline void store(float* p, V v) { std::memcpy(p, &v, sizeof(V)); }
// One broadcast instruction (V{} + x would cost an add: 0 + x is not x for x = -0; filling
// lanes one by one compiles to a chain of inserts).
inline V splat(float x) {
#if defined(__AVX512F__) && RNNKIT_W == 16
    return (V)_mm512_set1_ps(x);
#elif defined(__AVX__) && RNNKIT_W == 8
    return (V)_mm256_set1_ps(x);
#elif defined(__SSE__) && RNNKIT_W == 4
    return (V)_mm_set1_ps(x);
#else
    V v;
    for (int j = 0; j < W; ++j) v[j] = x;
    return v;
#endif
}
// min and max that keep a NaN in their first argument (a < b ? a : b would return b), so a NaN
// travels through every clamp below as it does through torch's: vmin(x, hi) is x unless b < x.
inline V vmin(V a, V b) { return b < a ? b : a; }
inline V vmax(V a, V b) { return b > a ? b : a; }
inline V select(VI mask, V a, V b) { return mask ? a : b; }
// 0, 1, ..., W - 1: each lane's index.
inline VI lane_index() {
    VI v;
    for (int j = 0; j < W; ++j) v[j] = j;
    return v;
}

// exp(x) by range reduction x = n ln2 + r, |r| <= ln2/2, and a degree-6 polynomial for e^r
// (Cephes expf coefficients); relative error about 1 ulp over the clamped range. Beyond it the
// result is what expf gives: +inf past ln(FLT_MAX), 0 below ln(FLT_MIN) (expf's subnormals
// flushed), so that 1 / (1 + e^x) is exactly 0 at -inf as torch's sigmoid is. A NaN stays NaN:
// the clamps keep it (vmin, vmax) and neither comparison holds for it.
inline V vexp(V x) {
    const V hi = splat(88.3762626647949f), lo = splat(-87.3365447504f);
    V xc = vmax(vmin(x, hi), lo);
    const V magic = splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
    V t = xc * 1.44269504088896341f + magic;
    VI n = (VI)t - (VI)magic;
    V nf = t - magic;
    V r = xc - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    V p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    VI bits = (n + 127) << 23;
    V e = p * (V)bits;
    e = select(x > 88.72283935546875f, splat(__builtin_inff()), e);
    return select(x < lo, splat(0.0f), e);
}

inline V sigmoid(V x) { return 1.0f / (1.0f + vexp(-x)); }

// tanh(x): an odd Taylor polynomial below |x| = 0.55 (relative error < 1e-7 there), and
// 1 - 2 / (e^{2|x|} + 1) with the sign restored above it, where no cancellation occurs. A NaN
// fails `ax < 0.55` and so takes the second branch, which is NaN too; ±inf gives ±1.
inline V vtanh(V x) {
    V ax = vmax(x, -x);
    V x2 = x * x;
    V p = splat(929569.0f / 638512875.0f);
    p = p * x2 - 21844.0f / 6081075.0f;
    p = p * x2 + 1382.0f / 155925.0f;
    p = p * x2 - 62.0f / 2835.0f;
    p = p * x2 + 17.0f / 315.0f;
    p = p * x2 - 2.0f / 15.0f;
    p = p * x2 + 1.0f / 3.0f;
    V small = x - x * x2 * p;
    V e = vexp(vmin(ax + ax, splat(88.0f)));
    V big = 1.0f - 2.0f / (e + 1.0f);
    big = select(x < 0.0f, -big, big);
    return select(ax < 0.55f, small, big);
}

inline V hard_sigmoid(V x) { return vmin(vmax(x * (1.0f / 6.0f) + 0.5f, splat(0.0f)), splat(1.0f)); }
inline V relu(V x) { return vmax(x, splat(0.0f)); }

// Activation codes shared with Python (rnnkit/backends/native.py).
enum Act : int { LINEAR = 0, TANH = 1, SIGMOID = 2, HARD_SIGMOID = 3, RELU = 4 };

// Activations are template arguments, so that a cell's gate computations inline and interleave.
template <int ACT>
inline V activate(V x) {
    if constexpr (ACT == TANH) return vtanh(x);
    else if constexpr (ACT == SIGMOID) return sigmoid(x);
    else if constexpr (ACT == HARD_SIGMOID) return hard_sigmoid(x);
    else if constexpr (ACT == RELU) return relu(x);
    else return x;
}

// d·φ'(z), the gradient d sent back through an activation, from its output y = φ(z), as torch's
// backward formulas compute it: a product for the smooth ones, a selection for the piecewise
// ones (so a NaN or inf in d where the slope is 0 gives 0, as torch.where does, not NaN).
// relu passes d where y > 0 or y is NaN (torch: threshold_backward(d, y, 0)); hard_sigmoid
// passes d / 6 strictly inside (0, 1) (torch's clamp also at the two corners, which its output
// cannot tell apart from the flat parts: a set of measure zero).
template <int ACT>
inline V backprop(V y, V d) {
    if constexpr (ACT == TANH) return d * (1.0f - y * y);
    else if constexpr (ACT == SIGMOID) return d * (y * (1.0f - y));
    else if constexpr (ACT == HARD_SIGMOID) return select((y > 0.0f) & (y < 1.0f), d * (1.0f / 6.0f), splat(0.0f));
    else if constexpr (ACT == RELU) return select(y <= 0.0f, splat(0.0f), d);
    else return d;
}

// A cell's pair of activations: φ (activation) and σ (recurrent_activation).
template <int ACT, int RACT>
struct Acts {
    static V act(V x) { return activate<ACT>(x); }
    static V ract(V x) { return activate<RACT>(x); }
    static V act_back(V y, V d) { return backprop<ACT>(y, d); }
    static V ract_back(V y, V d) { return backprop<RACT>(y, d); }
};

}  // namespace rnnkit
