"""Keras 3 fixtures of the pooling, convolution and reshaping layers (GlobalMaxPooling1D,
GlobalAveragePooling1D, MaxPooling1D, AveragePooling1D and their aliases, Conv1D, Reshape,
Permute), each in a small model around recurrent layers, for tests/test_keras_layer_cases.py
(-k pooling_conv).

Run from the repository root, with Keras 3 on JAX (no torch)::

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_layers_pooling_conv.py

It writes tests/data/keras_layers/pooling_conv.json, pooling_conv.npz and
pooling_conv/<case>.keras|.h5 (what each holds: tests/data/keras_layer_fixtures.py).

Masks change the numbers: inputs are padded as layer_specs.MASK_PATTERN says and masked by
Masking or Embedding(mask_zero=True). GlobalAveragePooling1D averages only the real steps of a
recurrent layer's outputs (which repeat the last real output on padded steps); Conv1D, the
windowed pools, Reshape and Permute drop the mask (Keras 3 warns), so the recurrent layer after
them runs over every step; GlobalMaxPooling1D drops it too, taking padded steps into the maximum.
Lambda has no case here: a spec cannot carry a Python function (tests/test_layers_pooling_conv.py
checks it against direct computation).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_layer_fixtures  # noqa: E402

X = {"name": "x", "shape": [None, 3]}
PAD = {"x": {"pad": True}}
MASK = ["m", "Masking", {}, "x"]


def chain(*nodes, inputs=(X,), data=PAD, **extra):
    """A model of layers one after another: nodes are (class, kwargs); the first takes "x"."""
    made, previous = [], inputs[0]["name"]
    for k, (cls, kwargs) in enumerate(nodes):
        made.append([f"n{k}", cls, kwargs, previous])
        previous = f"n{k}"
    return {"inputs": list(inputs), "nodes": made, "outputs": [previous], "data": data, **extra}


def masked(*nodes, **extra):
    """Masking on the padded input, then the nodes."""
    spec = chain(*nodes, **extra)
    spec["nodes"][0][3] = "m"
    spec["nodes"].insert(0, MASK)
    return spec


CASES = {
    # Conv1D -> GRU: every padding, strides, dilation, groups; the mask stops at Conv1D.
    "conv_same_gru": masked(("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "same",
                                        "activation": "relu"}),
                            ("GRU", {"units": 3})),
    "conv_causal_dilated_gru": masked(
        ("Conv1D", {"filters": 4, "kernel_size": 2, "padding": "causal", "dilation_rate": 2,
                    "kernel_regularizer": "l2", "activity_regularizer": "l1"}),
        ("GRU", {"units": 3, "return_sequences": True})),
    "conv_valid_strides_groups_gru": chain(
        ("Conv1D", {"filters": 4, "kernel_size": 2, "strides": 2, "groups": 2,
                    "kernel_constraint": "max_norm"}),
        ("GRU", {"units": 2}), inputs=({"name": "x", "shape": [None, 4]},), data={}),
    "conv_same_strides_even_kernel": chain(
        ("Conv1D", {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same",
                    "use_bias": False, "activation": "tanh"}),
        ("LSTM", {"units": 2}), data={}),
    "conv_channels_first_permute_gru": chain(
        ("Conv1D", {"filters": 3, "kernel_size": 2, "padding": "same",
                    "data_format": "channels_first"}),
        ("Permute", {"dims": [2, 1]}), ("GRU", {"units": 2}),
        inputs=({"name": "x", "shape": [4, 5]},), data={}),
    # Masked sequences -> GlobalAveragePooling1D: the mean of the real steps only.
    "lstm_masked_global_average": masked(("LSTM", {"units": 3, "return_sequences": True}),
                                         ("GlobalAveragePooling1D", {}), ("Dense", {"units": 2})),
    "masked_global_avg_pool_keepdims": masked(
        ("GlobalAvgPool1D", {"keepdims": True}), ("Dense", {"units": 2})),
    "global_average_channels_first": chain(
        ("GlobalAveragePooling1D", {"data_format": "channels_first"}), ("Dense", {"units": 2}),
        inputs=({"name": "x", "shape": [3, 5]},), data={}),
    # The classic text classifier: ids -> Embedding(mask_zero) -> BiLSTM -> max over time.
    "bilstm_global_max_pool_dense": chain(
        ("Embedding", {"input_dim": 10, "output_dim": 4, "mask_zero": True}),
        ("Bidirectional", {"layer": {"layer": "LSTM", "kwargs": {"units": 3,
                                                                  "return_sequences": True}}}),
        ("GlobalMaxPool1D", {}), ("Dense", {"units": 1, "activation": "sigmoid"}),
        inputs=({"name": "x", "shape": [None], "dtype": "int32"},),
        data={"x": {"ints": 10, "pad": True}}),
    "masked_global_max_keepdims": masked(("GlobalMaxPooling1D", {"keepdims": True}),
                                         ("LSTM", {"units": 2})),
    "global_max_channels_first": chain(
        ("GlobalMaxPooling1D", {"data_format": "channels_first"}), ("Dense", {"units": 2}),
        inputs=({"name": "x", "shape": [3, 5]},), data={}),
    # Windowed pooling between recurrent layers.
    "max_pool_same_lstm": masked(("LSTM", {"units": 3, "return_sequences": True}),
                                 ("MaxPooling1D", {"pool_size": 2, "padding": "same"}),
                                 ("GRU", {"units": 2})),
    "max_pool_valid_strides": chain(("MaxPool1D", {"pool_size": 3, "strides": 1}),
                                    ("GRU", {"units": 2}), data={}),
    "avg_pool_same_strides_gru": masked(
        ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}),
        ("GRU", {"units": 2})),
    "avg_pool_valid_channels_first": chain(
        ("AvgPool1D", {"pool_size": 2, "data_format": "channels_first"}),
        ("Flatten", {}), ("Dense", {"units": 2}),
        inputs=({"name": "x", "shape": [3, 5]},), data={}),
    # Reshape and Permute between layers.
    "reshape_permute_between_grus": chain(
        ("GRU", {"units": 4, "return_sequences": True}), ("Reshape", {"target_shape": [10, 2]}),
        ("GRU", {"units": 3, "return_sequences": True}), ("Permute", {"dims": [2, 1]}),
        ("Dense", {"units": 2}), inputs=({"name": "x", "shape": [5, 3]},), data={}),
    # (A Reshape to the same shape would keep the mask on JAX, whose reshape then returns the
    # very array the mask is attached to: a backend accident this case avoids.)
    "masked_reshape_unknown_steps": masked(("Reshape", {"target_shape": [-1, 1]}),
                                           ("LSTM", {"units": 2})),
}

if __name__ == "__main__":
    keras_layer_fixtures.write_area("pooling_conv", CASES)
