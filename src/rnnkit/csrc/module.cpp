// Python bindings. Arrays cross as raw addresses of contiguous float32 buffers (the Python side
// checks dtype, contiguity and shapes); no PyTorch headers are involved. The GIL is released
// while the kernels run.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cells/gru.h"
#include "cells/lstm.h"
#include "cells/simple_rnn.h"
#include "loop.h"

#ifndef RNNKIT_MODULE
#define RNNKIT_MODULE _native_portable
#endif
#ifndef RNNKIT_ISA
#define RNNKIT_ISA "portable"
#endif

namespace py = pybind11;
using namespace rnnkit;

namespace {

template <class T>
T* ptr(std::uintptr_t address) { return reinterpret_cast<T*>(address); }

template <class Cell>
void setup(Problem& p, int B, int T, int H, int Hp) {
    if (Hp % W != 0 || Hp < H) throw std::invalid_argument("rnnkit native: Hp must be a multiple of the vector width and >= H");
    p.B = B, p.T = T, p.H = H, p.Hp = Hp, p.G = Cell::G, p.S = Cell::S, p.D = Cell::D;
}

template <class Cell>
void run_forward(Problem& p, int threads, int split) { forward<Cell>(p, threads, split); }

template <class Cell>
void run_backward(Problem& p, int threads, int split) { backward<Cell>(p, threads, split); }

// The supported (cell, activation, recurrent activation) combinations, each its own instance.
template <template <class> class Gated, class F>
void by_gate_activation(int act, int ract, F&& f) {
    if (act != TANH) throw std::invalid_argument("rnnkit native: gated cells need activation tanh");
    if (ract == SIGMOID) return f(Gated<Acts<TANH, SIGMOID>>{});
    if (ract == HARD_SIGMOID) return f(Gated<Acts<TANH, HARD_SIGMOID>>{});
    throw std::invalid_argument("rnnkit native: recurrent activation must be sigmoid or hard_sigmoid");
}

template <class F>
void by_cell(int cell, int act, int ract, F&& f) {
    switch (cell) {
        case SIMPLE_RNN:
            switch (act) {
                case LINEAR: return f(SimpleRNNCell<Acts<LINEAR, SIGMOID>>{});
                case TANH: return f(SimpleRNNCell<Acts<TANH, SIGMOID>>{});
                case SIGMOID: return f(SimpleRNNCell<Acts<SIGMOID, SIGMOID>>{});
                case RELU: return f(SimpleRNNCell<Acts<RELU, SIGMOID>>{});
                default: throw std::invalid_argument("rnnkit native: unsupported SimpleRNN activation");
            }
        case LSTM_CELL: return by_gate_activation<LSTMCell>(act, ract, f);
        case GRU_AFTER: return by_gate_activation<GRUAfterCell>(act, ract, f);
        case GRU_BEFORE: return by_gate_activation<GRUBeforeCell>(act, ract, f);
        default: throw std::invalid_argument("rnnkit native: unknown cell " + std::to_string(cell));
    }
}

// The weights arrive packed (pack_* below), once per weight version.
void forward_py(int cell, int B, int T, int I, int H, int Hp, std::uintptr_t x, std::uintptr_t Wx,
                std::uintptr_t bx, std::uintptr_t U, std::uintptr_t bh, std::uintptr_t h0, std::uintptr_t c0, std::uintptr_t y, bool seq,
                std::uintptr_t hT, std::uintptr_t cT, std::uintptr_t ws, int act, int ract,
                int threads, int split, std::uintptr_t len, std::uintptr_t rm) {
    by_cell(cell, act, ract, [&](auto c) {
        using Cell = decltype(c);
        Problem p;
        setup<Cell>(p, B, T, H, Hp);
        p.I = I, p.x = ptr<const float>(x), p.bx = ptr<const float>(bx), p.bh = ptr<const float>(bh);
        p.Wx = ptr<const float>(Wx), p.U = ptr<const float>(U);
        p.h0 = ptr<const float>(h0), p.c0 = ptr<const float>(c0);
        p.y = ptr<float>(y), p.seq = seq, p.hT = ptr<float>(hT), p.cT = ptr<float>(cT);
        p.ws = ptr<float>(ws), p.act = act, p.ract = ract, p.len = ptr<const int>(len);
        p.rm = ptr<const float>(rm);
        py::gil_scoped_release release;
        run_forward<Cell>(p, threads, split);
    });
}

void backward_py(int cell, int B, int T, int H, int Hp, std::uintptr_t UT, std::uintptr_t ws,
                 std::uintptr_t y, std::uintptr_t h0, std::uintptr_t c0, std::uintptr_t dy,
                 std::uintptr_t dhT, std::uintptr_t dcT, std::uintptr_t dG, std::uintptr_t dh0,
                 std::uintptr_t dc0, int act, int ract, int threads, int split, int I,
                 std::uintptr_t x, std::uintptr_t dWb, std::uintptr_t len, std::uintptr_t rm) {
    by_cell(cell, act, ract, [&](auto c) {
        using Cell = decltype(c);
        Problem p;
        setup<Cell>(p, B, T, H, Hp);
        p.UT = ptr<const float>(UT);
        p.ws = ptr<float>(ws), p.y = ptr<float>(y), p.seq = true;
        p.h0 = ptr<const float>(h0), p.c0 = ptr<const float>(c0);
        p.dy = ptr<const float>(dy), p.dhT = ptr<const float>(dhT), p.dcT = ptr<const float>(dcT);
        p.dG = ptr<float>(dG), p.dh0 = ptr<float>(dh0), p.dc0 = ptr<float>(dc0);
        p.act = act, p.ract = ract;
        p.I = I, p.x = ptr<const float>(x), p.dWb = ptr<float>(dWb);  // dWb: zeros, or null
        p.len = ptr<const int>(len), p.rm = ptr<const float>(rm);
        py::gil_scoped_release release;
        run_backward<Cell>(p, threads, split);
    });
}

// out: G·Hp·K floats, the panels of a (K, G·H) weight with its gate blocks padded to Hp.
void pack_py(int G, int K, int H, int Hp, std::uintptr_t weight, std::uintptr_t out) {
    py::gil_scoped_release release;
    pack_panels(ptr<const float>(weight), K, G, H, Hp, ptr<float>(out));
}

// out: G·Hp·Hp floats, the panels of the transpose of a (H, G·H) recurrent kernel, padded.
void pack_transposed_py(int G, int H, int Hp, std::uintptr_t weight, std::uintptr_t out) {
    py::gil_scoped_release release;
    pack_panels_transposed(ptr<const float>(weight), H, G, Hp, ptr<float>(out));
}

void set_openmp(std::uintptr_t parallel, std::uintptr_t thread_num, std::uintptr_t num_threads) {
    auto& omp = openmp();
    omp.parallel = reinterpret_cast<decltype(omp.parallel)>(parallel);
    omp.thread_num = reinterpret_cast<decltype(omp.thread_num)>(thread_num);
    omp.num_threads = reinterpret_cast<decltype(omp.num_threads)>(num_threads);
    if (!omp.parallel || !omp.thread_num || !omp.num_threads) omp = OpenMP{};
}

bool cpu_supports(const std::string& feature) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (feature == "avx512") return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    if (feature == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return feature == "portable";
}

}  // namespace

PYBIND11_MODULE(RNNKIT_MODULE, m) {
    m.doc() = "rnnkit's fused recurrent kernels (" RNNKIT_ISA ")";
    m.attr("ISA") = RNNKIT_ISA;
    m.attr("VECTOR_WIDTH") = W;
    m.def("forward", &forward_py);
    m.def("backward", &backward_py);
    m.def("pack", &pack_py);
    m.def("pack_transposed", &pack_transposed_py);
    m.def("cpu_supports", &cpu_supports);
    m.def("set_openmp", &set_openmp, "Run on this OpenMP runtime (addresses of GOMP_parallel, "
          "omp_get_thread_num, omp_get_num_threads); zeros go back to threads of our own");
}
