"""The pieces of an ONNX graph rnnkit writes: values with shapes, nodes with unique names, shared
initializers, refusals that name the layer, and Keras activations as ONNX operators."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from onnx import helper, numpy_helper

from .. import activations

# Keras activation → ONNX operator, its attributes, the first opset that has it.
_ELEMENTWISE = {
    "relu": ("Relu", {}, 1), "sigmoid": ("Sigmoid", {}, 1), "tanh": ("Tanh", {}, 1),
    "softmax": ("Softmax", {"axis": -1}, 13), "log_softmax": ("LogSoftmax", {"axis": -1}, 13),
    "elu": ("Elu", {"alpha": 1.0}, 1), "selu": ("Selu", {}, 1), "softplus": ("Softplus", {}, 1),
    "softsign": ("Softsign", {}, 1), "exponential": ("Exp", {}, 1),
    # Keras 3 hard_sigmoid: relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1)
    "hard_sigmoid": ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, 6),
    "hard_silu": ("HardSwish", {}, 14), "leaky_relu": ("LeakyRelu", {"alpha": 0.2}, 6),
    "mish": ("Mish", {}, 18), "gelu": ("Gelu", {"approximate": "none"}, 20),
}


@dataclass(frozen=True)
class _Value:
    """A tensor of the graph: its name and its shape (ints, symbolic names, or None)."""

    name: str
    shape: tuple


class _Graph:
    """The nodes and initializers written so far, with unique names."""

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes, self.initializers = [], []
        self._used: set[str] = {"input", "output"}
        self.graph_inputs: set[str] = set()  # the names of the graph's inputs
        self.boolean: set[str] = set()  # values of type bool
        self._consts: dict = {}

    def fresh(self, hint: str) -> str:
        name, k = hint, 0
        while name in self._used:
            k += 1
            name = f"{hint}_{k}"
        self._used.add(name)
        return name

    def const(self, hint: str, array) -> str:
        """An initializer; one per hint and value, however often it is asked for."""
        array = np.asarray(array)
        key = (hint, array.dtype.str, array.shape, array.tobytes())
        if key not in self._consts:
            self._consts[key] = name = self.fresh(hint)
            self.initializers.append(numpy_helper.from_array(array, name))
        return self._consts[key]

    def ints(self, hint: str, values) -> str:
        return self.const(hint, np.asarray(values, dtype=np.int64))

    def op(self, op_type: str, inputs, hint: str, n_out: int = 1, **attrs):
        """Add one node; its output name (a list of them when n_out > 1)."""
        outs = [self.fresh(f"{hint}/{op_type}" + (f":{i}" if n_out > 1 else ""))
                for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs,
                                           name=self.fresh(f"{hint}/{op_type}_node"), **attrs))
        return outs[0] if n_out == 1 else outs


def _float32(p: torch.Tensor) -> np.ndarray:
    return p.detach().cpu().numpy().astype(np.float32)


def _activation_name(fn) -> str | None:
    """The Keras name of an activation, None for a callable rnnkit does not know by name."""
    name = activations.serialize(fn)
    try:
        return name if activations.get(name) is fn else None
    except ValueError:
        return None


def _refuse(layer, why: str):
    return NotImplementedError(f"to_onnx: layer {layer.name!r} ({type(layer).__name__}): {why}")


def _refuse_activation(layer, fn, known, where: str):
    name = activations.serialize(fn)
    if _activation_name(fn) is None:
        return _refuse(layer, f"activation {name!r} is a Python function, not one of "
                       "rnnkit.activations; an ONNX graph cannot run it.")
    return _refuse(layer, f"activation {name!r} has no equivalent {where}; expected one of "
                   f"{sorted(known)}.")


# -- elementwise layers ---------------------------------------------------------------------------
def _apply_activation(g: _Graph, layer, fn, x: str) -> str:
    name = _activation_name(fn)
    if name == "linear":
        return x
    if name == "relu6":
        return g.op("Clip", [x, g.const("zero", np.float32(0)), g.const("six", np.float32(6))],
                    layer.name)
    if name == "silu":
        return g.op("Mul", [x, g.op("Sigmoid", [x], layer.name)], layer.name)
    if name not in _ELEMENTWISE:
        raise _refuse_activation(layer, fn, [*_ELEMENTWISE, "linear", "relu6", "silu"], "in ONNX")
    op_type, attrs, since = _ELEMENTWISE[name]
    if g.opset < since:
        raise _refuse(layer, f"activation {name!r} needs ONNX opset {since} or later ({op_type}), "
                      f"got opset={g.opset}.")
    return g.op(op_type, [x], layer.name, **attrs)


