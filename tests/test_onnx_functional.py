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
from helpers import LAYER_CASES, fresh_names  # noqa: E402,F401

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


# -- the layers around recurrent ones -------------------------------------------------------------
def _two_inputs(merge):
    a, b = rnnkit.Input((None, 3), name="a"), rnnkit.Input((None, 3), name="b")
    return rnnkit.Model([a, b], layers.GRU(2, backend="reference")(merge([a, b])))


def _on_sequence(*stack, features=4, time=None):
    inputs = rnnkit.Input((time, features))
    y = inputs
    for layer in stack:
        y = layer(y)
    return rnnkit.Model(inputs, y)


def _attention(layer, **call):
    inputs = rnnkit.Input((None, 3))
    q = layers.LSTM(4, return_sequences=True, backend="reference")(inputs)
    v = layers.GRU(4, return_sequences=True, backend="reference")(inputs)
    out = layer([q, v], **call)
    return rnnkit.Model(inputs, out)


def _self_attention(**kwargs):
    inputs = rnnkit.Input((None, 4))
    call = {k: kwargs.pop(k) for k in ("use_causal_mask", "return_attention_scores")
            if k in kwargs}
    out = layers.MultiHeadAttention(**kwargs)(query=inputs, value=inputs, **call)
    return rnnkit.Model(inputs, out)


MODELS = {
    "concatenate": lambda: _two_inputs(layers.Concatenate()),
    "concatenate_time": lambda: _two_inputs(layers.Concatenate(axis=1)),
    "add": lambda: _two_inputs(layers.Add()),
    "subtract": lambda: _two_inputs(layers.Subtract()),
    "multiply": lambda: _two_inputs(layers.Multiply()),
    "average": lambda: _two_inputs(layers.Average()),
    "maximum": lambda: _two_inputs(layers.Maximum()),
    "minimum": lambda: _two_inputs(layers.Minimum()),
    "dot_sequences": lambda: _on_dot(layers.Dot(axes=(2, 2))),
    "dot_time": lambda: _on_dot(layers.Dot(axes=1)),
    "dot_normalized": lambda: _on_dot(layers.Dot(axes=-1, normalize=True), return_sequences=False),
    "conv_same_strided": lambda: _on_sequence(layers.Conv1D(4, 3, strides=2, padding="same",
                                                            activation="relu"),
                                              layers.GRU(2, backend="reference")),
    "conv_causal_dilated": lambda: _on_sequence(layers.Conv1D(3, 2, padding="causal",
                                                              dilation_rate=2)),
    "conv_valid_groups": lambda: _on_sequence(layers.Conv1D(4, 2, groups=2, use_bias=False)),
    "conv_channels_first": lambda: _on_sequence(layers.Conv1D(2, 2, data_format="channels_first"),
                                                features=4, time=6),
    "pooling": lambda: _on_sequence(layers.MaxPooling1D(2, padding="same"),
                                    layers.AveragePooling1D(2, strides=1),
                                    layers.AveragePooling1D(3, padding="same")),
    "global_pooling": lambda: _two_globals(),
    "reshape_permute": lambda: _on_sequence(layers.Reshape((3, 8)), layers.Permute((2, 1)),
                                            layers.LSTM(2, backend="reference"), time=6),
    "batch_normalization": lambda: _on_sequence(layers.Conv1D(3, 2),
                                                layers.BatchNormalization(),
                                                layers.BatchNormalization(axis=1, center=False),
                                                time=6),
    "layer_normalization": lambda: _on_sequence(
        layers.LSTM(4, return_sequences=True, backend="reference"), layers.LayerNormalization(),
        layers.LayerNormalization(axis=[1, 2], scale=False), layers.LayerNormalization(
            rms_scaling=True), time=5),
    "activation_layers": lambda: _on_sequence(
        layers.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2), layers.LeakyReLU(0.2),
        layers.ReLU(), layers.ELU(0.5), layers.Softmax(), layers.SpatialDropout1D(0.5),
        layers.GaussianNoise(1.0)),
    "attention_dot": lambda: _attention(layers.Attention(use_scale=True)),
    "attention_concat_causal": lambda: _attention(layers.Attention(score_mode="concat",
                                                                   use_scale=True),
                                                  use_causal_mask=True),
    "attention_scores": lambda: _attention(layers.Attention(), return_attention_scores=True),
    "additive_attention": lambda: _attention(layers.AdditiveAttention()),
    "multi_head_attention": lambda: _self_attention(num_heads=2, key_dim=3),
    "multi_head_attention_causal": lambda: _self_attention(
        num_heads=2, key_dim=2, value_dim=3, output_shape=5, use_causal_mask=True,
        return_attention_scores=True),
    "multi_head_attention_no_bias": lambda: _self_attention(num_heads=1, key_dim=4,
                                                            use_bias=False),
}


