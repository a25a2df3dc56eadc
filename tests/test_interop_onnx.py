"""to_onnx: every exported configuration computes the rnnkit model's output in onnxruntime, at two
sequence lengths and two batch sizes; what has no exact ONNX equivalent is refused by name."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from rnnkit.interop import to_onnx  # noqa: E402
from rnnkit.layers import (GRU, LSTM, Activation, Bidirectional, Dense, Dropout,  # noqa: E402
                           Embedding, Flatten, Input, Layer, Masking, RepeatVector, SimpleRNN,
                           TimeDistributed)
from rnnkit.models import Sequential  # noqa: E402


FEATURES = 3
SHAPES = [(2, 5), (3, 9)]  # (batch, time): two batch sizes, two sequence lengths
TOL = 2e-5
CELLS = {"simple_rnn": (SimpleRNN, {}), "lstm": (LSTM, {}), "gru": (GRU, {}),
         "gru_reset_before": (GRU, {"reset_after": False})}


def rnn(cell, units=4, **kwargs):
    cls, options = CELLS[cell]
    return cls(units, backend="reference", **options, **kwargs)


def randomize(model, seed=0, scale=0.6):
    """Seeded uniform weights, biases included (nonzero, so their layout is tested too)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(-scale, scale, np.shape(w)).astype(np.float32)
                       for w in model.get_weights()])
    return model


def sequences(seed=1, features=FEATURES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((b, t, features)).astype(np.float32) for b, t in SHAPES]


def export_and_compare(model, tmp_path, inputs=None, **kwargs):
    """Export, run every input in onnxruntime and compare with the model's own output."""
    path = tmp_path / "model.onnx"
    proto = to_onnx(randomize(model), path, **kwargs)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for x in sequences() if inputs is None else inputs:
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        (got,) = session.run(None, {"input": x})
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=TOL, atol=TOL)
    return proto


def sequential(*layers, features=FEATURES):
    return Sequential([Input((None, features)), *layers])


def op_types(proto):
    return [node.op_type for node in proto.graph.node]


def recurrent_nodes(proto):
    return [node for node in proto.graph.node if node.op_type in ("RNN", "LSTM", "GRU")]


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


# -- recurrent layers -----------------------------------------------------------------------------
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "backwards"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("cell", CELLS)
def test_recurrent_options(cell, use_bias, return_sequences, go_backwards, tmp_path):
    layer = rnn(cell, use_bias=use_bias, return_sequences=return_sequences,
                go_backwards=go_backwards)
    proto = export_and_compare(sequential(layer), tmp_path)
    (node,) = recurrent_nodes(proto)
    attrs = attributes(node)
    assert attrs["direction"] == (b"reverse" if go_backwards else b"forward")
    assert attrs["layout"] == 0
    if cell.startswith("gru"):
        assert attrs["linear_before_reset"] == int(layer.reset_after)


@pytest.mark.parametrize("cell, activation, recurrent_activation", [
    *[("simple_rnn", a, None) for a in ("tanh", "relu", "sigmoid", "linear", "hard_sigmoid",
                                        "softsign", "softplus", "elu", "leaky_relu")],
    ("lstm", "tanh", "hard_sigmoid"), ("lstm", "linear", "sigmoid"), ("lstm", "relu", "sigmoid"),
    ("lstm", "leaky_relu", "hard_sigmoid"), ("lstm", "tanh", "softsign"),
    ("gru", "tanh", "hard_sigmoid"), ("gru", "linear", "sigmoid"), ("gru", "elu", "hard_sigmoid"),
    ("gru_reset_before", "tanh", "hard_sigmoid"), ("gru_reset_before", "leaky_relu", "sigmoid"),
])
def test_recurrent_activations(cell, activation, recurrent_activation, tmp_path):
    kwargs = {"activation": activation, "return_sequences": True}
    if recurrent_activation:
        kwargs["recurrent_activation"] = recurrent_activation
    export_and_compare(sequential(rnn(cell, **kwargs)), tmp_path)


