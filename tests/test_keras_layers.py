"""Recurrent layers against outputs computed by real Keras 3 (tests/data/keras_golden.*)."""

import numpy as np
import pytest
import torch

from rnnkit import layers
from helpers import assert_close, Golden

CASES = sorted(Golden().meta["layers"])


def _layer_from_case(meta):
    return getattr(layers, meta["class"])(**meta["config"])


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_keras(golden, case):
    meta = golden.meta["layers"][case]
    layer = _layer_from_case(meta)
    x = golden[f"{case}/x"]
    layer.build((None,) + x.shape[1:])
    assert [list(w.shape) for w in layer.get_weights()] == meta["weight_shapes"]
    layer.set_weights(golden.seq(f"{case}/w", meta["n_weights"]))
    kwargs = {}
    if meta["n_initial_states"]:
        kwargs["initial_state"] = [torch.from_numpy(golden[f"{case}/h0_{j}"])
                                   for j in range(meta["n_initial_states"])]
    out = layer(torch.from_numpy(x), **kwargs)
    outs = out if isinstance(out, list) else [out]
    assert len(outs) == meta["n_outputs"]
    for k, o in enumerate(outs):
        assert list(o.shape) == meta["output_shapes"][k]
        assert_close(o, golden[f"{case}/out{k}"])


@pytest.mark.parametrize("name", ["lstm_unit_forget_bias", "lstm_no_unit_forget_bias",
                                  "gru_reset_after", "gru_reset_before", "simple_rnn"])
def test_initial_bias_matches_keras(golden, name):
    meta = golden.meta["init_bias"][name]
    layer = getattr(layers, meta["class"])(**meta["config"], input_shape=(None, 4))
    np.testing.assert_array_equal(layer.bias.detach().numpy(), golden[f"init_bias/{name}"])


def test_weight_names_and_order(golden):
    lstm = layers.LSTM(5, input_shape=(None, 4))
    assert lstm.weight_names == ["kernel", "recurrent_kernel", "bias"]
    gru = layers.GRU(5, use_bias=False, input_shape=(None, 4))
    assert [w.shape for w in gru.get_weights()] == [(4, 15), (5, 15)]


def test_float64_layer_matches_float32_keras(golden):
    """The same layer in float64 (after .double()) agrees with Keras's float32 numbers."""
    meta = golden.meta["layers"]["gru_reset_before"]
    layer = _layer_from_case(meta)
    x = golden["gru_reset_before/x"]
    layer.build((None,) + x.shape[1:])
    layer.set_weights(golden.seq("gru_reset_before/w", 3))
    layer.double()
    out = layer(torch.from_numpy(x).double())
    assert out.dtype == torch.float64
    assert_close(out, golden["gru_reset_before/out0"], tol=1e-5)
