"""Keras 3 fixtures of the merging layers (Concatenate, Add, Subtract, Multiply, Average, Maximum,
Minimum, Dot), each in a small Functional model of two or three inputs, for
tests/test_keras_layer_cases.py (-k merging).

Run from the repository root, with Keras 3 on JAX (no torch)::

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_layers_merging.py

It writes tests/data/keras_layers/merging.json, merging.npz and merging/<case>.keras|.h5
(what each holds: tests/data/keras_layer_fixtures.py).

The masks are chosen so that Keras 3's mask rules change the numbers: "x" is padded as
layer_specs.MASK_PATTERN says and masked by Masking, "y" is never padded, so a Masking on it
gives an all-True mask. A merge of the two then has an output mask only when every input has
one (the OR of the masks: all True here, not the pattern), Multiply, Maximum and Minimum replace
the masked entries of "x" inside the merge, Concatenate joins the masks (along time, too),
and Dot drops them; a recurrent layer after the merge shows which mask came through.

Keras 3 records the ops computing a mask as graph nodes, which can deepen one branch of a graph
and so reorder model.layers; make_keras_layers_mask_order.py has graphs where that happens.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_layer_fixtures  # noqa: E402

X = {"name": "x", "shape": [None, 3]}
Y = {"name": "y", "shape": [None, 3]}
PAD_X = {"x": {"pad": True}}
MASK_X = ["mx", "Masking", {}, "x"]
MASK_Y = ["my", "Masking", {}, "y"]


def _two(merge, kwargs, inputs, head):
    """x, y -> (the nodes before) -> merge(inputs) -> head."""
    return {"inputs": [X, Y], "nodes": [*inputs, ["m", merge, kwargs, [n[0] for n in inputs]],
                                        ["o", *head, "m"]],
            "outputs": ["o"], "data": PAD_X}


LSTM_HEAD = ("LSTM", {"units": 4})
GRU_SEQ_HEAD = ("GRU", {"units": 3, "return_sequences": True})

CASES = {
    # both inputs masked: the output mask is the OR of the two (all True, "y" being unpadded)
    "add_both_masked_lstm": _two("Add", {}, [MASK_X, MASK_Y], LSTM_HEAD),
    # one input without a mask: no output mask, the GRU runs over every step
    "subtract_one_masked_gru": _two("Subtract", {}, [MASK_X, ["dy", "Dense", {"units": 3}, "y"]],
                                    GRU_SEQ_HEAD),
    # masked entries of "x" count as 1 in the product
    "multiply_both_masked_lstm": _two("Multiply", {}, [MASK_X, MASK_Y], LSTM_HEAD),
    "multiply_one_masked_gru": _two("Multiply", {}, [MASK_X, ["dy", "Dense", {"units": 3}, "y"]],
                                    GRU_SEQ_HEAD),
    "maximum_both_masked_lstm": _two("Maximum", {}, [MASK_X, MASK_Y], LSTM_HEAD),
    "minimum_one_masked_gru": _two("Minimum", {}, [MASK_X, ["dy", "Dense", {"units": 3}, "y"]],
                                   GRU_SEQ_HEAD),
    "average_three_inputs": {
        "inputs": [X, Y, {"name": "z", "shape": [None, 3]}],
        "nodes": [MASK_X, MASK_Y, ["mz", "Masking", {}, "z"],
                  ["m", "Average", {}, ["mx", "my", "mz"]],
                  ["o", "SimpleRNN", {"units": 4, "return_sequences": True}, "m"]],
        "outputs": ["o"], "data": {"x": {"pad": True}, "z": {"pad": True}}},
    # a (batch, features) input broadcast over the time steps of the other
    "add_broadcast_rank": {
        "inputs": [X, {"name": "v", "shape": [4]}],
        "nodes": [["s", "Dense", {"units": 4}, "x"], ["m", "Add", {}, ["s", "v"]],
                  ["o", "LSTM", {"units": 3}, "m"]],
        "outputs": ["o"]},
    # the classic pattern: two recurrent encoders over masked sequences, joined
    "concatenate_encoders": {
        "inputs": [X, {"name": "w", "shape": [None], "dtype": "int32"}],
        "nodes": [MASK_X, ["e", "Embedding", {"input_dim": 7, "output_dim": 3, "mask_zero": True},
                           "w"],
                  ["hx", "LSTM", {"units": 4}, "mx"], ["hw", "GRU", {"units": 3}, "e"],
                  ["m", "Concatenate", {}, ["hx", "hw"]], ["o", "Dense", {"units": 2}, "m"]],
        "outputs": ["o"], "data": {"x": {"pad": True}, "w": {"ints": 7, "pad": True}}},
    # sequences of both encoders joined on the features, masks ORed, then one more LSTM
    "concatenate_features_masked": {
        "inputs": [X, Y],
        "nodes": [MASK_X, ["sx", "LSTM", {"units": 3, "return_sequences": True}, "mx"], MASK_Y,
                  ["sy", "GRU", {"units": 2, "return_sequences": True}, "my"],
                  ["m", "Concatenate", {"axis": -1}, ["sx", "sy"]],
                  ["o", "LSTM", {"units": 4}, "m"]],
        "outputs": ["o"], "data": PAD_X},
    # joined along time: the masks are joined too (8 steps, padding inside)
    "concatenate_time_masked": {
        "inputs": [X, {"name": "y", "shape": [3, 3]}],
        "nodes": [MASK_X, ["my", "Masking", {}, "y"],
                  ["m", "Concatenate", {"axis": 1}, ["mx", "my"]],
                  ["o", "GRU", {"units": 4, "return_sequences": True}, "m"]],
        "outputs": ["o"], "data": {"x": {"pad": True}, "y": {"pad": True}}},
    "concatenate_time_one_masked": {
        "inputs": [X, {"name": "y", "shape": [3, 3]}],
        "nodes": [MASK_X, ["m", "Concatenate", {"axis": 1}, ["mx", "y"]],
                  ["o", "LSTM", {"units": 4}, "m"]],
        "outputs": ["o"], "data": PAD_X},
    # attention-like scores: (batch, 5, 3) . (batch, 4, 3) over the features -> (batch, 5, 4);
    # Dot drops the mask
    "dot_axes22_normalize": {
        "inputs": [X, {"name": "y", "shape": [4, 3]}],
        "nodes": [MASK_X, ["m", "Dot", {"axes": [2, 2], "normalize": True}, ["mx", "y"]],
                  ["o", "LSTM", {"units": 3, "return_sequences": True}, "m"]],
        "outputs": ["o"], "data": PAD_X},
    "dot_time_axes": {
        "inputs": [X, {"name": "y", "shape": [None, 2]}],
        "nodes": [["m", "Dot", {"axes": 1}, ["x", "y"]], ["o", "Dense", {"units": 2}, "m"]],
        "outputs": ["o"]},
    # cosine similarity of two encoders' final states, (batch, 1)
    "dot_encoders_cosine": {
        "inputs": [X, Y],
        "nodes": [MASK_X, ["hx", "LSTM", {"units": 4}, "mx"], ["hy", "GRU", {"units": 4}, "y"],
                  ["o", "Dot", {"axes": -1, "normalize": True}, ["hx", "hy"]]],
        "outputs": ["o"], "data": PAD_X},
    # Keras orders model.layers by depth counting the ops its mask computations add (NotEqual,
    # Any, the Concatenate op, ...), so the masked branch comes first here.
    "keras_order_of_a_masked_branch": {
        "inputs": [{"name": "y", "shape": [None, 3]}, X],
        "nodes": [["sy", "GRU", {"units": 2, "return_sequences": True}, "y"], MASK_X,
                  ["sx", "LSTM", {"units": 3, "return_sequences": True}, "mx"],
                  ["m", "Concatenate", {}, ["sy", "sx"]], ["o", "LSTM", {"units": 4}, "m"]],
        "outputs": ["o"], "data": PAD_X},
}


if __name__ == "__main__":
    keras_layer_fixtures.write_area("merging", CASES)