def _on_dot(dot, return_sequences=True):
    inputs = rnnkit.Input((None, 3))
    a = layers.LSTM(4, return_sequences=return_sequences, backend="reference")(inputs)
    b = layers.GRU(4, return_sequences=return_sequences, backend="reference")(inputs)
    return rnnkit.Model(inputs, dot([a, b]))


def _two_globals():
    inputs = rnnkit.Input((None, 3))
    seq = layers.Bidirectional(layers.LSTM(3, return_sequences=True, backend="reference"))(inputs)
    return rnnkit.Model(inputs, [layers.GlobalMaxPool1D()(seq),
                                 layers.GlobalAveragePooling1D(keepdims=True)(seq)])


@pytest.mark.parametrize("case", sorted(MODELS))
def test_layers_around_recurrent_ones_export_exactly(case, fresh_names, tmp_path):
    export_and_compare(randomize(MODELS[case]()), tmp_path)


def test_refuses_a_lambda_layer_by_name(tmp_path):
    model = _on_sequence(layers.Lambda(lambda x: x * 2, name="double"))
    with pytest.raises(NotImplementedError, match=r"'double' of class Lambda has no ONNX"):
        to_onnx(model, tmp_path / "m.onnx")


def test_refuses_a_padding_mask_reaching_attention(tmp_path):
    inputs = rnnkit.Input((None, 4))
    masked = layers.Masking(name="pad")(inputs)
    model = rnnkit.Model(inputs, layers.Attention()([masked, masked]))
    with pytest.raises(NotImplementedError, match=r"'pad' \(Masking\)"):
        to_onnx(model, tmp_path / "m.onnx")


def test_refuses_gated_multi_head_attention_by_name(tmp_path):
    with pytest.raises(NotImplementedError, match=r"'mha' \(MultiHeadAttention\): use_gate=True"):
        to_onnx(_self_attention(num_heads=1, key_dim=2, use_gate=True, name="mha"),
                tmp_path / "m.onnx")


# -- what Keras recorded --------------------------------------------------------------------------
def _masked(model) -> str | None:
    """The name of the layer that makes a mask (Masking, Embedding(mask_zero)), if any."""
    for layer in model.layers:
        if type(layer).__name__ == "Masking" or getattr(layer, "mask_zero", False):
            return layer.name
    return None


@pytest.mark.parametrize("area, name", LAYER_CASES.all, ids=["/".join(c)
                                                            for c in LAYER_CASES.all])
def test_keras_cases_export_as_keras_predicts_or_are_refused(area, name, fresh_names, tmp_path):
    """Every model Keras recorded: the export computes Keras's predictions in onnxruntime, or,
    where a mask reaches its layers, is refused naming the layer that makes it."""
    model = LAYER_CASES.model(area, name)
    masker = _masked(model)
    if masker is not None:
        with pytest.raises(NotImplementedError, match=f"'{masker}'"):
            to_onnx(model, tmp_path / "m.onnx")
        return
    to_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    xs = LAYER_CASES.arrays(area, name, "x")
    feeds = {i.name: x.astype(np.int64 if x.dtype.kind == "i" else np.float32)
             for i, x in zip(session.get_inputs(), xs)}
    for ours, theirs in zip(session.run(None, feeds), LAYER_CASES.arrays(area, name, "predict"),
                            strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL)
