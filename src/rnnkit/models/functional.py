"""Functional: a Model defined by symbolic inputs and the outputs that layer calls made from
them, `Model(inputs, outputs)`."""

from __future__ import annotations

import numpy as np
import torch

from ..layers.base import Layer
from ..layers import symbolic
from ..layers.symbolic import KerasTensor
from ..utils import tree
from ..utils.naming import unique_name
from . import graph as graph_module
from .model import Model


class Functional(Model):
    """A graph of layer calls from `inputs` to `outputs` (each a symbolic tensor, or a list or
    dict of them). Layers may be shared (called more than once) and may be models.

    >>> encoder_inputs = Input((None, 3))
    >>> outputs, h, c = LSTM(8, return_state=True)(encoder_inputs)
    >>> encoder = Model(encoder_inputs, [h, c])
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name or unique_name("functional"), trainable=True, **kwargs)
        from .training import Trainer
        Trainer.__init__(self)
        self._output_mask = None
        for what, value in (("inputs", inputs), ("outputs", outputs)):
            for x in tree.flatten(value):
                if not isinstance(x, KerasTensor):
                    raise ValueError(f"{self.name}: every one of `{what}` must be a symbolic "
                                     "tensor (from Input or a layer called on one), got "
                                     f"{type(x).__name__}.")
        self._inputs_struct = _as_list(inputs)
        self._outputs_struct = _as_list(outputs)
        self.inputs = tree.flatten(self._inputs_struct)
        self.outputs = tree.flatten(self._outputs_struct)
        graph = graph_module.map_graph(self.name, self.inputs, self.outputs)
        self._nodes_by_depth = graph.nodes_by_depth
        self._graph_nodes = graph.nodes
        self._graph_layers = torch.nn.ModuleList(graph.layers)
        self.output_names = [x._keras_history[0].name for x in self.outputs]
        # what losses and metrics are named after: a dict of outputs names them by its keys
        self._objective_names = (sorted(self._outputs_struct)
                                 if isinstance(self._outputs_struct, dict) else self.output_names)
        self.input_names = [x._keras_history[0].name for x in self.inputs]
        self.built = True
        if not trainable:
            self.trainable = False

    @property
    def layers(self) -> list[Layer]:
        return list(self._graph_layers)

    @property
    def input(self):
        return _unpack(self._inputs_struct)

    @property
    def output(self):
        return _unpack(self._outputs_struct)

    @property
    def input_shape(self):
        return tree.map_structure(lambda x: x.shape, self.input)

    @property
    def output_shape(self):
        return tree.map_structure(lambda x: x.shape, self.output)

    @property
    def _batch_input_shape(self):
        return self.inputs[0].shape if len(self.inputs) == 1 else None

    @_batch_input_shape.setter
    def _batch_input_shape(self, value):
        pass  # the inputs fix it

    def build(self, input_shape) -> None:
        self.built = True

    def build_on(self, input_shape, device=None) -> None:
        self.built = True

    def compute_output_shape(self, input_shape):
        """The outputs' shapes, the batch axis taken from `input_shape` (flat list or one)."""
        first = input_shape[0] if input_shape and isinstance(input_shape[0], (list, tuple)) \
            else input_shape
        batch = first[0] if first else None
        shapes = [(batch,) + tuple(x.shape[1:]) for x in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # -- running --------------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        flat = self._standardize_inputs(inputs)
        masks = [None] * len(flat) if mask is None else tree.flatten(mask)
        values = {id(x): v for x, v in zip(self.inputs, flat)}
        value_masks = {id(x): m for x, m in zip(self.inputs, masks)}
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if not node.is_input:
                    self._run_node(node, values, value_masks, training)
        outputs = [values[id(x)] for x in self.outputs]
        out_masks = [value_masks.get(id(x)) for x in self.outputs]
        self._output_mask = out_masks[0] if len(out_masks) == 1 else out_masks
        return _unpack(tree.pack_as(self._outputs_struct, outputs))

    def _run_node(self, node, values, value_masks, training) -> None:
        args, kwargs = node.fill(values)
        layer = node.layer
        first = node.args[0] if node.args else next(iter(node.kwargs.values()))
        mask = tree.map_structure(
            lambda t: value_masks.get(id(t)) if isinstance(t, KerasTensor) else None, first)
        if not any(m is not None for m in tree.flatten(mask)):
            mask = None
        if (layer._takes_mask and "mask" not in kwargs
                and symbolic.tensor_argument_count(node.args, node.kwargs) == 1):
            kwargs["mask"] = mask  # Keras fills in `mask` only for a call of one tensor argument
        if layer._takes_training and training is not None and "training" not in kwargs:
            kwargs["training"] = training
        kwargs.update(layer.argument_masks(node.args, node.kwargs,
                                           lambda t: value_masks.get(id(t))))
        outputs = layer(*args, **kwargs)
        given = kwargs.get("mask")  # Keras: the mask given, else the first argument's
        out_mask = layer.compute_mask(args[0] if args else first, mask if given is None else given)
        flat = tree.flatten(outputs)
        if isinstance(out_mask, (list, tuple)):
            flat_masks = list(out_mask)
        else:
            flat_masks = [out_mask] + [None] * (len(flat) - 1)
        for x, y, m in zip(node.outputs, flat, flat_masks):
            values[id(x)] = y
            value_masks[id(x)] = m

    def _standardize_inputs(self, inputs) -> list[torch.Tensor]:
        """The inputs in the order of `self.inputs`: from one tensor, a list, or a dict keyed
        by the inputs' names; numpy arrays become tensors; ranks and known sizes checked."""
        if isinstance(inputs, dict):
            names = self._input_keys()
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"{self.name}: expected inputs named {names}, got a dict with "
                                 f"keys {sorted(inputs)} (missing {missing}).")
            flat = [inputs[n] for n in names]
        else:
            flat = tree.flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f"{self.name}: expected {len(self.inputs)} input(s) "
                             f"{[x.name for x in self.inputs]}, got {len(flat)}.")
        return [self._check_input(x, v) for x, v in zip(self.inputs, flat)]

    def _input_keys(self) -> list[str]:
        if isinstance(self._inputs_struct, dict):
            return sorted(self._inputs_struct)
        return [x.name for x in self.inputs]

    def _check_input(self, spec: KerasTensor, value):
        if isinstance(value, KerasTensor):
            return value
        if spec.dtype == "string":  # text stays a numpy array for its TextVectorization
            value = np.asarray(value)
        elif not isinstance(value, torch.Tensor):
            value = torch.as_tensor(np.asarray(value))
        if spec.dtype.startswith("float") and value.is_floating_point():
            value = value.to(getattr(torch, self._float_dtype_name(spec)))
        shape = tuple(value.shape)
        if len(shape) != len(spec.shape) or any(
                d is not None and d != e for d, e in zip(spec.shape, shape)):
            raise ValueError(f"{self.name}: input {spec.name!r} expected shape {spec.shape}, "
                             f"got a tensor of shape {shape}.")
        return value

    def _float_dtype_name(self, spec) -> str:
        for w in self.parameters():
            return str(w.dtype).removeprefix("torch.")
        return spec.dtype

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from .functional_config import functional_config
        return functional_config(self)


def _as_list(structure):
    """Keras keeps a tuple of tensors as a list."""
    return list(structure) if isinstance(structure, tuple) else structure


def _unpack(structure):
    if isinstance(structure, list) and len(structure) == 1:
        return structure[0]
    return structure
