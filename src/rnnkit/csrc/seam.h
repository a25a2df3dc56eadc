// What crosses from Python: the table of cells and activations this core computes (Python reads
// it rather than restating it), and buffers that arrive as (address, element count) pairs and
// are checked against the sizes the problem implies before any of them is read or written.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cells/gru.h"
#include "cells/lstm.h"
#include "cells/simple_rnn.h"

namespace rnnkit {

// One cell of the table: its Python spec name, the code Python passes back, its sizes (G gate
// blocks, S saved slots per step, D gate-gradient blocks) and the activations it is built for.
struct CellInfo {
    const char* name;
    int code, G, S, D;
    std::vector<int> acts, racts;
};

template <class Cell>
CellInfo info(const char* name, int code, std::vector<int> acts, std::vector<int> racts) {
    return {name, code, Cell::G, Cell::S, Cell::D, std::move(acts), std::move(racts)};
}

inline const std::vector<CellInfo>& cell_table() {
    using Any = Acts<TANH, SIGMOID>;  // sizes do not depend on the activations
    static const std::vector<CellInfo> table = {
        info<SimpleRNNCell<Any>>("simple_rnn", SIMPLE_RNN, {LINEAR, TANH, SIGMOID, RELU}, {}),
        info<LSTMCell<Any>>("lstm", LSTM_CELL, {TANH}, {SIGMOID, HARD_SIGMOID}),
        info<GRUAfterCell<Any>>("gru", GRU_AFTER, {TANH}, {SIGMOID, HARD_SIGMOID}),
        info<GRUBeforeCell<Any>>("gru_reset_before", GRU_BEFORE, {TANH}, {SIGMOID, HARD_SIGMOID}),
    };
    return table;
}

inline const std::vector<std::pair<const char*, int>>& activation_table() {
    static const std::vector<std::pair<const char*, int>> table = {
        {"linear", LINEAR}, {"tanh", TANH}, {"sigmoid", SIGMOID}, {"hard_sigmoid", HARD_SIGMOID}, {"relu", RELU}};
    return table;
}

inline bool listed(const std::vector<int>& codes, int code) {
    for (int c : codes)
        if (c == code) return true;
    return false;
}

// The table's entry for (cell, act, ract), or an error naming what is not built (a cell with no
// recurrent activation takes any ract and ignores it).
inline const CellInfo& checked_cell(int cell, int act, int ract) {
    for (const auto& c : cell_table()) {
        if (c.code != cell) continue;
        if (!listed(c.acts, act) || (!c.racts.empty() && !listed(c.racts, ract)))
            throw std::invalid_argument("rnnkit native: cell " + std::string(c.name) + " is not built for activation " +
                                        std::to_string(act) + " with recurrent activation " + std::to_string(ract));
        return c;
    }
    throw std::invalid_argument("rnnkit native: unknown cell code " + std::to_string(cell));
}

// A buffer from Python: (address, number of elements); address 0 is "none".
using Buf = std::pair<std::uintptr_t, std::int64_t>;

// The buffer's address, once its element count is exactly `expected`; null for an absent one
// where absence is allowed. Nothing is dereferenced here.
template <class T>
T* take(const char* name, const Buf& b, long expected, bool required) {
    if (b.first == 0) {
        if (required) throw std::invalid_argument(std::string("rnnkit native: ") + name + " is required here");
        return nullptr;
    }
    if (b.second != expected)
        throw std::invalid_argument(std::string("rnnkit native: ") + name + " has " + std::to_string(b.second) +
                                    " elements, expected " + std::to_string(expected));
    return reinterpret_cast<T*>(b.first);
}

// A buffer that must be absent for this cell (c0 of a GRU, say).
inline void absent(const char* name, const Buf& b) {
    if (b.first != 0) throw std::invalid_argument(std::string("rnnkit native: ") + name + " is not used by this cell");
}

inline void check_sizes(int B, int T, int I, int H, int Hp, int threads, int split) {
    if (B < 1 || T < 1 || I < 1 || H < 1)
        throw std::invalid_argument("rnnkit native: expected B, T, I, H >= 1, got " + std::to_string(B) + ", " +
                                    std::to_string(T) + ", " + std::to_string(I) + ", " + std::to_string(H));
    if (Hp % W != 0 || Hp < H || Hp >= H + W)
        throw std::invalid_argument("rnnkit native: Hp must be H rounded up to a multiple of the vector width");
    if (threads < 1) throw std::invalid_argument("rnnkit native: threads must be >= 1");
    if (split < 0 || split > 2) throw std::invalid_argument("rnnkit native: split must be 0, 1 or 2");
}

// Per-row lengths must lie in [0, T]: the loop indexes steps by them.
inline void check_lengths(const int* len, int B, int T) {
    if (!len) return;
    for (int b = 0; b < B; ++b)
        if (len[b] < 0 || len[b] > T)
            throw std::invalid_argument("rnnkit native: row " + std::to_string(b) + " has length " +
                                        std::to_string(len[b]) + ", expected 0.." + std::to_string(T));
}

}  // namespace rnnkit