def test_hard_sigmoid_is_keras_3s(tmp_path):
    """Keras 3's hard_sigmoid, relu6(x + 3) / 6, saturates at ±3: the ONNX node must agree
    where Keras 2's 0.2 x + 0.5 would not (inputs scaled to reach the saturated range)."""
    x = [3 * s for s in sequences()]
    model = sequential(rnn("lstm", recurrent_activation="hard_sigmoid", return_sequences=True))
    export_and_compare(model, tmp_path, inputs=x)


def test_stacked_recurrent_layers(tmp_path):
    model = sequential(rnn("lstm", 5, return_sequences=True),
                       rnn("gru", 4, return_sequences=True, go_backwards=True),
                       rnn("gru_reset_before", 3, return_sequences=True),
                       rnn("simple_rnn", 2), Dense(1))
    proto = export_and_compare(model, tmp_path)
    assert [n.op_type for n in recurrent_nodes(proto)] == ["LSTM", "GRU", "GRU", "RNN"]


def test_recurrent_dropout_is_off_at_inference(tmp_path):
    model = sequential(rnn("lstm", dropout=0.3, recurrent_dropout=0.2, return_sequences=True),
                       rnn("gru", dropout=0.5))
    export_and_compare(model, tmp_path)


# -- Bidirectional --------------------------------------------------------------------------------
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_is_one_node(cell, merge_mode, return_sequences, tmp_path):
    layer = Bidirectional(rnn(cell, return_sequences=return_sequences), merge_mode=merge_mode)
    proto = export_and_compare(sequential(layer), tmp_path)
    (node,) = recurrent_nodes(proto)
    assert attributes(node)["direction"] == b"bidirectional"


def test_bidirectional_backward_layer_with_other_activations_and_no_bias(tmp_path):
    backward = rnn("lstm", go_backwards=True, activation="relu", recurrent_activation="hard_sigmoid",
                   use_bias=False, return_sequences=True)
    model = sequential(Bidirectional(rnn("lstm", return_sequences=True), backward_layer=backward))
    proto = export_and_compare(model, tmp_path)
    (node,) = recurrent_nodes(proto)
    assert attributes(node)["activations"] == [b"Sigmoid", b"Tanh", b"Tanh",
                                               b"HardSigmoid", b"Relu", b"Relu"]


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("forward, backward, directions", [
    ({"cell": "gru"}, {"cell": "gru", "units": 3, "go_backwards": True}, ["forward", "reverse"]),
    ({"cell": "lstm"}, {"cell": "simple_rnn", "go_backwards": True}, ["forward", "reverse"]),
    ({"cell": "gru", "go_backwards": True}, {"cell": "gru"}, ["reverse", "forward"]),
], ids=["other_units", "other_class", "forward_goes_backwards"])
def test_bidirectional_as_two_nodes(forward, backward, directions, return_sequences, tmp_path):
    def make(options):
        options = dict(options)
        return rnn(options.pop("cell"), return_sequences=return_sequences, **options)

    layer = Bidirectional(make(forward), backward_layer=None if backward is None else make(backward))
    proto = export_and_compare(sequential(layer), tmp_path)
    assert [attributes(n)["direction"].decode() for n in recurrent_nodes(proto)] == directions


def test_stacked_bidirectional_layers(tmp_path):
    model = sequential(Bidirectional(rnn("lstm", 4, return_sequences=True)),
                       Bidirectional(rnn("gru", 3), merge_mode="ave"), Dense(2))
    export_and_compare(model, tmp_path)


# -- the other layers -----------------------------------------------------------------------------
DENSE_ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu",
                     "softplus", "softsign", "exponential", "hard_sigmoid", "hard_silu",
                     "leaky_relu", "mish", "gelu", "relu6", "silu"]


