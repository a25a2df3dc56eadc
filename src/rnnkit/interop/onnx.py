"""to_onnx: a Sequential model as an ONNX graph with native RNN / LSTM / GRU nodes.

The graph is written node by node rather than traced (torch.onnx.export freezes the sequence
length of stacked recurrent layers), so batch and time stay symbolic. Each layer maps to nodes
computing exactly its function; a layer or option without an exact ONNX equivalent is refused
with an error naming it. Gate orders are permuted in `_gates` only.

Layout: rnnkit is batch-first (batch, time, features); the recurrent nodes run with layout=0
(time-major, the layout onnxruntime's CPU kernels accept) between two Transposes.
"""

from __future__ import annotations

import math

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError("rnnkit.interop.to_onnx needs the onnx package: "
                      "pip install 'rnnkit[onnx]' (or pip install onnx).") from error

from ..layers import (GRU, LSTM, Activation, Bidirectional, Dense, Dropout, Embedding, Flatten,
                      InputLayer, Masking, RepeatVector, SimpleRNN, TimeDistributed)
from ..utils.naming import free_name
from . import _gates
from ._onnx_graph import (_Graph, _Value, _activation_name, _apply_activation, _float32,
                          _refuse, _refuse_activation)

MIN_OPSET = 14  # RNN/LSTM/GRU with `layout`, HardSwish
BATCH, TIME = "batch", "time"
_INT64_MIN = np.iinfo(np.int64).min

# Keras activation → the name (alpha, beta) an ONNX recurrent node takes in `activations`.
_RECURRENT = {
    "tanh": ("Tanh",), "sigmoid": ("Sigmoid",), "relu": ("Relu",), "linear": ("Affine", 1.0, 0.0),
    "hard_sigmoid": ("HardSigmoid", 1 / 6, 0.5), "softsign": ("Softsign",),
    "softplus": ("Softplus",), "elu": ("Elu", 1.0), "leaky_relu": ("LeakyRelu", 0.2),
}
_NODE = {SimpleRNN: "RNN", LSTM: "LSTM", GRU: "GRU"}
_MERGE_MODES = ("concat", "sum", "mul", "ave")


def _activation(g, layer, x):
    return _Value(_apply_activation(g, layer, layer.activation, x.name), x.shape)


def _dense(g, layer, x):
    y = g.op("MatMul", [x.name, g.const(f"{layer.name}/kernel", _float32(layer.kernel))],
             layer.name)
    if layer.use_bias:
        y = g.op("Add", [y, g.const(f"{layer.name}/bias", _float32(layer.bias))], layer.name)
    return _Value(_apply_activation(g, layer, layer.activation, y), x.shape[:-1] + (layer.units,))


def _identity(g, layer, x):
    return x  # Dropout and InputLayer compute the identity at inference


_NO_MASKS = ("the layers after it skip masked steps, which ONNX recurrent nodes cannot do "
             "(their sequence_lens only covers padding at the end); export a model without masking")


def _masking(g, layer, x):
    raise _refuse(layer, f"{_NO_MASKS}.")


def _embedding(g, layer, x):
    if layer.mask_zero:
        raise _refuse(layer, f"mask_zero=True: {_NO_MASKS}, e.g. with mask_zero=False.")
    if x.name not in g.graph_inputs:
        raise _refuse(layer, "expected to take one of the model's inputs (its ids are the "
                      "graph's int64 input), got it after another layer.")
    table = g.const(f"{layer.name}/embeddings", _float32(layer.embeddings))
    return _Value(g.op("Gather", [table, x.name], layer.name), x.shape + (layer.output_dim,))


# -- reshaping layers -----------------------------------------------------------------------------
def _flatten(g, layer, x):
    if len(x.shape) <= 2:
        return x
    name = x.name
    if layer.data_format == "channels_first":
        name = g.op("Transpose", [name], layer.name, perm=[0, *range(2, len(x.shape)), 1])
    rest = x.shape[1:]
    size = math.prod(rest) if all(isinstance(d, int) for d in rest) else None
    return _Value(g.op("Reshape", [name, g.ints("batch_and_rest", [0, -1])], layer.name),
                  (x.shape[0], size))


