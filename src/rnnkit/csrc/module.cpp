// Python bindings. Arrays cross as (address, element count) pairs of contiguous buffers, each
// under its own keyword; seam.h checks every count against the problem's sizes before a kernel
// runs (the Python side checks dtypes, devices, contiguity and shapes first). No PyTorch
// headers are involved. The GIL is released while the kernels run.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "loop.h"
#include "seam.h"

#ifndef RNNKIT_MODULE
#define RNNKIT_MODULE _native_portable
#endif
#ifndef RNNKIT_ISA
#define RNNKIT_ISA "portable"
#endif

namespace py = pybind11;
using namespace rnnkit;

namespace {

// The built (cell, activation, recurrent activation) combinations, each its own instance;
// seam.h's table lists the same ones and is checked first.
template <template <class> class Gated, class F>
void by_gate_activation(int ract, F&& f) {
    if (ract == SIGMOID) return f(Gated<Acts<TANH, SIGMOID>>{});
    if (ract == HARD_SIGMOID) return f(Gated<Acts<TANH, HARD_SIGMOID>>{});
    throw std::logic_error("rnnkit native: the cell table lists a recurrent activation with no instance");
}

template <class F>
void by_cell(int cell, int act, int ract, F&& f) {
    checked_cell(cell, act, ract);
    switch (cell) {
        case SIMPLE_RNN:
            switch (act) {
                case LINEAR: return f(SimpleRNNCell<Acts<LINEAR, SIGMOID>>{});
                case TANH: return f(SimpleRNNCell<Acts<TANH, SIGMOID>>{});
                case SIGMOID: return f(SimpleRNNCell<Acts<SIGMOID, SIGMOID>>{});
                case RELU: return f(SimpleRNNCell<Acts<RELU, SIGMOID>>{});
            }
            break;
        case LSTM_CELL: return by_gate_activation<LSTMCell>(ract, f);
        case GRU_AFTER: return by_gate_activation<GRUAfterCell>(ract, f);
        case GRU_BEFORE: return by_gate_activation<GRUBeforeCell>(ract, f);
    }
    throw std::logic_error("rnnkit native: the cell table lists a combination with no instance");
}

template <class Cell>
void sizes(Problem& p, int B, int T, int I, int H, int Hp, int act, int ract) {
    p.B = B, p.T = T, p.I = I, p.H = H, p.Hp = Hp, p.G = Cell::G, p.S = Cell::S, p.D = Cell::D;
    p.act = act, p.ract = ract;
}

// Shapes (see problem.h): x [T, B, I]; Wx, U packed panels (pack below); bx [G·Hp]; bh [G·Hp]
// (GRU reset_after only); h0, c0 [B, H] (c0: LSTM only, required); y [T, B, H] when seq else
// [B, H]; hT [B, H]; cT [B, H] (LSTM); ws [T, B, S·Hp] when training (S > 0); len [B] int32 in
// 0..T (the real steps each row's first, or with padded_first its last); rm [G, B, H].
void forward_py(int cell, int B, int T, int I, int H, int Hp, int act, int ract, bool seq, bool training,
                int threads, int split, int cores, Buf x, Buf Wx, Buf bx, Buf U, Buf bh, Buf h0, Buf c0, Buf y, Buf hT,
                Buf cT, Buf ws, Buf len, bool padded_first, Buf rm) {
    check_sizes(B, T, I, H, Hp, threads, split);
    by_cell(cell, act, ract, [&](auto c) {
        using Cell = decltype(c);
        const long G = Cell::G, BH = static_cast<long>(B) * H, steps = static_cast<long>(T) * B;
        const bool lstm = cell == LSTM_CELL;
        Problem p;
        sizes<Cell>(p, B, T, I, H, Hp, act, ract);
        p.x = take<const float>("x", x, steps * I, true);
        p.Wx = take<const float>("kernel panels", Wx, I * G * Hp, true);
        p.bx = take<const float>("input bias", bx, G * Hp, false);
        p.U = take<const float>("recurrent kernel panels", U, H * G * Hp, true);
        if (cell == GRU_AFTER) p.bh = take<const float>("recurrent bias", bh, G * Hp, false);
        else absent("recurrent bias", bh);
        p.h0 = take<const float>("h0", h0, BH, true);
        if (lstm) p.c0 = take<const float>("c0", c0, BH, true);
        else absent("c0", c0);
        p.seq = seq;
        p.y = take<float>("y", y, seq ? steps * H : BH, true);
        p.hT = take<float>("hT", hT, BH, true);
        if (lstm) p.cT = take<float>("cT", cT, BH, true);
        else absent("cT", cT);
        if (training && Cell::S > 0) p.ws = take<float>("workspace", ws, steps * Cell::S * Hp, true);
        else absent("workspace", ws);
        p.len = take<const int>("lengths", len, B, false);
        p.padded_first = padded_first;
        p.rm = take<const float>("recurrent masks", rm, G * BH, false);
        check_lengths(p.len, B, T);
        py::gil_scoped_release release;
        forward<Cell>(p, threads, split, cores);
    });
}

// Shapes as forward_py, and: UT packed panels of Uᵀ; y [T, B, H] (forward's sequence); dy
// [T, B, H], dhT, dcT [B, H] or absent; dG [T, B, D·Hp]; dh0, dc0 [B, H]; x [T, B, I] and dWb
// [threads, I + 1, D·Hp] (zeros) when the loop sums [x, 1]ᵀ dG itself, else both absent.
void backward_py(int cell, int B, int T, int I, int H, int Hp, int act, int ract, int threads, int split,
                 int cores, Buf UT, Buf ws, Buf y, Buf h0, Buf c0, Buf dy, Buf dhT, Buf dcT, Buf dG, Buf dh0, Buf dc0,
                 Buf x, Buf dWb, Buf len, bool padded_first, Buf rm) {
    check_sizes(B, T, I, H, Hp, threads, split);
    by_cell(cell, act, ract, [&](auto c) {
        using Cell = decltype(c);
        const long G = Cell::G, D = Cell::D, BH = static_cast<long>(B) * H, steps = static_cast<long>(T) * B;
        const bool lstm = cell == LSTM_CELL;
        Problem p;
        sizes<Cell>(p, B, T, I, H, Hp, act, ract);
        p.UT = take<const float>("transposed recurrent kernel panels", UT, G * Hp * Hp, true);
        if (Cell::S > 0) p.ws = take<float>("workspace", ws, steps * Cell::S * Hp, true);
        else absent("workspace", ws);
        p.y = take<float>("y", y, steps * H, true), p.seq = true;
        p.h0 = take<const float>("h0", h0, BH, true);
        p.dy = take<const float>("dy", dy, steps * H, false);
        p.dhT = take<const float>("dhT", dhT, BH, false);
        p.dG = take<float>("gate gradients", dG, steps * D * Hp, true);
        p.dh0 = take<float>("dh0", dh0, BH, true);
        if (lstm) {
            p.c0 = take<const float>("c0", c0, BH, true);
            p.dcT = take<const float>("dcT", dcT, BH, false);
            p.dc0 = take<float>("dc0", dc0, BH, true);
        } else {
            absent("c0", c0), absent("dcT", dcT), absent("dc0", dc0);
        }
        p.dWb = take<float>("input gradient sums", dWb, static_cast<long>(threads) * (I + 1) * D * Hp, false);
        p.x = take<const float>("x", x, steps * I, p.dWb != nullptr);
        if (!p.dWb) absent("x", x);
        p.len = take<const int>("lengths", len, B, false);
        p.padded_first = padded_first;
        p.rm = take<const float>("recurrent masks", rm, G * BH, false);
        check_lengths(p.len, B, T);
        py::gil_scoped_release release;
        backward<Cell>(p, threads, split, cores);
    });
}

void check_pack(int G, int K, int H, int Hp) {
    check_sizes(1, 1, K, H, Hp, 1, 0);
    if (G < 1 || G > 4) throw std::invalid_argument("rnnkit native: expected 1 to 4 gate blocks");
}

// weight [K, G·H] → out: G·Hp·K floats, its panels with each gate block padded to Hp.
void pack_py(int G, int K, int H, int Hp, Buf weight, Buf out) {
    check_pack(G, K, H, Hp);
    const float* w = take<const float>("weight", weight, static_cast<long>(K) * G * H, true);
    float* o = take<float>("panels", out, static_cast<long>(K) * G * Hp, true);
    py::gil_scoped_release release;
    pack_panels(w, K, G, H, Hp, o);
}

// weight [H, G·H] → out: G·Hp·Hp floats, the panels of its padded transpose.
void pack_transposed_py(int G, int H, int Hp, Buf weight, Buf out) {
    check_pack(G, H, H, Hp);
    const float* w = take<const float>("weight", weight, static_cast<long>(H) * G * H, true);
    float* o = take<float>("panels", out, static_cast<long>(G) * Hp * Hp, true);
    py::gil_scoped_release release;
    pack_panels_transposed(w, H, G, Hp, o);
}

// Whether a team of `threads` splits the hidden units (not the batch rows) of B rows of H units
// (split: 0 auto, 1 rows, 2 units), on `cores` usable cores: the loop's own decision.
bool splits_units_py(int B, int H, int threads, int split, int cores) {
    Problem p;
    p.B = B, p.H = H, p.Hp = (H + W - 1) / W * W;
    return split_units(p, threads, split, cores);
}

py::list cells_py() {
    py::list out;
    for (const auto& c : cell_table()) {
        py::dict d;
        d["name"] = c.name, d["code"] = c.code, d["gates"] = c.G, d["saved"] = c.S, d["grad_blocks"] = c.D;
        d["activations"] = c.acts, d["recurrent_activations"] = c.racts;
        out.append(d);
    }
    return out;
}

py::dict activations_py() {
    py::dict out;
    for (const auto& [name, code] : activation_table()) out[name] = code;
    return out;
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
    m.attr("CELLS") = cells_py();
    m.attr("ACTIVATIONS") = activations_py();
    m.def("forward", &forward_py, py::kw_only(), py::arg("cell"), py::arg("B"), py::arg("T"), py::arg("I"),
          py::arg("H"), py::arg("Hp"), py::arg("act"), py::arg("ract"), py::arg("seq"), py::arg("training"),
          py::arg("threads"), py::arg("split"), py::arg("cores"), py::arg("x"), py::arg("Wx"), py::arg("bx"), py::arg("U"),
          py::arg("bh"), py::arg("h0"), py::arg("c0"), py::arg("y"), py::arg("hT"), py::arg("cT"), py::arg("ws"),
          py::arg("len"), py::arg("padded_first"), py::arg("rm"));
    m.def("backward", &backward_py, py::kw_only(), py::arg("cell"), py::arg("B"), py::arg("T"), py::arg("I"),
          py::arg("H"), py::arg("Hp"), py::arg("act"), py::arg("ract"), py::arg("threads"), py::arg("split"),
          py::arg("cores"), py::arg("UT"), py::arg("ws"), py::arg("y"), py::arg("h0"), py::arg("c0"), py::arg("dy"), py::arg("dhT"),
          py::arg("dcT"), py::arg("dG"), py::arg("dh0"), py::arg("dc0"), py::arg("x"), py::arg("dWb"),
          py::arg("len"), py::arg("padded_first"), py::arg("rm"));
    m.def("pack", &pack_py, py::kw_only(), py::arg("G"), py::arg("K"), py::arg("H"), py::arg("Hp"),
          py::arg("weight"), py::arg("out"));
    m.def("pack_transposed", &pack_transposed_py, py::kw_only(), py::arg("G"), py::arg("H"), py::arg("Hp"),
          py::arg("weight"), py::arg("out"));
    m.def("cpu_supports", &cpu_supports);
    m.def("splits_units", &splits_units_py, py::kw_only(), py::arg("B"), py::arg("H"), py::arg("threads"),
          py::arg("split"), py::arg("cores"));
    m.def("set_openmp", &set_openmp, "Run on this OpenMP runtime (addresses of GOMP_parallel, "
          "omp_get_thread_num, omp_get_num_threads); zeros go back to threads of our own");
}
