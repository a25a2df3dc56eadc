"""Keras 3 fixtures of the attention layers (Attention, AdditiveAttention, MultiHeadAttention) in
small Functional models, for tests/test_keras_layer_cases.py (-k attention).

Run from the repository root, with Keras 3 on JAX (no torch)::

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_layers_attention.py

It writes tests/data/keras_layers/attention.json, attention.npz and attention/<case>.keras|.h5
(what each holds: tests/data/keras_layer_fixtures.py).

The cases: Luong and Bahdanau seq2seq (an LSTM encoder over a Masking-padded source, whose mask
becomes the value mask, an LSTM decoder as the query, a Dense over the context), the attention
scores as a second output, an Embedding(mask_zero=True) mask as query and value mask with and
without the causal mask (a padded first step leaves a row with every key hidden: Keras's uniform
average), the concat scores with a separate key, MultiHeadAttention self-attention over a GRU's
padded sequence (its per-step output kept, so that fully hidden rows show), with value_dim,
output_shape and a separate key, causal (alone: Keras's fused kernel; with masks and scores:
its einsum path), gated with a sliding window, and dropout in inference.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_layer_fixtures  # noqa: E402

ENC = {"name": "enc_in", "shape": [None, 3]}
DEC = {"name": "dec_in", "shape": [None, 2]}
IDS = {"name": "ids", "shape": [None], "dtype": "int32"}
PAD_IDS = {"ids": {"ints": 10, "pad": True}}
ENCODER = [["m", "Masking", {}, "enc_in"],
           ["enc", "LSTM", {"units": 4, "return_sequences": True}, "m"],
           ["dec", "LSTM", {"units": 4, "return_sequences": True}, "dec_in"]]
EMBEDDED = [["e", "Embedding", {"input_dim": 10, "output_dim": 4, "mask_zero": True}, "ids"],
            ["g", "GRU", {"units": 4, "return_sequences": True}, "e"]]


def seq2seq(layer, kwargs, call=None, scores=False):
    """Encoder (masked) and decoder LSTMs, attention of the decoder over the encoder, Dense."""
    out = ["ctx", "sc"] if scores else "ctx"
    return {"inputs": [ENC, DEC],
            "nodes": [*ENCODER, [out, layer, kwargs, ["dec", "enc"], call or {}],
                      ["o", "Dense", {"units": 2}, "ctx"]],
            "outputs": ["o", "sc"] if scores else ["o"], "data": {"enc_in": {"pad": True}}}


def embedded(node, head, outputs=("o",)):
    """ids -> Embedding(mask_zero) -> GRU sequence -> node -> head."""
    return {"inputs": [IDS], "nodes": [*EMBEDDED, node, head], "outputs": list(outputs),
            "data": PAD_IDS}


CASES = {
    "luong_seq2seq": seq2seq("Attention", {}),
    "bahdanau_seq2seq_scores": seq2seq("AdditiveAttention", {}, {"return_attention_scores": True},
                                       scores=True),
    "luong_scaled_seq2seq_scores": seq2seq("Attention", {"use_scale": True},
                                           {"return_attention_scores": True}, scores=True),
    # query and value masked; the query mask zeroes padded steps and the GRU after skips them
    "attention_self_masked_gru": embedded(
        ["a", "Attention", {"use_scale": True}, ["g", "g"]],
        ["o", "GRU", {"units": 3}, "a"]),
    # causal and padding masks; row 0 of the third sequence hides every key
    "attention_causal_masked": embedded(
        ["a", "Attention", {}, ["g", "g"], {"use_causal_mask": True}],
        ["o", "Dense", {"units": 2}, "a"]),
    "additive_unscaled_causal_scores": embedded(
        [["a", "s"], "AdditiveAttention", {"use_scale": False}, ["g", "g"],
         {"use_causal_mask": True, "return_attention_scores": True}],
        ["o", "Dense", {"units": 2}, "a"], outputs=("o", "s")),
    # concat scores with a key of its own; the value masked by Masking
    "attention_concat_key": {
        "inputs": [DEC, ENC, {"name": "key_in", "shape": [None, 2]}],
        "nodes": [["m", "Masking", {}, "enc_in"],
                  ["v", "Dense", {"units": 2}, "m"],
                  ["a", "Attention", {"score_mode": "concat", "use_scale": True},
                   ["dec_in", "v", "key_in"]],
                  ["o", "LSTM", {"units": 3}, "a"]],
        "outputs": ["o"], "data": {"enc_in": {"pad": True}}},
    "attention_dropout_inference": dict(seq2seq("Attention", {"dropout": 0.4, "seed": 3}),
                                        train=False),
    # self-attention over a padded GRU sequence: the query mask hides whole rows (uniform)
    "mha_self_attention_masked": embedded(
        ["a", "MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, {"query": "g", "value": "g"}],
        ["o", "Dense", {"units": 2}, "a"]),
    "mha_self_attention_gru_head": embedded(
        ["a", "MultiHeadAttention", {"num_heads": 2, "key_dim": 2}, {"query": "g", "value": "g"}],
        ["o", "GRU", {"units": 3}, "a"]),
    # value_dim, output_shape, a separate key, the value masked, the scores as an output. Not
    # trained: Keras's first training loss of the scores output (1.14802) is neither the mean
    # squared error of its own predictions (1.14071, which rnnkit gives) nor that of the scores
    # with the value mask left out (1.14712); its training step sees another mask than predict.
    "mha_value_dim_output_shape_key": {
        "inputs": [DEC, ENC, {"name": "key_in", "shape": [None, 2]}],
        "nodes": [["m", "Masking", {}, "enc_in"],
                  [["a", "s"], "MultiHeadAttention",
                   {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 5},
                   {"query": "dec_in", "value": "m", "key": "key_in"},
                   {"return_attention_scores": True}],
                  ["o", "Dense", {"units": 2}, "a"]],
        "outputs": ["o", "s"], "data": {"enc_in": {"pad": True}}, "train": False},
    "mha_causal_only": {
        "inputs": [DEC], "nodes": [
            ["a", "MultiHeadAttention", {"num_heads": 2, "key_dim": 4},
             {"query": "dec_in", "value": "dec_in"}, {"use_causal_mask": True}],
            ["o", "LSTM", {"units": 3, "return_sequences": True}, "a"]],
        "outputs": ["o"]},
    # (Keras's masked loss cannot broadcast the query mask over the (batch, heads, T, S) scores
    # output: no training)
    "mha_causal_masked_scores": dict(embedded(
        [["a", "s"], "MultiHeadAttention", {"num_heads": 2, "key_dim": 3, "use_bias": False},
         {"query": "g", "value": "g"},
         {"use_causal_mask": True, "return_attention_scores": True}],
        ["o", "Dense", {"units": 2}, "a"], outputs=("o", "s")), train=False),
    "mha_gate_sliding_window": embedded(
        ["a", "MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "use_gate": True,
                                     "sliding_window": 2, "output_shape": 3}, {"query": "g", "value": "g"}],
        ["o", "Dense", {"units": 2}, "a"]),
    # a 2-axis output_shape (Keras's masked loss cannot broadcast the mask over it: no training)
    "mha_output_shape_2d": dict(embedded(
        ["a", "MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "output_shape": [2, 3]},
         {"query": "g", "value": "g"}],
        ["o", "Dense", {"units": 2}, "a"]), train=False),
    "mha_dropout_inference": dict(embedded(
        ["a", "MultiHeadAttention", {"num_heads": 2, "key_dim": 3, "dropout": 0.3, "seed": 1},
         {"query": "g", "value": "g"}],
        ["o", "GRU", {"units": 3}, "a"]), train=False),
}

if __name__ == "__main__":
    keras_layer_fixtures.write_area("attention", CASES)
