"""The graph of a Functional model: which layer calls (nodes) lead from its inputs to its
outputs, at which depth, and its layers in Keras's order (inputs first, then by depth, ties in
the order a walk back from the outputs first meets them)."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from ..layers.mask_ops import MaskOp
from ..layers.symbolic import KerasTensor


class Graph(NamedTuple):
    nodes: list            # every node of the model, from the inputs to the outputs
    nodes_by_depth: dict   # depth -> nodes; depth 0 makes outputs, inputs are deepest
    layers: list           # the layers, earliest first


def _node_of(tensor):
    layer, node_index, _ = tensor._keras_history
    return layer._inbound_nodes[node_index]


def _parents(node) -> list:
    """What a node (or one of Keras's mask ops, layers.mask_ops) takes: symbolic tensors and
    mask ops, in Keras's argument order."""
    if isinstance(node, MaskOp):
        return node.parents
    return [] if node.is_input else node.keras_parents


def _parent_nodes(node) -> list:
    return [p if isinstance(p, MaskOp) else _node_of(p) for p in _parents(node)]


def _topological(inputs, outputs):
    """(nodes from inputs to outputs, Keras's mask ops among them; layer -> first-visit index),
    by a walk back from each output that stops at the model's inputs."""
    inputs = list(inputs)
    finished, in_progress, ordered, first_seen = set(), set(), [], {}

    def visit(item):
        if isinstance(item, MaskOp):
            return visit_node(item, item)
        node = _node_of(item)
        if not node.is_input and any(item is x for x in inputs):
            finished.add(id(node))
            return None
        return visit_node(node, item)

    def visit_node(node, item):
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"the tensor {item} from layer {node.layer.name!r} is part of a "
                             "cycle.")
        if node.layer is not None:
            first_seen.setdefault(node.layer, len(first_seen))
        in_progress.add(id(node))
        for parent in _parents(node):
            visit(parent)
        finished.add(id(node))
        in_progress.discard(id(node))
        ordered.append(node)

    for output in outputs:
        visit(output)
    return ordered, first_seen


def map_graph(name: str, inputs: list[KerasTensor], outputs: list[KerasTensor]) -> Graph:
    ordered, first_seen = _topological(inputs, outputs)
    members = {id(n) for n in ordered}
    node_depth, layer_depth = {}, {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(node.layer, 0))
        if node.layer is not None:
            layer_depth[node.layer] = depth
        node_depth[id(node)] = depth
        for parent in _parent_nodes(node):
            if id(parent) in members:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for x in inputs:  # an Input no output depends on is still the model's
        node = _node_of(x)
        if node.is_input and node.layer not in layer_depth:
            layer_depth[node.layer], first_seen[node.layer] = 0, -1
            node_depth[id(node)] = 0
            ordered.append(node)
    ordered = [node for node in ordered if node.layer is not None]  # the mask ops only count
    nodes_by_depth = defaultdict(list)
    for node in ordered:
        nodes_by_depth[node_depth[id(node)]].append(node)
    layers = sorted(layer_depth, key=lambda layer: (-layer_depth[layer], first_seen[layer]))
    _check_computable(name, inputs, outputs, nodes_by_depth)
    names = [layer.name for layer in layers]
    for n in names:
        if names.count(n) > 1:
            raise ValueError(f"{name}: the name {n!r} is used {names.count(n)} times in the "
                             "model; every layer of a model needs its own name.")
    return Graph(ordered, dict(nodes_by_depth), layers)


def _check_computable(name, inputs, outputs, nodes_by_depth) -> None:
    known = {id(x) for x in inputs}
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            for x in node.input_tensors:
                if id(x) not in known:
                    raise ValueError(
                        f"{name}: graph disconnected: the layer {node.layer.name!r} needs "
                        f"{x.name!r} {x.shape} (made by {x._keras_history[0].name!r}), which "
                        "the model's inputs do not lead to; pass that layer's Input in "
                        "Model(inputs=...).")
            if not node.is_input:  # an Input that is not among the model's inputs gives nothing
                known.update(id(t) for t in node.outputs)
    for x in outputs:
        if id(x) not in known:
            raise ValueError(f"{name}: the output {x.name!r} {x.shape} is not connected to the "
                             "model's inputs.")
