"""Where Keras 3's graph holds the ops of its mask computations.

Keras computes a mask with ops on symbolic tensors (Masking: NotEqual then Any; Embedding with
mask_zero: NotEqual; Add: LogicalOr; Concatenate: OnesLike, ExpandDims, ZerosLike, LogicalOr,
Concatenate, Any; Attention: ConvertToTensor), and a layer whose `call` takes `mask` gets that
mask as an argument. These ops are nodes of a Functional graph: they deepen a masked branch, and
Keras orders `model.layers` (and so the weights) by depth. rnnkit computes masks as the graph
runs; the stand-ins here only give the graph walk the nodes Keras would have, so that rnnkit's
`model.layers` come in Keras's order (rnnkit.models.graph).

A layer says what Keras does with its masks in two places: `_keras_mask_argument` (whether
Keras's `call` takes `mask`) and `_keras_mask_ops(inputs, masks)` (the MaskOp, or None, of each
output's mask, given the first argument and its tensors' MaskOps).
"""

from __future__ import annotations

from ..utils import tree


class MaskOp:
    """One op node Keras adds for a mask; its parents are symbolic tensors or other MaskOps."""

    layer = None
    is_input = False

    def __init__(self, *parents):
        self.parents = list(parents)


def ops(count: int, *parents) -> MaskOp:
    """A chain of `count` ops, the first on `parents` (e.g. NotEqual then Any)."""
    op = MaskOp(*parents)
    for _ in range(count - 1):
        op = MaskOp(op)
    return op


def mask_of(tensor):
    return getattr(tensor, "_mask_op", None)


def record(node) -> None:
    """node.keras_parents (its tensors and the MaskOps of the masks Keras passes it, in Keras's
    argument order), and the MaskOp of each of its outputs."""
    from .symbolic import first_argument, tensor_argument_count

    layer = node.layer
    first = first_argument(node.args, node.kwargs)
    masks = tree.map_structure(mask_of, first)
    passed = {}
    if (tensor_argument_count(node.args, node.kwargs) == 1
            and layer._keras_mask_argument == "mask" and node.kwargs.get("mask") is None):
        passed["mask"] = masks
    elif layer._keras_mask_argument == "arguments":
        passed = layer.argument_masks(node.args, node.kwargs, mask_of)
    node.keras_parents = [leaf for leaf in tree.flatten([list(node.args),
                                                         {**node.kwargs, **passed}])
                          if isinstance(leaf, MaskOp)
                          or any(leaf is t for t in node.input_tensors)]
    produced = layer._keras_mask_ops(first, masks)
    if isinstance(produced, (list, tuple)) and len(node.outputs) > 1:
        found = list(produced) + [None] * (len(node.outputs) - len(produced))
    else:
        if isinstance(produced, (list, tuple)):  # one output of a list input: Keras keeps one
            produced = next((m for m in produced if m is not None), None)
        found = [produced] + [None] * (len(node.outputs) - 1)
    for tensor, op in zip(node.outputs, found):
        tensor._mask_op = op
