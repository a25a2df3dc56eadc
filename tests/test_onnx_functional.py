"""to_onnx on Functional models (several inputs and outputs, shared layers, nested models) and on
the layers around recurrent ones: each export computes the rnnkit model's outputs in
onnxruntime at two batch sizes and two sequence lengths; what has no exact ONNX equivalent is
refused by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import rnnkit  # noqa: E402
from rnnkit import layers  # noqa: E402
from rnnkit.interop import to_onnx  # noqa: E402

SHAPES = [(2, 5), (3, 9)]  # (batch, time)
TOL = 2e-5


def randomize(model, seed=0, scale=0.6):
    """Seeded uniform weights (biases too); variances of normalization layers kept positive."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(-scale, scale, np.shape(w)).astype(np.float32)
                       for w in model.get_weights()])
    with torch.no_grad():
        for module in model.modules():
            variance = getattr(module, "moving_variance", None)
            if isinstance(variance, torch.Tensor):
                variance.abs_().add_(0.5)
    return model


def feeds_for(model, batch, time, seed=1):
    rng = np.random.default_rng(seed + batch * 31 + time)
    found = []
    for x in model.inputs:
        shape = (batch,) + tuple(time if d is None else d for d in x.shape[1:])
        if x.dtype.startswith("int"):
            found.append(rng.integers(0, 7, shape).astype(np.int64))
        else:
            found.append(rng.standard_normal(shape).astype(np.float32))
    return found


def export_and_compare(model, tmp_path, **kwargs):
    """Export, run two batches in onnxruntime and compare every output with the model's own."""
    path = tmp_path / "model.onnx"
    proto = to_onnx(model, path, **kwargs)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    for batch, time in SHAPES:
        xs = feeds_for(model, batch, time)
        with torch.no_grad():
            expected = model([torch.from_numpy(x) for x in xs] if len(xs) > 1
                             else torch.from_numpy(xs[0]))
        expected = expected if isinstance(expected, (list, tuple)) else [expected]
        got = session.run(None, dict(zip(names, xs)))
        assert len(got) == len(expected)
        for ours, theirs in zip(got, expected):
            assert ours.shape == tuple(theirs.shape)
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=TOL, atol=TOL)
    return proto


def test_functional_chain_exports_as_the_sequential_would(tmp_path):
    inputs = rnnkit.Input((None, 3))
    y = layers.LSTM(4, return_sequences=True, backend="reference")(inputs)
    y = layers.GRU(3, backend="reference")(y)
    model = randomize(rnnkit.Model(inputs, layers.Dense(2)(y)))
    proto = export_and_compare(model, tmp_path)
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["output"]


def test_two_inputs_two_outputs_a_shared_layer_and_a_nested_model(tmp_path):
    a, b = rnnkit.Input((None, 3), name="left"), rnnkit.Input((None, 3), name="right")
    shared = layers.LSTM(4, backend="reference")
    inner_in = rnnkit.Input((4,))
    inner = rnnkit.Model(inner_in, layers.Dense(2, activation="tanh")(inner_in), name="head")
    model = randomize(rnnkit.Model([a, b], [inner(shared(a)), layers.Dense(1)(shared(b))]))
    proto = export_and_compare(model, tmp_path)
    assert [i.name for i in proto.graph.input] == ["left", "right"]
    assert [o.name for o in proto.graph.output] == model.output_names
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 2


def test_embedding_on_an_integer_input_of_a_functional_model(tmp_path):
    ids = rnnkit.Input((None,), dtype="int32")
    y = layers.GRU(3, backend="reference")(layers.Embedding(7, 4)(ids))
    proto = export_and_compare(randomize(rnnkit.Model(ids, y)), tmp_path)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64


def test_refuses_return_state_outputs_by_name(tmp_path):
    inputs = rnnkit.Input((None, 3))
    _, h, c = layers.LSTM(4, return_state=True, name="enc")(inputs)
    model = rnnkit.Model(inputs, [h, c])
    with pytest.raises(NotImplementedError, match=r"'enc' \(LSTM\): return_state=True"):
        to_onnx(model, tmp_path / "m.onnx")


def test_refuses_masks_in_a_graph_by_name(tmp_path):
    inputs = rnnkit.Input((None, 3))
    y = layers.LSTM(4)(layers.Masking(name="pad")(inputs))
    with pytest.raises(NotImplementedError, match=r"'pad' \(Masking\)"):
        to_onnx(rnnkit.Model(inputs, y), tmp_path / "m.onnx")