@pytest.mark.parametrize("activation", DENSE_ACTIVATIONS)
def test_dense_on_2d(activation, tmp_path):
    rng = np.random.default_rng(2)
    inputs = [4 * rng.standard_normal((b, FEATURES)).astype(np.float32) for b, _ in SHAPES]
    model = Sequential([Input((FEATURES,)), Dense(5, activation=activation)])
    export_and_compare(model, tmp_path, inputs=inputs)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax"])
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
def test_dense_on_3d(activation, use_bias, tmp_path):
    model = sequential(rnn("gru", return_sequences=True),
                       Dense(3, activation=activation, use_bias=use_bias))
    export_and_compare(model, tmp_path)


@pytest.mark.parametrize("activation", ["relu", "softmax", "gelu"])
def test_activation_layer(activation, tmp_path):
    model = sequential(rnn("simple_rnn", return_sequences=True), Activation(activation))
    export_and_compare(model, tmp_path)


def test_dropout_is_the_identity(tmp_path):
    model = sequential(rnn("lstm", return_sequences=True), Dropout(0.5), rnn("gru"),
                       Dropout(0.3), Dense(2))
    proto = export_and_compare(model, tmp_path)
    assert "Dropout" not in op_types(proto)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_repeat_vector_and_flatten(data_format, tmp_path):
    model = sequential(rnn("lstm", 4), RepeatVector(3), rnn("gru", 2, return_sequences=True),
                       Flatten(data_format=data_format), Dense(2, activation="tanh"))
    export_and_compare(model, tmp_path)


def test_flatten_of_2d_input_is_the_identity(tmp_path):
    model = sequential(rnn("simple_rnn"), Flatten(), Dense(2))
    export_and_compare(model, tmp_path)


def test_time_distributed_dense(tmp_path):
    model = sequential(rnn("lstm", return_sequences=True),
                       TimeDistributed(Dense(3, activation="softmax")))
    export_and_compare(model, tmp_path)


def test_embedding_takes_int64_ids(tmp_path):
    rng = np.random.default_rng(3)
    ids = [rng.integers(0, 10, (b, t)).astype(np.int64) for b, t in SHAPES]
    model = Sequential([Input((None,)), Embedding(10, 4), rnn("gru"), Dense(1)])
    proto = export_and_compare(model, tmp_path, inputs=ids)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64


def test_input_shape_from_the_first_layer(tmp_path):
    """A model given input_shape= (no Input layer), built for one length, runs at any length."""
    model = Sequential([LSTM(4, input_shape=(7, FEATURES), backend="reference"), Dense(2)])
    export_and_compare(model, tmp_path)


def test_older_opset(tmp_path):
    model = sequential(rnn("gru", return_sequences=True, go_backwards=True),
                       TimeDistributed(Dense(3)), rnn("lstm"), RepeatVector(2), Flatten(),
                       Dense(2, activation="softmax"))
    proto = export_and_compare(model, tmp_path, opset=14)
    assert [o.version for o in proto.opset_import] == [14]


# -- the graph ------------------------------------------------------------------------------------
def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_batch_and_time_are_symbolic(tmp_path):
    model = sequential(rnn("lstm", 4, return_sequences=True), rnn("gru", 3, return_sequences=True))
    proto = to_onnx(randomize(model), tmp_path / "model.onnx")
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert (inp.name, dims(inp)) == ("input", ["batch", "time", FEATURES])
    assert (out.name, dims(out)) == ("output", ["batch", "time", 3])
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    saved = onnx.load(str(tmp_path / "model.onnx"))
    onnx.checker.check_model(saved, full_check=True)
    assert [o.version for o in saved.opset_import] == [22]


def test_last_output_keeps_symbolic_batch(tmp_path):
    proto = to_onnx(randomize(sequential(rnn("simple_rnn"), Dense(2))), tmp_path / "m.onnx")
    assert dims(proto.graph.output[0]) == ["batch", 2]


def test_one_recurrent_node_per_layer_and_no_loops(tmp_path):
    proto = to_onnx(randomize(sequential(rnn("lstm", go_backwards=True, return_sequences=True))),
                    tmp_path / "m.onnx")
    types = op_types(proto)
    assert types.count("LSTM") == 1 and "Loop" not in types and "Scan" not in types


# -- refusals -------------------------------------------------------------------------------------
class Doubling(Layer):
    def call(self, inputs, training=None):
        return 2 * inputs