def _repeat_vector(g, layer, x):
    if len(x.shape) != 2:
        raise _refuse(layer, f"expected input of shape (batch, features), got {x.shape}.")
    y = g.op("Unsqueeze", [x.name, g.ints("axis_1", [1])], layer.name)
    y = g.op("Expand", [y, g.ints(f"{layer.name}/repeats", [1, layer.n, 1])], layer.name)
    return _Value(y, (x.shape[0], layer.n, x.shape[1]))


def _time_distributed(g, layer, x):
    """The wrapped layer on (batch·time, …) rows, reshaped back to (batch, time, …)."""
    rest = x.shape[2:]
    if len(x.shape) < 3 or not all(isinstance(d, int) for d in rest):
        raise _refuse(layer, f"expected input (batch, time, …) with known trailing axes, got "
                      f"{x.shape}.")
    rows = g.op("Reshape", [x.name, g.ints(f"{layer.name}/rows", [-1, *rest])], layer.name)
    y = _convert(g, layer.layer, _Value(rows, (None, *rest)))
    if not all(isinstance(d, int) for d in y.shape[1:]):
        raise _refuse(layer, f"the wrapped layer's output {y.shape[1:]} per step is not fixed.")
    first_two = g.op("Slice", [g.op("Shape", [x.name], layer.name), g.ints("zero", [0]),
                               g.ints("two", [2])], layer.name)
    shape = g.op("Concat", [first_two, g.ints(f"{layer.name}/step_shape", y.shape[1:])],
                 layer.name, axis=0)
    return _Value(g.op("Reshape", [y.name, shape], layer.name), x.shape[:2] + y.shape[1:])


def _flip_time(g, hint, x: _Value) -> _Value:
    """x reversed along axis 1 (time), whatever its length."""
    y = g.op("Slice", [x.name, g.ints("minus_one", [-1]), g.ints("int64_min", [_INT64_MIN]),
                       g.ints("axis_1", [1]), g.ints("minus_one", [-1])], hint)
    return _Value(y, x.shape)


# -- recurrent layers -----------------------------------------------------------------------------
def _check_recurrent(layer):
    if layer.stateful:
        raise _refuse(layer, "stateful=True carries states from call to call; an ONNX graph "
                      "starts every call from zero states. Export a copy with stateful=False.")
    if layer.return_state:
        raise _refuse(layer, "return_state=True gives several outputs; expected one.")
    if layer.cell._options():
        raise _refuse(layer, f"options {sorted(layer.cell._options())} change its cell; ONNX's "
                      "nodes compute the plain cell.")


def _node_activations(layer) -> list[tuple]:
    """The ONNX activations of one direction: RNN (f), LSTM (f, g, h), GRU (f, g)."""
    fns = [layer.activation]
    if not isinstance(layer, SimpleRNN):
        fns = [layer.recurrent_activation] + fns * (2 if isinstance(layer, LSTM) else 1)
    found = []
    for fn in fns:
        name = _activation_name(fn)
        if name not in _RECURRENT:
            raise _refuse_activation(layer, fn, _RECURRENT,
                                     f"among an ONNX {_NODE[type(layer)]} node's activations")
        found.append(_RECURRENT[name])
    return found


def _activation_attrs(entries) -> dict:
    # alpha and beta lists are consumed in order by the functions that take them
    attrs = {"activations": [e[0] for e in entries]}
    alphas = [e[1] for e in entries if len(e) > 1]
    betas = [e[2] for e in entries if len(e) > 2]
    if alphas:
        attrs["activation_alpha"] = alphas
    if betas:
        attrs["activation_beta"] = betas
    return attrs


def _onnx_weights(layer):
    bias = layer.bias if layer.use_bias else None
    w, r, b = _gates.keras_to_onnx(layer.spec.family, layer.kernel, layer.recurrent_kernel, bias,
                                   reset_after=getattr(layer, "reset_after", True))
    return _float32(w), _float32(r), _float32(b)


