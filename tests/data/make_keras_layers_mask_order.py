"""Keras 3 fixtures of graphs whose layer order depends on the ops Keras adds to compute masks
(NotEqual and Any for Masking, NotEqual for Embedding(mask_zero), LogicalOr for Add and Maximum,
OnesLike/ExpandDims/ZerosLike/LogicalOr/Concatenate/Any for Concatenate, ConvertToTensor for
Attention): they deepen a masked branch, and Keras orders model.layers, and so the weights, by
depth. For tests/test_keras_layer_cases.py (-k mask_order); rnnkit counts those ops in
rnnkit/layers/mask_ops.py.

Run from the repository root, with Keras 3 on JAX (no torch)::

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_layers_mask_order.py

One case shows Keras's other rule for masks: a layer gets its input's mask filled in only when
the call has one tensor argument, so `LSTM(...)(x, initial_state=[h, c])` runs unmasked, while its
output still carries x's mask for the next layer.

It writes tests/data/keras_layers/mask_order.json, mask_order.npz and mask_order/<case>.keras|.h5
(what each holds: tests/data/keras_layer_fixtures.py).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_layer_fixtures  # noqa: E402

X = {"name": "x", "shape": [None, 3]}
Y = {"name": "y", "shape": [None, 3]}
IDS = {"name": "ids", "shape": [None], "dtype": "int32"}
CASES = {
    "embedding_branch_concatenated": {
        "inputs": [X, IDS],
        "nodes": [["d", "Dense", {"units": 4}, "x"],
                  ["e", "Embedding", {"input_dim": 9, "output_dim": 4, "mask_zero": True}, "ids"],
                  ["c", "Concatenate", {}, ["d", "e"]],
                  ["o", "LSTM", {"units": 2}, "c"]], "outputs": ["o"],
        "data": {"ids": {"ints": 9, "pad": True}}},
    "two_masked_branches_added": {
        "inputs": [X, Y, {"name": "z", "shape": [None, 4]}],
        "nodes": [["mx", "Masking", {}, "x"], ["my", "Masking", {}, "y"],
                  ["lx", "LSTM", {"units": 4, "return_sequences": True}, "mx"],
                  ["ly", "GRU", {"units": 4, "return_sequences": True}, "my"],
                  ["a", "Add", {}, ["lx", "ly"]],
                  ["z2", "Dense", {"units": 4}, "z"],
                  ["c", "Concatenate", {}, ["a", "z2"]],
                  ["o", "SimpleRNN", {"units": 2}, "c"]], "outputs": ["o"],
        "data": {"x": {"pad": True}, "y": {"pad": True}}},
    "attention_masked_query": {
        "inputs": [X, Y],
        "nodes": [["mx", "Masking", {}, "x"],
                  ["q", "LSTM", {"units": 4, "return_sequences": True}, "mx"],
                  ["v", "GRU", {"units": 4, "return_sequences": True}, "y"],
                  ["a", "Attention", {}, ["q", "v"]],
                  ["o", "LSTM", {"units": 2}, "a"]],
        "outputs": ["o"], "data": {"x": {"pad": True}}},
    "mha_masked_query": {
        "inputs": [IDS, X],
        "nodes": [["e", "Embedding", {"input_dim": 9, "output_dim": 3, "mask_zero": True}, "ids"],
                  ["g", "GRU", {"units": 4, "return_sequences": True}, "e"],
                  ["v", "Dense", {"units": 4}, "x"],
                  # (no biases: the key bias shifts every score of a row alike, so its
                  # gradient is rounding noise, which Adam's first steps blow up)
                  ["a", "MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "use_bias": False},
                   {"query": "g", "value": "v"}],
                  ["p", "GlobalAveragePooling1D", {}, "a"],
                  ["o", "Dense", {"units": 1}, "p"]], "outputs": ["o"],
        "data": {"ids": {"ints": 9, "pad": True}}},
    "bidirectional_masked_and_plain": {
        "inputs": [X, Y],
        "nodes": [["mx", "Masking", {}, "x"],
                  ["b", "Bidirectional",
                   {"layer": {"layer": "LSTM", "kwargs": {"units": 2, "return_sequences": True}}},
                   "mx"],
                  ["n", "LayerNormalization", {}, "b"],
                  ["py", "LSTM", {"units": 4, "return_sequences": True}, "y"],
                  ["m", "Maximum", {}, ["n", "py"]],
                  ["o", "GRU", {"units": 2}, "m"]], "outputs": ["o"], "data": {"x": {"pad": True}}},
    "initial_state_call_gets_no_mask": {
        "inputs": [X, {"name": "h", "shape": [3]}, {"name": "c", "shape": [3]}],
        "nodes": [["mx", "Masking", {}, "x"],
                  ["s", "LSTM", {"units": 3, "return_sequences": True},
                   {"args": ["mx"], "kwargs": {"initial_state": ["h", "c"]}}],
                  ["o", "GRU", {"units": 2}, "s"]],
        "outputs": ["o"], "data": {"x": {"pad": True}}},
}


if __name__ == "__main__":
    keras_layer_fixtures.write_area("mask_order", CASES)
