"""A Functional model's config, in Keras 3's layout (so Keras's own files read the same way):
each layer's config with its `inbound_nodes` (the arguments of each of its calls inside the
model, symbolic tensors as {"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer name, node index, tensor index]}}), then `input_layers` and
`output_layers` as [layer name, node index, tensor index].

Node indices count only a layer's calls inside the model; a nested Functional model's start at
1, as in Keras (its own construction is its node 0 there).
"""

from __future__ import annotations

import torch

from ..layers.symbolic import KerasTensor
from ..utils import tree

_TENSOR = "__keras_tensor__"


def _node_offset(layer) -> int:
    from .functional import Functional
    return 1 if isinstance(layer, Functional) else 0


def functional_config(model) -> dict:
    own = {id(n) for n in model._graph_nodes}
    local_index = {}  # id(node) -> its index among the layer's nodes inside this model
    for layer in model.layers:
        k = _node_offset(layer)
        for node in getattr(layer, "_inbound_nodes", []):
            if id(node) in own:
                local_index[id(node)] = k
                k += 1

    def history(x: KerasTensor):
        layer, node_index, tensor_index = x._keras_history
        return [layer.name, local_index[id(layer._inbound_nodes[node_index])], tensor_index]

    def serialize_leaf(leaf):
        if isinstance(leaf, KerasTensor):
            return {"class_name": _TENSOR, "config": {"shape": list(leaf.shape),
                                                      "dtype": leaf.dtype,
                                                      "keras_history": history(leaf)}}
        return leaf

    layers = []
    for layer in model.layers:
        nodes = [{"args": tree.map_structure(serialize_leaf, list(node.args)),
                  "kwargs": tree.map_structure(serialize_leaf, node.kwargs)}
                 for node in getattr(layer, "_inbound_nodes", [])
                 if id(node) in own and not node.is_input]
        layers.append({"module": type(layer).__module__, "class_name": type(layer).__name__,
                       "config": layer.get_config(), "name": layer.name,
                       "inbound_nodes": nodes})
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": tree.map_structure(history, model._inputs_struct),
            "output_layers": tree.map_structure(history, model._outputs_struct)}


def deserialize_layer(record: dict, custom_objects=None, keras: bool = False):
    """A layer (or model) from {"class_name", "config"}: rnnkit's classes, then
    `custom_objects` ({class name: class}), as Keras's deserialize_keras_object. A record
    Keras wrote (`keras`, or a Keras module named in it) is translated first."""
    from ..layers import deserialize
    from .model import Model
    from .functional import Functional
    from .sequential import Sequential

    from ..saving import get_custom_objects

    name = record.get("class_name")
    custom = {**get_custom_objects(), **(custom_objects or {})}
    classes = {"Functional": Functional, "Sequential": Sequential, "Model": Functional}
    cls = custom.get(name) or classes.get(name)
    if cls is None and (keras or _from_keras(record)):
        from ..interop.keras import _layer as keras_layer
        return deserialize(keras_layer(record))
    if cls is None:
        return deserialize(record)
    config = dict(record.get("config") or {})
    if issubclass(cls, Model) and hasattr(cls, "from_config"):
        try:
            return cls.from_config(config, custom_objects=custom_objects)
        except TypeError:
            return cls.from_config(config)
    return cls.from_config(config)


def _from_keras(record: dict) -> bool:
    """A record written by Keras itself (its configs name their module)."""
    return str(record.get("module") or "").split(".")[0] in ("keras", "tf_keras")


_MASK_OP_CLASSES = ("NotEqual", "Any", "LogicalOr", "ExpandDims", "ZerosLike", "OnesLike",
                    "Concatenate", "ConvertToTensor")


def _is_keras_op(record: dict) -> bool:
    """Keras 3 records the ops that compute masks (a Masking layer's NotEqual, Any; a merging
    layer's LogicalOr, ExpandDims, ZerosLike, OnesLike, Concatenate; Attention's
    ConvertToTensor) as nodes of the graph;
    rnnkit computes masks as the graph runs, so it leaves them out. (A legacy .h5 config names
    no module: there the ops are known by class and by a config without "trainable", which
    every layer's has, the Concatenate op sharing its class name with the layer.)"""
    if (record.get("module") is None and record.get("class_name") in _MASK_OP_CLASSES
            and "trainable" not in (record.get("config") or {})):
        return True
    return str(record.get("module") or "").startswith("keras.src.ops")