def _rnn_node(g, layers, x: _Value) -> list[_Value]:
    """One ONNX RNN/LSTM/GRU node running `layers` — one layer, or a forward layer and a
    go_backwards layer as direction="bidirectional" — over x. Per layer: its outputs in the
    original time order (batch, time, units), or its final state (batch, units)."""
    first = layers[0]
    for layer in layers:
        _check_recurrent(layer)
    hint = first.name if len(layers) == 1 else f"{first.name}+{layers[1].name}"
    if len(layers) == 2:
        direction = "bidirectional"
    else:
        direction = "reverse" if first.go_backwards else "forward"
    w, r, b = (np.stack(arrays) for arrays in zip(*map(_onnx_weights, layers)))
    attrs = _activation_attrs([e for layer in layers for e in _node_activations(layer)])
    if isinstance(first, GRU):
        attrs["linear_before_reset"] = int(first.reset_after)
    x_tbf = g.op("Transpose", [x.name], hint, perm=[1, 0, 2])
    y, y_h = g.op(_NODE[type(first)], [x_tbf, g.const(f"{hint}/W", w), g.const(f"{hint}/R", r),
                                       g.const(f"{hint}/B", b)],
                  hint, n_out=2, hidden_size=first.units, direction=direction, layout=0, **attrs)
    batch, time = x.shape[:2]
    outputs = []
    for k in range(len(layers)):
        index = g.ints(f"direction_{k}", k)
        if first.return_sequences:  # Y: (time, directions, batch, units)
            seq = g.op("Gather", [y, index], hint, axis=1)
            outputs.append(_Value(g.op("Transpose", [seq], hint, perm=[1, 0, 2]),
                                  (batch, time, first.units)))
        else:  # Y_h: (directions, batch, units)
            outputs.append(_Value(g.op("Gather", [y_h, index], hint, axis=0),
                                  (batch, first.units)))
    return outputs


def _recurrent(g, layer, x):
    (y,) = _rnn_node(g, [layer], x)
    if layer.return_sequences and layer.go_backwards:
        return _flip_time(g, layer.name, y)  # Keras returns them in processing order
    return y


def _one_node(forward, backward) -> bool:
    """Whether an ONNX bidirectional node computes both layers: it shares hidden_size and
    linear_before_reset between its directions, and runs the first forward, the second reversed."""
    return (type(forward) is type(backward) and forward.units == backward.units
            and getattr(forward, "reset_after", None) == getattr(backward, "reset_after", None)
            and not forward.go_backwards and backward.go_backwards
            and forward.return_sequences == backward.return_sequences)


def _merge(g, layer, a: _Value, b: _Value) -> _Value:
    mode = layer.merge_mode
    if mode == "concat":
        return _Value(g.op("Concat", [a.name, b.name], layer.name, axis=-1),
                      a.shape[:-1] + (a.shape[-1] + b.shape[-1],))
    if mode in ("sum", "ave"):
        y = g.op("Add", [a.name, b.name], layer.name)
        if mode == "ave":
            y = g.op("Mul", [y, g.const("one_half", np.float32(0.5))], layer.name)
        return _Value(y, a.shape)
    if mode == "mul":
        return _Value(g.op("Mul", [a.name, b.name], layer.name), a.shape)
    raise AssertionError(mode)  # _bidirectional checked it


def _bidirectional(g, layer, x):
    forward, backward = layer.forward_layer, layer.backward_layer
    if layer.merge_mode not in _MERGE_MODES:
        raise _refuse(layer, f"merge_mode={layer.merge_mode!r} gives two outputs; expected one of "
                      f"{', '.join(map(repr, _MERGE_MODES))} (one output).")
    if _one_node(forward, backward):
        a, b = _rnn_node(g, [forward, backward], x)
    else:  # Keras: the backward layer's sequence is flipped back to the original time order
        a, b = _recurrent(g, forward, x), _recurrent(g, backward, x)
        if backward.return_sequences:
            b = _flip_time(g, backward.name, b)
    return _merge(g, layer, a, b)


