"""ONNX converters for the layers around recurrent ones (merging, pooling, Conv1D, reshaping,
normalization, noise, activation layers), keyed by class name: each reads the layer's Keras
config and weights and writes the ONNX operators computing exactly its inference output.
Attention layers are in _onnx_attention.py.

Shapes are batch-first and channels-last, as in rnnkit; ONNX's Conv and pooling operators run on
(batch, channels, time) between two Transposes."""

from __future__ import annotations

import math

import numpy as np

from ._onnx_graph import _Graph, _Value, _apply_activation, _float32, _refuse

CONVERTERS: dict = {}


def converts(*names):
    def register(fn):
        for name in names:
            CONVERTERS[name] = fn
        return fn
    return register


def _axis(layer, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise _refuse(layer, f"axis {axis} is out of range for inputs of rank {rank}.")
    return axis % rank


def reduce(g: _Graph, op_type: str, x: str, axes, hint: str, keepdims: bool = True) -> str:
    """A Reduce* node over `axes`: an input from opset 18 on (13 for ReduceSum), an attribute
    before."""
    since = 13 if op_type == "ReduceSum" else 18
    if g.opset >= since:
        return g.op(op_type, [x, g.ints(f"axes_{'_'.join(map(str, axes))}", list(axes))], hint,
                    keepdims=int(keepdims))
    return g.op(op_type, [x], hint, axes=list(axes), keepdims=int(keepdims))


def _channels_first(g, hint, x: str) -> str:
    return g.op("Transpose", [x], hint, perm=[0, 2, 1])


# -- merging --------------------------------------------------------------------------------------
def _broadcast_shape(shapes):
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    return tuple(next((d for d in dims if d != 1), 1) for dims in zip(*padded))


def _same_rank(g, layer, xs):
    """Keras's merges bring a lower-rank input up by new axes after the batch axis
    ((batch, 4) against (batch, T, 4) becomes (batch, 1, 4)), then broadcast."""
    rank = max(len(x.shape) for x in xs)
    found = []
    for x in xs:
        extra = rank - len(x.shape)
        if extra:
            x = _Value(g.op("Unsqueeze", [x.name, g.ints(f"axes_1_to_{extra}",
                                                         list(range(1, extra + 1)))],
                            layer.name), (x.shape[0],) + (1,) * extra + tuple(x.shape[1:]))
        found.append(x)
    return found, _broadcast_shape([x.shape for x in found])


def _chain(g, layer, op_type, xs):
    y = xs[0].name
    for x in xs[1:]:  # Keras adds (multiplies) one input after the other, in order
        y = g.op(op_type, [y, x.name], layer.name)
    return y


@converts("Add", "Multiply", "Average")
def _sum_like(g, layer, xs):
    kind = type(layer).__name__
    xs, shape = _same_rank(g, layer, xs)
    y = _chain(g, layer, "Mul" if kind == "Multiply" else "Add", xs)
    if kind == "Average":
        y = g.op("Div", [y, g.const("count", np.float32(len(xs)))], layer.name)
    return _Value(y, shape)


@converts("Subtract")
def _subtract(g, layer, xs):
    (a, b), shape = _same_rank(g, layer, xs)
    return _Value(g.op("Sub", [a.name, b.name], layer.name), shape)


@converts("Maximum", "Minimum")
def _extreme(g, layer, xs):
    op_type = "Max" if type(layer).__name__ == "Maximum" else "Min"
    xs, shape = _same_rank(g, layer, xs)
    return _Value(g.op(op_type, [x.name for x in xs], layer.name), shape)


@converts("Concatenate")
def _concatenate(g, layer, xs):
    rank = len(xs[0].shape)
    axis = _axis(layer, layer.get_config()["axis"], rank)
    sizes = [x.shape[axis] for x in xs]
    size = sum(sizes) if all(isinstance(d, int) for d in sizes) else None
    shape = xs[0].shape[:axis] + (size,) + xs[0].shape[axis + 1:]
    return _Value(g.op("Concat", [x.name for x in xs], layer.name, axis=axis), shape)


def _l2_normalize(g, layer, x: str, axis: int) -> str:
    """Keras's l2_normalize: x / sqrt(max(Σx², 1e-12)) along axis."""
    squares = reduce(g, "ReduceSumSquare", x, [axis], layer.name)
    norm = g.op("Sqrt", [g.op("Max", [squares, g.const("l2_epsilon", np.float32(1e-12))],
                               layer.name)], layer.name)
    return g.op("Div", [x, norm], layer.name)


@converts("Dot")
def _dot(g, layer, xs):
    """Keras's batch_dot of two rank-2 or two rank-3 inputs, as one Einsum."""
    a, b = xs
    rank = len(a.shape)
    if rank != len(b.shape) or rank not in (2, 3):
        raise _refuse(layer, f"expected two inputs of rank 2 or two of rank 3, got shapes "
                      f"{a.shape} and {b.shape}.")
    config = layer.get_config()
    axes = config["axes"] if isinstance(config["axes"], (list, tuple)) else [config["axes"]] * 2
    axes = [_axis(layer, int(ax), rank) for ax in axes]
    names = [a.name, b.name]
    if config.get("normalize"):
        names = [_l2_normalize(g, layer, n, ax) for n, ax in zip(names, axes)]
    if rank == 2:
        y = g.op("Einsum", names, layer.name, equation="bi,bi->b")
        return _Value(g.op("Unsqueeze", [y, g.ints("axis_1", [1])], layer.name), (a.shape[0], 1))
    left, right = ["b", "i", "k"], ["b", "j", "l"]
    left[axes[0]], right[axes[1]] = "s", "s"
    free_a, free_b = [c for c in left[1:] if c != "s"], [c for c in right[1:] if c != "s"]
    equation = f"{''.join(left)},{''.join(right)}->b{free_a[0]}{free_b[0]}"
    shape = (a.shape[0], a.shape[3 - axes[0]], b.shape[3 - axes[1]])
    return _Value(g.op("Einsum", names, layer.name, equation=equation), shape)


# -- pooling --------------------------------------------------------------------------------------
def _time_axis(layer) -> int:
    return 2 if layer.get_config().get("data_format") == "channels_first" else 1


@converts("GlobalMaxPooling1D", "GlobalAveragePooling1D")
def _global_pooling(g, layer, x):
    op_type = "ReduceMax" if "Max" in type(layer).__name__ else "ReduceMean"
    axis, keepdims = _time_axis(layer), bool(layer.get_config().get("keepdims"))
    shape = tuple(1 if i == axis else d for i, d in enumerate(x.shape)) if keepdims else \
        tuple(d for i, d in enumerate(x.shape) if i != axis)
    return _Value(reduce(g, op_type, x.name, [axis], layer.name, keepdims), shape)


def _pooled_length(length, size, stride, same):
    if not isinstance(length, int):
        return None
    return -(-length // stride) if same else (length - size) // stride + 1


@converts("MaxPooling1D", "AveragePooling1D")
def _pooling(g, layer, x):
    config = layer.get_config()
    size, stride = _single(config["pool_size"]), _single(config["strides"] or config["pool_size"])
    same = config["padding"] == "same"
    attrs = {"kernel_shape": [size], "strides": [stride]}
    if same:
        attrs["auto_pad"] = "SAME_UPPER"  # TensorFlow's "same": the extra padding at the end
    if "Average" in type(layer).__name__:
        op_type, attrs["count_include_pad"] = "AveragePool", 0
    else:
        op_type = "MaxPool"
    first = config.get("data_format") == "channels_first"
    y = g.op(op_type, [x.name if first else _channels_first(g, layer.name, x.name)], layer.name,
             **attrs)
    if not first:
        y = _channels_first(g, layer.name, y)
    axis = 2 if first else 1
    shape = list(x.shape)
    shape[axis] = _pooled_length(x.shape[axis], size, stride, same)
    return _Value(y, tuple(shape))


def _single(value) -> int:
    return int(value[0] if isinstance(value, (list, tuple)) else value)


# -- convolution ----------------------------------------------------------------------------------
@converts("Conv1D")
def _conv1d(g, layer, x):
    config = layer.get_config()
    first = config.get("data_format") == "channels_first"
    size, stride = _single(config["kernel_size"]), _single(config["strides"])
    dilation = _single(config["dilation_rate"])
    kernel = _float32(layer.kernel).transpose(2, 1, 0)  # (k, in/groups, out) -> (out, in/groups, k)
    attrs = {"kernel_shape": [size], "strides": [stride], "dilations": [dilation],
             "group": int(config.get("groups", 1))}
    padding = config["padding"]
    if padding == "same":
        attrs["auto_pad"] = "SAME_UPPER"
    elif padding == "causal":
        attrs["pads"] = [dilation * (size - 1), 0]
    inputs = [x.name if first else _channels_first(g, layer.name, x.name),
              g.const(f"{layer.name}/kernel", kernel)]
    if config["use_bias"]:
        inputs.append(g.const(f"{layer.name}/bias", _float32(layer.bias)))
    y = g.op("Conv", inputs, layer.name, **attrs)
    if not first:
        y = _channels_first(g, layer.name, y)
    axis = 2 if first else 1
    length = x.shape[axis]
    if isinstance(length, int):
        span = dilation * (size - 1) + 1
        length = (-(-length // stride) if padding != "valid" else (length - span) // stride + 1)
    else:
        length = None
    shape = list(x.shape)
    shape[axis], shape[3 - axis] = length, config["filters"]
    return _Value(_apply_activation(g, layer, layer.activation, y), tuple(shape))


# -- reshaping ------------------------------------------------------------------------------------
@converts("Reshape")
def _reshape(g, layer, x):
    target = [int(d) for d in layer.get_config()["target_shape"]]
    rest = x.shape[1:]
    if -1 in target and all(isinstance(d, int) for d in rest):
        known = math.prod(d for d in target if d != -1)
        target_shape = [math.prod(rest) // known if d == -1 else d for d in target]
    else:
        target_shape = [None if d == -1 else d for d in target]
    y = g.op("Reshape", [x.name, g.ints(f"{layer.name}/shape", [0, *target])], layer.name)
    return _Value(y, (x.shape[0], *target_shape))


@converts("Permute")
def _permute(g, layer, x):
    dims = [int(d) for d in layer.get_config()["dims"]]
    return _Value(g.op("Transpose", [x.name], layer.name, perm=[0, *dims]),
                  (x.shape[0], *(x.shape[d] for d in dims)))


@converts("SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout")
def _identity(g, layer, x):
    return x  # noise and dropout compute the identity at inference


# -- normalization --------------------------------------------------------------------------------
def _per_axis(array: np.ndarray, axes, rank) -> np.ndarray:
    """A weight over `axes` shaped to broadcast against an input of `rank`."""
    shape = [1] * rank
    for axis, size in zip(axes, array.shape if array.ndim == len(axes) else [array.size]):
        shape[axis] = size
    return array.reshape(shape)


def _axes(layer, value, rank):
    values = value if isinstance(value, (list, tuple)) else [value]
    return sorted(_axis(layer, int(a), rank) for a in values)


@converts("BatchNormalization")
def _batch_normalization(g, layer, x):
    """Inference: x · γ/√(σ²+ε) + (β − μ·γ/√(σ²+ε)), the moving statistics folded (in float64)
    into one scale and one offset per channel."""
    config = layer.get_config()
    axes = _axes(layer, config["axis"], len(x.shape))
    mean = layer.moving_mean.detach().double().cpu().numpy()
    variance = layer.moving_variance.detach().double().cpu().numpy()
    inv = 1.0 / np.sqrt(variance + config["epsilon"])
    if config["scale"]:
        inv = inv * layer.gamma.detach().double().cpu().numpy()
    offset = -mean * inv
    if config["center"]:
        offset = offset + layer.beta.detach().double().cpu().numpy()
    rank = len(x.shape)
    y = g.op("Mul", [x.name, g.const(f"{layer.name}/scale",
                                     _per_axis(inv.astype(np.float32), axes, rank))], layer.name)
    y = g.op("Add", [y, g.const(f"{layer.name}/offset",
                                _per_axis(offset.astype(np.float32), axes, rank))], layer.name)
    return _Value(y, x.shape)


@converts("LayerNormalization")
def _layer_normalization(g, layer, x):
    """(x − mean)/√(var+ε)·γ + β over `axis`, as Keras; rms_scaling (Keras's deprecated form):
    x/√(var+ε)·γ, the uncentred x over the variance."""
    config = layer.get_config()
    rank = len(x.shape)
    axes = _axes(layer, config["axis"], rank)
    hint, rms = layer.name, bool(config.get("rms_scaling"))
    eps = g.const(f"{hint}/epsilon", np.float32(config["epsilon"]))
    centered = g.op("Sub", [x.name, reduce(g, "ReduceMean", x.name, axes, hint)], hint)
    variance = reduce(g, "ReduceMean", g.op("Mul", [centered, centered], hint), axes, hint)
    y = g.op("Div", [x.name if rms else centered,
                     g.op("Sqrt", [g.op("Add", [variance, eps], hint)], hint)], hint)
    if config["scale"] or rms:
        y = g.op("Mul", [y, g.const(f"{hint}/gamma", _per_axis(_float32(layer.gamma), axes,
                                                                rank))], hint)
    if config["center"] and not rms:
        y = g.op("Add", [y, g.const(f"{hint}/beta", _per_axis(_float32(layer.beta), axes,
                                                               rank))], hint)
    return _Value(y, x.shape)


# -- activation layers ----------------------------------------------------------------------------
@converts("ReLU")
def _relu(g, layer, x):
    """Keras's relu(x, negative_slope, max_value, threshold), term for term."""
    c = layer.get_config()
    slope, top, threshold = c["negative_slope"], c["max_value"], c["threshold"]
    hint = layer.name
    if slope and top is None and threshold == 0:
        return _Value(g.op("LeakyRelu", [x.name], hint, alpha=float(slope)), x.shape)
    if threshold:
        above = g.op("Greater", [x.name, g.const(f"{hint}/threshold", np.float32(threshold))],
                     hint)
        y = g.op("Where", [above, x.name, g.const("zero", np.float32(0))], hint)
    else:
        y = g.op("Relu", [x.name], hint)
    if top is not None:
        y = g.op("Clip", [y, g.const("zero", np.float32(0)),
                          g.const(f"{hint}/max_value", np.float32(top))], hint)
    if slope:
        shifted = g.op("Sub", [g.const(f"{hint}/threshold", np.float32(threshold)), x.name], hint)
        negative = g.op("Relu", [shifted], hint)
        y = g.op("Sub", [y, g.op("Mul", [negative, g.const(f"{hint}/slope", np.float32(slope))],
                                 hint)], hint)
    return _Value(y, x.shape)


@converts("LeakyReLU")
def _leaky_relu(g, layer, x):
    return _Value(g.op("LeakyRelu", [x.name], layer.name,
                       alpha=float(layer.get_config()["negative_slope"])), x.shape)


@converts("ELU")
def _elu(g, layer, x):
    return _Value(g.op("Elu", [x.name], layer.name, alpha=float(layer.get_config()["alpha"])),
                  x.shape)


@converts("Softmax")
def _softmax(g, layer, x, mask=None):
    """Keras's Softmax: over one axis, or exp(x − logsumexp(x)) over several; a mask (True, or
    > 0.5) keeps entries, the others enter as −1e9 and leave as 0."""
    axis = layer.get_config()["axis"]
    axes = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else [int(axis)]
    hint, name = layer.name, x.name
    keep = None
    if mask is not None:
        keep = mask.name
        if mask.name not in g.boolean:
            keep = g.op("Greater", [mask.name, g.const("one_half", np.float32(0.5))], hint)
        name = g.op("Where", [keep, name, g.const("minus_1e9", np.float32(-1e9))], hint)
    if len(axes) == 1:
        y = g.op("Softmax", [name], hint, axis=axes[0])
    else:
        axes = _axes(layer, axes, len(x.shape))
        y = g.op("Exp", [g.op("Sub", [name, reduce(g, "ReduceLogSumExp", name, axes, hint)],
                              hint)], hint)
    if keep is not None:
        y = g.op("Where", [keep, y, g.const("zero", np.float32(0))], hint)
    return _Value(y, x.shape)
