"""Symbolic tensors (Keras's KerasTensor) and the nodes that record layer calls on them.

A layer called on symbolic tensors builds itself for their shapes and returns symbolic
outputs; the call is recorded as a Node (the layer, its arguments with the symbolic tensors in
place, its outputs). `rnnkit.Model(inputs, outputs)` walks these nodes back from the outputs.
"""

from __future__ import annotations

import torch

from ..utils import tree
from . import mask_ops


_ONLY_LAYER_CALLS = ("rnnkit records only layer calls on symbolic tensors; wrap other "
                     "computations in a Layer subclass, or call the model on data.")


class KerasTensor:
    """A tensor with a shape (None where any size goes) and a dtype but no data.

    `_keras_history` is (layer, node index, tensor index): which call of which layer made it.

    >>> x = Input((None, 3))
    >>> x.shape
    (None, None, 3)
    """

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.name = name
        self._keras_history = None
        self._mask_op = None  # the op node of its mask in Keras's graph (mask_ops)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __bool__(self):
        raise TypeError("a symbolic tensor (from Input or a layer called on one) has no value to "
                        "test; build a Model and call it on data.")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(f"a symbolic tensor has no {name!r}: {_ONLY_LAYER_CALLS}")

    def _refuse(self, *args):
        raise TypeError(f"an operation on {self}: {_ONLY_LAYER_CALLS}")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _refuse
    __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = __neg__ = __getitem__ = _refuse


class Node:
    """One call of `layer`: the arguments it got (symbolic tensors kept in place) and the
    symbolic outputs it made. An Input's node has no arguments (`is_input`)."""

    def __init__(self, layer, args=(), kwargs=None, outputs=()):
        self.layer = layer
        self.args, self.kwargs = tuple(args), dict(kwargs or {})
        self.input_tensors = [t for t in tree.flatten([list(self.args), self.kwargs])
                              if isinstance(t, KerasTensor)]
        self.output_structure = outputs
        self.outputs = tree.flatten(outputs)
        self.is_input = not self.input_tensors
        self.keras_parents = list(self.input_tensors)  # mask_ops.record adds Keras's mask ops
        nodes = layer.__dict__.setdefault("_inbound_nodes", [])
        for index, tensor in enumerate(self.outputs):
            tensor._keras_history = (layer, len(nodes), index)
        nodes.append(self)

    def fill(self, values: dict):
        """(args, kwargs) with every symbolic tensor replaced by values[id(tensor)]."""
        def value(leaf):
            return values[id(leaf)] if isinstance(leaf, KerasTensor) else leaf
        return (tree.map_structure(value, list(self.args)),
                tree.map_structure(value, self.kwargs))


def tensor_argument_count(args, kwargs) -> int:
    """How many of a call's arguments hold tensors (Keras's tensor arguments: a tensor, or a
    non-empty list or dict of them). Keras fills in a layer's `mask` only for a call of one."""
    def holds_tensors(value):
        leaves = tree.flatten(value)
        return bool(leaves) and all(isinstance(t, (torch.Tensor, KerasTensor)) for t in leaves)
    return sum(map(holds_tensors, (*args, *kwargs.values())))


def is_symbolic(args, kwargs) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in tree.flatten([list(args), kwargs]))


def shapes_of(structure):
    """The shapes of a structure of tensors (symbolic or not), as tuples; one tuple for one."""
    def shape(t):
        return tuple(t.shape) if hasattr(t, "shape") else t
    return shape(structure) if not tree.is_nested(structure) else tree.map_structure(shape, structure)


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def call(layer, args, kwargs):
    """`layer(*args, **kwargs)` on symbolic tensors: build the layer, work out the outputs'
    shapes, record the call, return symbolic outputs shaped as the layer's outputs."""
    first = args[0] if args else next(iter(kwargs.values()))
    if any(isinstance(leaf, KerasTensor) and leaf._keras_history is None
           for leaf in tree.flatten([list(args), kwargs])):
        raise ValueError(f"{layer.name}: got a symbolic tensor that no layer or Input made.")
    if not layer.built:
        layer.build_on(shapes_of(first))
    structure = output_spec(layer, args, kwargs)
    node = Node(layer, args, kwargs, structure)
    mask_ops.record(node)
    return node.output_structure


def output_spec(layer, args, kwargs):
    """A structure of KerasTensors shaped as the layer's outputs: from its own
    compute_output_shape where it has one, else by running it on zeros (Keras traces `call`
    symbolically; running twice, with every unknown size 2 then 3, tells which sizes follow
    the input's unknown ones)."""
    if layer._has_output_shape_rule():
        shapes = layer.compute_output_shape(shapes_of(first_argument(args, kwargs)))
        dtype = layer._output_dtype()
        return _spec_from_shapes(shapes, dtype, layer.name)
    runs = [_run_on_zeros(layer, args, kwargs, size) for size in (2, 3)]
    flat = [tree.flatten(run) for run in runs]
    specs = []
    for a, b in zip(*flat):
        if not isinstance(a, torch.Tensor):
            raise TypeError(f"{layer.name}: on symbolic inputs a layer must return tensors, got "
                            f"{type(a).__name__}.")
        shape = [d if d == e else None for d, e in zip(a.shape, b.shape)]
        specs.append(KerasTensor(shape, _dtype_name(a.dtype), layer.name))
    return tree.pack_as(runs[0], specs)


def first_argument(args, kwargs):
    return args[0] if args else next(iter(kwargs.values()))


def _spec_from_shapes(shapes, dtype, name):
    """KerasTensors for one shape (a tuple of sizes) or a list of shapes."""
    if isinstance(shapes, list) or (isinstance(shapes, tuple) and shapes
                                    and isinstance(shapes[0], (tuple, list))):
        return [_spec_from_shapes(s, dtype, name) for s in shapes]
    return KerasTensor(shapes, dtype, name)


def _zeros_like_spec(spec: KerasTensor, size: int, device):
    shape = [size if d is None else d for d in spec.shape]
    return torch.zeros(shape, dtype=getattr(torch, spec.dtype), device=device)


def _run_on_zeros(layer, args, kwargs, size):
    device = layer._device or torch.get_default_device()

    def concrete(leaf):
        return _zeros_like_spec(leaf, size, device) if isinstance(leaf, KerasTensor) else leaf

    cargs = tree.map_structure(concrete, list(args))
    ckwargs = tree.map_structure(concrete, kwargs)
    activity = list(getattr(layer, "_activity_losses", []))
    was_training = layer.training
    layer.train(False)
    try:
        with torch.no_grad():
            return layer(*cargs, **ckwargs)
    finally:
        layer.train(was_training)
        if hasattr(layer, "_activity_losses"):
            layer._activity_losses = activity