# -- the model ------------------------------------------------------------------------------------
_CONVERTERS = {SimpleRNN: _recurrent, LSTM: _recurrent, GRU: _recurrent,
               Bidirectional: _bidirectional, Dense: _dense, Activation: _activation,
               Dropout: _identity, InputLayer: _identity, Embedding: _embedding,
               Masking: _masking, Flatten: _flatten, RepeatVector: _repeat_vector,
               TimeDistributed: _time_distributed}


def _convert(g: _Graph, layer, *args, **kwargs):
    """The layer's ONNX nodes on its call's arguments (a _Value, a list of them for a layer
    taking a list, keyword arguments for one taking several); its output _Value(s)."""
    from ..models import Model

    convert = _model if isinstance(layer, Model) else _converter(layer)
    if not args and "inputs" in kwargs:  # layer(inputs=x, ...) as layer(x, ...)
        args, kwargs = (kwargs["inputs"],), {k: v for k, v in kwargs.items() if k != "inputs"}
    try:
        return convert(g, layer, *args, **kwargs)
    except TypeError as err:
        if "argument" not in str(err):
            raise
        raise _refuse(layer, f"its call arguments {sorted(kwargs)} have no ONNX "
                      "counterpart.") from err


def _converter(layer):
    from . import _onnx_attention  # noqa: F401 (its converters join the table)
    from ._onnx_layers import CONVERTERS

    convert = _CONVERTERS.get(type(layer)) or CONVERTERS.get(type(layer).__name__)
    if convert is None:
        names = sorted({cls.__name__ for cls in _CONVERTERS if cls is not Masking}
                       | set(CONVERTERS))
        raise NotImplementedError(f"to_onnx: layer {getattr(layer, 'name', layer)!r} of class "
                                  f"{type(layer).__name__} has no ONNX converter; expected one "
                                  f"of {', '.join(names)}.")
    return convert


def _model(g: _Graph, model, x):
    """A model used as a layer: its graph on x."""
    outputs = _model_outputs(g, model, x if isinstance(x, list) else [x])
    return outputs[0] if len(outputs) == 1 else outputs


def _model_outputs(g: _Graph, model, inputs: list[_Value]) -> list[_Value]:
    """The model's graph on `inputs` (in model.inputs order): a Sequential layer after layer,
    a Functional model node by node from its inputs (Keras's depth order)."""
    from ..models import Sequential

    if isinstance(model, Sequential):
        (x,) = inputs
        for layer in model.layers:
            x = _convert(g, layer, x)
        return [x]
    values = {id(t): v for t, v in zip(model.inputs, inputs)}
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            if node.is_input:
                continue
            args, kwargs = node.fill(values)
            result = _convert(g, node.layer, *args, **kwargs)
            results = result if isinstance(result, list) else [result]
            if len(results) != len(node.outputs):
                raise _refuse(node.layer, f"expected {len(node.outputs)} outputs, the export gives "
                              f"{len(results)}.")
            values.update({id(t): v for t, v in zip(node.outputs, results)})
    return [values[id(t)] for t in model.outputs]


def _dims(where, shape, time_axis: bool, time=TIME) -> tuple:
    """An input's ONNX shape: batch always symbolic, time too (named `time`) where axis 1 is
    one."""
    dims = [BATCH]
    for axis, d in enumerate(shape[1:], start=1):
        if axis == 1 and time_axis:
            dims.append(time)
        elif d is None:
            raise ValueError(f"to_onnx: {where} has input shape {tuple(shape)}; expected every "
                             f"axis after batch and time to be known, got None at axis {axis}.")
        else:
            dims.append(int(d))
    return tuple(dims)


