"""Keras 3 fixtures of the normalization, noise and activation layers (BatchNormalization,
LayerNormalization, SpatialDropout1D, GaussianNoise, ReLU, LeakyReLU, ELU, Softmax), each in a
small Functional model, for tests/test_keras_layer_cases.py (-k normalization).

Run from the repository root, with Keras 3 on JAX (no torch)::

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_layers_normalization.py

It writes tests/data/keras_layers/normalization.json, normalization.npz and
normalization/<case>.keras|.h5 (what each holds: tests/data/keras_layer_fixtures.py).

"x" is padded as layer_specs.MASK_PATTERN says and masked by Masking, so the mask flows through
the layers under test into a recurrent layer. The BatchNormalization cases train for three
Adam steps: their batch statistics skip the masked steps, and the recorded weights after the
steps include moving_mean and moving_variance (and renorm's statistics). The noise cases record
inference only ("train": False): their training draws are random.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_layer_fixtures  # noqa: E402

X = {"name": "x", "shape": [None, 3]}
PAD_X = {"x": {"pad": True}}
MASK_X = ["m", "Masking", {}, "x"]


def _masked(nodes, head=("LSTM", {"units": 3}), train=True, files=True, inputs=(X,)):
    """x -> Masking -> nodes (a chain, each fed by the one before) -> head."""
    chain, previous = [MASK_X], "m"
    for k, (cls, kwargs) in enumerate(nodes):
        chain.append([f"n{k}", cls, kwargs, previous])
        previous = f"n{k}"
    chain.append(["o", *head, previous])
    spec = {"inputs": list(inputs), "nodes": chain, "outputs": ["o"], "data": PAD_X}
    if not train:
        spec["train"] = False
    if not files:
        spec["files"] = False
    return spec


SEQ_LSTM = ("LSTM", {"units": 4, "return_sequences": True})

CASES = {
    # the stacked model of the brief: LSTM -> LayerNormalization -> LSTM, masked
    "lstm_layernorm_lstm": _masked([SEQ_LSTM, ("LayerNormalization", {})]),
    "layernorm_options_gru": _masked([("Dense", {"units": 4}),
                                      ("LayerNormalization", {"epsilon": 0.01, "center": False})],
                                     head=("GRU", {"units": 3, "return_sequences": True})),
    # several axes (the time axis needs a known size), then a non-trailing axis alone
    "layernorm_two_axes": _masked([("LayerNormalization", {"axis": [1, 2]})],
                                  inputs=({"name": "x", "shape": [5, 3]},)),
    "layernorm_time_axis": _masked([("LayerNormalization", {"axis": 1, "scale": False})],
                                   inputs=({"name": "x", "shape": [5, 3]},)),
    "layernorm_rms_scaling": _masked([("LayerNormalization", {"rms_scaling": True})]),
    # batch statistics over the kept steps only; moving statistics after three steps
    "batchnorm_sequence_masked": _masked([("BatchNormalization", {})]),
    "batchnorm_sequence_momentum": _masked([SEQ_LSTM, ("BatchNormalization",
                                                       {"momentum": 0.8, "epsilon": 0.01})],
                                           head=("GRU", {"units": 2})),
    "batchnorm_time_axis": _masked([("BatchNormalization", {"axis": 1, "momentum": 0.7,
                                                            "center": False})],
                                   inputs=({"name": "x", "shape": [5, 3]},)),
    "batchnorm_renorm": _masked([("BatchNormalization", {
        "momentum": 0.8, "renorm": True, "renorm_momentum": 0.9,
        "renorm_clipping": {"rmax": 1.5, "rmin": 0.7, "dmax": 0.3}})]),
    "batchnorm_renorm_no_scale": _masked([("BatchNormalization", {
        "renorm": True, "renorm_momentum": 0.5, "scale": False})]),
    # trainable=False: inference statistics even in training, nothing updated
    "batchnorm_frozen": _masked([("BatchNormalization", {"trainable": False})]),
    "batchnorm_features": {
        "inputs": [{"name": "f", "shape": [6]}],
        # no bias before the normalization: its gradient is rounding noise, which Adam amplifies
        "nodes": [["d", "Dense", {"units": 4, "use_bias": False}, "f"],
                  ["b", "BatchNormalization", {"momentum": 0.9, "center": False}, "d"],
                  ["o", "Dense", {"units": 2}, "b"]],
        "outputs": ["o"]},
    "activations_chain": _masked([
        ("Dense", {"units": 4}),
        ("ReLU", {"max_value": 0.5, "negative_slope": 0.1, "threshold": 0.1}),
        SEQ_LSTM, ("LeakyReLU", {"negative_slope": 0.2}), ("ELU", {"alpha": 0.5}),
        ("ReLU", {"threshold": 0.05})], head=("GRU", {"units": 2})),
    "relu_variants": _masked([
        ("Dense", {"units": 4}), ("ReLU", {"negative_slope": 0.2}), ("Dense", {"units": 4}),
        ("ReLU", {"max_value": 6.0}), ("Dense", {"units": 4}),
        ("ReLU", {"max_value": 0.3}), ("Dense", {"units": 4}), ("ReLU", {"threshold": 0.2}),
        ("Dense", {"units": 4}), ("LeakyReLU", {}), ("ELU", {})]),
    "leaky_relu_alpha": _masked([("LeakyReLU", {"alpha": 0.05})]),
    "softmax_features": {
        "inputs": [{"name": "x", "shape": [None, 4]}],
        "nodes": [["d", "Dense", {"units": 4}, "x"], ["s", "Softmax", {}, "d"],
                  ["o", "LSTM", {"units": 3}, "s"]],
        "outputs": ["o"]},
    "softmax_axes": {
        "inputs": [{"name": "x", "shape": [5, 3]}],
        "nodes": [["a", "Softmax", {"axis": [1, 2]}, "x"], ["b", "Softmax", {"axis": 1}, "a"],
                  ["o", "GRU", {"units": 2, "return_sequences": True}, "b"]],
        "outputs": ["o"]},
    # an explicit (batch, 1, time) mask of attention-like scores; a float mask keeps > 0.5.
    # Flatten drops the output mask, which Keras's loss would broadcast against (batch, time).
    "softmax_masked_scores": {
        "inputs": [{"name": "s", "shape": [5, 5]}, {"name": "k", "shape": [1, 5]}],
        "nodes": [["g", "Activation", {"activation": "sigmoid"}, "k"],
                  ["p", "Softmax", {}, {"inputs": "s", "mask": "g"}],
                  ["f", "Flatten", {}, "p"], ["o", "Dense", {"units": 2}, "f"]],
        "outputs": ["o"]},
    "noise_inference_lstm": _masked([("SpatialDropout1D", {"rate": 0.3, "seed": 1}),
                                     ("GaussianNoise", {"stddev": 0.2, "seed": 2})],
                                    train=False),
    "noise_features_inference": {
        "inputs": [{"name": "f", "shape": [4]}],
        "nodes": [["g", "GaussianNoise", {"stddev": 0.5}, "f"], ["o", "Dense", {"units": 2}, "g"]],
        "outputs": ["o"], "train": False},
}

if __name__ == "__main__":
    keras_layer_fixtures.write_area("normalization", CASES)