class MyLSTM(LSTM):
    pass


def refused(model, error=NotImplementedError, match="", **kwargs):
    with pytest.raises(error, match=match):
        to_onnx(model, os.devnull, **kwargs)


def test_refuses_stateful_layers():
    model = Sequential([LSTM(4, stateful=True, batch_input_shape=(2, None, FEATURES))])
    refused(model, match=r"'lstm' \(LSTM\): stateful=True .* Export a copy with stateful=False")
    model = Sequential([Bidirectional(GRU(4, stateful=True, batch_input_shape=(2, None, 1)))])
    refused(model, match=r"'forward_gru' \(GRU\): stateful=True")


def test_refuses_a_recurrent_activation_onnx_has_not():
    refused(sequential(rnn("simple_rnn", activation="gelu")),
            match=r"'simple_rnn' \(SimpleRNN\): activation 'gelu' has no equivalent among an "
                  r"ONNX RNN node's activations; expected one of \[")
    refused(sequential(rnn("gru", recurrent_activation="silu")),
            match=r"'gru' \(GRU\): activation 'silu' has no equivalent among an ONNX GRU node's")


def test_refuses_custom_activation_callables():
    def twice(x):
        return 2 * x

    def tanh(x):  # a stranger's function with a known name is not rnnkit's tanh
        return torch.tanh(x) + 1

    refused(sequential(rnn("lstm", activation=twice)),
            match=r"'lstm' \(LSTM\): activation 'twice' is a Python function, not one of "
                  r"rnnkit.activations; an ONNX graph cannot run it")
    refused(sequential(rnn("simple_rnn"), Dense(2, activation=tanh)),
            match=r"'dense' \(Dense\): activation 'tanh' is a Python function")
    refused(sequential(rnn("simple_rnn"), Activation(lambda x: x, name="act")),
            match=r"'act' \(Activation\): activation '<lambda>' is a Python function")


def test_refuses_an_activation_newer_than_the_opset():
    refused(sequential(rnn("simple_rnn"), Dense(2, activation="gelu")), opset=18,
            match=r"'dense' \(Dense\): activation 'gelu' needs ONNX opset 20 or later \(Gelu\), "
                  r"got opset=18")


def test_refuses_layers_without_a_converter():
    refused(sequential(rnn("simple_rnn"), Doubling(name="double")),
            match=r"layer 'double' of class Doubling has no ONNX converter; expected one of")
    refused(sequential(MyLSTM(4, name="mine")), match="class MyLSTM has no ONNX converter")


def test_refuses_an_embedding_after_another_layer():
    model = Sequential([Input((4,)), Dense(4), Embedding(10, 2, name="emb")])
    refused(model, match=r"'emb' \(Embedding\): expected to take one of the model's inputs")


@pytest.mark.parametrize("opset", [13, 10**3, "22"])
def test_refuses_opsets_out_of_range(opset):
    refused(sequential(rnn("lstm")), ValueError, opset=opset,
            match=r"expected opset an integer from 14 to \d+ .*, got")


def test_refuses_unbuilt_models_and_non_models():
    refused(Sequential([LSTM(4)]), ValueError, match="'sequential' is not built")
    refused(LSTM(4, input_shape=(None, 2)), TypeError, match="expected a rnnkit Sequential or "
                                                             "Functional model, got LSTM")


def test_refuses_bidirectional_without_a_merge():
    model = sequential(Bidirectional(rnn("lstm"), merge_mode=None, name="bi"))
    refused(model, match=r"'bi' \(Bidirectional\): merge_mode=None gives two outputs; expected "
                         r"one of 'concat', 'sum', 'mul', 'ave'")


def test_refuses_masks():
    refused(sequential(Masking(), rnn("lstm")),
            match=r"'masking' \(Masking\): the layers after it skip masked steps")
    model = Sequential([Input((None,)), Embedding(10, 4, mask_zero=True), rnn("gru")])
    refused(model, match=r"'embedding' \(Embedding\): mask_zero=True: the layers after it skip")