def _graph_inputs(model) -> list[tuple[_Value, int]]:
    """(value, element type) of each graph input: "input" for a one-input model, else the
    names of its Inputs; int64 ids where the model starts with an Embedding or the Input is
    of an integer dtype."""
    from ..models import Sequential

    if not getattr(model, "built", False) or (isinstance(model, Sequential)
                                              and model._batch_input_shape is None):
        raise ValueError(f"to_onnx: model {model.name!r} is not built, so its input shape is "
                         "unknown; pass input_shape= to its first layer, start it with Input(...), "
                         "or call model.build((None, time, features)) first.")
    where = f"model {model.name!r}"
    if isinstance(model, Sequential):  # (axis 1 is symbolic whatever size the model was built for)
        shape = model._batch_input_shape
        ids = bool(model.layers) and isinstance(model.layers[0], Embedding)
        return [(_Value("input", _dims(where, shape, len(shape) >= 3 or ids)),
                 TensorProto.INT64 if ids else TensorProto.FLOAT)]
    found = []
    for x in model.inputs:  # an unknown time axis is symbolic, one name per input
        name = x._keras_history[0].name if len(model.inputs) > 1 else "input"
        ids = not x.dtype.startswith(("float", "bfloat"))
        time = TIME if len(model.inputs) == 1 else f"{name}_{TIME}"
        dims = _dims(where, x.shape, len(x.shape) >= 2 and x.shape[1] is None, time)
        found.append((_Value(name, dims), TensorProto.INT64 if ids else TensorProto.FLOAT))
    return found


def _unique(names) -> list[str]:
    """Output names: a layer's name, "_k" added for its k-th further output."""
    found: list[str] = []
    for name in names:
        found.append(free_name(name, found))
    return found


def _check_opset(opset) -> int:
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset, int) or isinstance(opset, bool) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"to_onnx: expected opset an integer from {MIN_OPSET} to {newest} (the "
                         f"newest this onnx {onnx.__version__} knows), got {opset!r}.")
    return opset


def to_onnx(model, path, opset: int = 22):
    """Write `model` (a built rnnkit Sequential or Functional model) to `path` as an ONNX model.

    Recurrent layers become native ONNX RNN / LSTM / GRU nodes (a Bidirectional one node with
    direction="bidirectional" where possible); the layers around them (merging, pooling,
    Conv1D, normalization, activations, attention) become the ONNX operators that compute them.
    A one-input model's graph input is named "input", float32 (int64 ids when an Embedding
    takes it) of shape (batch, time, features), batch and time symbolic; a model of several
    inputs names each after its Input. One output is named "output"; several are named after
    the model's output_names. Weights are written as float32.

    Args:
        model: a built `rnnkit.models.Sequential` or Functional `rnnkit.Model` (nested models
            included).
        path: where to write the `.onnx` file (str or path-like).
        opset: the ONNX operator set to target (14 or later; default 22).

    Returns:
        The `onnx.ModelProto` written, after `onnx.checker.check_model`.

    Raises:
        NotImplementedError: a layer or option has no exact ONNX equivalent (the message names
            the layer and why), e.g. stateful layers, masks, merge_mode=None or a Lambda layer.

    >>> to_onnx(model, "model.onnx")  # doctest: +SKIP
    """
    from ..models import Model

    if not isinstance(model, Model) or not hasattr(model, "layers"):
        raise TypeError(f"to_onnx: expected a rnnkit Sequential or Functional model, got "
                        f"{type(model).__name__}.")
    g = _Graph(_check_opset(opset))
    graph_inputs = _graph_inputs(model)
    g.graph_inputs = {v.name for v, _ in graph_inputs}
    ys = _model_outputs(g, model, [v for v, _ in graph_inputs])
    names = ["output"] if len(ys) == 1 else _unique(model.output_names)
    outputs = []
    for name, y in zip(names, ys):
        g.nodes.append(helper.make_node("Identity", [y.name], [name], name=f"{name}/Identity"))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, y.shape))
    inputs = [helper.make_tensor_value_info(v.name, kind, v.shape) for v, kind in graph_inputs]
    graph = helper.make_graph(g.nodes, model.name, inputs, outputs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="rnnkit")
    proto.ir_version = helper.find_min_ir_version_for(list(proto.opset_import))
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, path)
    return proto