def _is_tensor_record(value) -> bool:
    return isinstance(value, dict) and value.get("class_name") == _TENSOR


def _history(value) -> list:
    if _is_tensor_record(value):
        return value["config"]["keras_history"]
    return value  # a legacy [name, node index, tensor index] triple


def functional_from_config(cls, config: dict, custom_objects=None, keras: bool = False):
    """Layers first, then their calls in dependency order, then Model(inputs, outputs)."""
    created, pending = {}, {}
    ops = {record.get("name") for record in config["layers"] if _is_keras_op(record)}
    for record in config["layers"]:
        if record.get("name") in ops:
            continue
        layer = deserialize_layer(record, custom_objects, keras)
        created[record.get("name", layer.name)] = layer
        pending[layer] = list(record.get("inbound_nodes") or [])

    def tensor(history):
        name, node_index, tensor_index = history
        if name not in created:
            raise ValueError(f"{config.get('name')}: the config refers to a layer {name!r} it "
                             "does not define.")
        layer = created[name]
        nodes = layer._inbound_nodes if hasattr(layer, "_inbound_nodes") else []
        index = node_index - _node_offset(layer)
        if index >= len(nodes):
            return None
        return nodes[index].outputs[tensor_index]

    missing = object()

    def resolve(structure):
        """The structure with each tensor record replaced by its tensor (`missing` where
        that call has not been made yet)."""
        if _is_tensor_record(structure):
            if _history(structure)[0] in ops:
                raise ValueError(f"{config.get('name')}: a layer call takes the output of the "
                                 f"Keras op {_history(structure)[0]!r}; rnnkit builds graphs "
                                 "of layers only.")
            found = tensor(_history(structure))
            return missing if found is None else found
        if isinstance(structure, dict):
            items = {k: resolve(v) for k, v in structure.items()}
            return missing if any(v is missing for v in items.values()) else items
        if isinstance(structure, (list, tuple)):
            items = [resolve(v) for v in structure]
            return missing if any(v is missing for v in items) else type(structure)(items)
        return structure

    while any(pending.values()):
        progress = False
        for layer, nodes in pending.items():
            while nodes:
                args = resolve(nodes[0].get("args", []))
                kwargs = resolve(_without_op_masks(nodes[0].get("kwargs", {}), ops))
                if args is missing or kwargs is missing:
                    break
                layer(*args, **kwargs)
                nodes.pop(0)
                progress = True
        if not progress:
            raise ValueError(f"{config.get('name')}: the config's layer calls cannot be "
                             "ordered; a call needs a tensor that no other call makes.")

    inputs = _map_triples(config["input_layers"], tensor)
    outputs = _map_triples(config["output_layers"], tensor)
    model = cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))
    # The config lists the layers in the order the model that wrote it had them. rnnkit's graph
    # counts the ops Keras adds for masks (layers.mask_ops) where it knows them; keeping the
    # file's order keeps model.layers, the weights' order and the keys of Keras's weight files
    # as the file has them whatever ops a mask computation of Keras's added.
    order = {layer: k for k, layer in enumerate(created.values())}
    model._graph_layers = torch.nn.ModuleList(sorted(model.layers, key=order.__getitem__))
    return model


def _without_op_masks(kwargs: dict, ops: set) -> dict:
    """A call's keyword arguments less a `mask` that one of Keras's mask ops made (the mask
    reaches the layer as the graph runs)."""
    mask = kwargs.get("mask")
    if _is_tensor_record(mask) and _history(mask)[0] in ops:
        return {k: v for k, v in kwargs.items() if k != "mask"}
    return kwargs


def _map_triples(structure, fn):
    """[name, node, tensor] triples (nested in lists or dicts) mapped through fn."""
    if isinstance(structure, dict):
        return {k: _map_triples(v, fn) for k, v in structure.items()}
    if (isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str)
            and all(isinstance(v, int) for v in structure[1:])):
        return fn(structure)
    return [_map_triples(v, fn) for v in structure]
