"""What RNN and StackedRNNCells ask of a cell, as Keras asks it: a `call(inputs, states[,
training])` returning (output, new states) and a `state_size`; optionally `output_size` and
`get_initial_state(batch_size)`."""

from __future__ import annotations

import torch

from ..utils.naming import class_keys
from .base import Layer


def check_cell(cell, where: str) -> None:
    """Keras's test of an RNN cell: a `call` method and a `state_size` attribute."""
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{where}: expected a cell with a `call(inputs, states)` method, got "
                         f"{cell!r}.")
    if getattr(cell, "state_size", None) is None:
        raise ValueError(f"{where}: expected a cell with a `state_size` attribute (an int, or a "
                         f"list of ints, one per state), got {cell!r}.")


def cell_output_size(cell) -> int:
    """The size of a cell's output: its `output_size`, else its (first) state's size."""
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    size = cell.state_size
    return size[0] if isinstance(size, (list, tuple)) else size


def call_cell(cell, inputs, states, training):
    """cell(inputs, states) as Keras's RNN calls it: `training` goes only to a Layer (which
    passes it on only where its call takes it); an object that is not callable is called
    through its `call`."""
    if isinstance(cell, Layer):
        return cell(inputs, states, training=training)
    return (cell if callable(cell) else cell.call)(inputs, states)


def cell_weights(cell) -> list[tuple[str, torch.Tensor]]:
    """(name, weight) of a cell: a Layer's weights by name, a torch module's parameters."""
    if isinstance(cell, Layer):
        return list(zip(cell.weight_names, cell.weights))
    if isinstance(cell, torch.nn.Module):
        return [(name.replace(".", "/"), p) for name, p in cell.named_parameters()]
    return []


def zeros_for(layer):
    """A function making zero states in the layer's weights' dtype and device (its own dtype and
    device before it has weights)."""
    weights = layer.weights
    if weights:
        dtype, device = weights[0].dtype, weights[0].device
    else:
        dtype = getattr(torch, layer.dtype_name)
        device = layer._device or torch.get_default_device()
    return lambda *shape: torch.zeros(*shape, dtype=dtype, device=device)


def cell_keys(cells) -> list[str]:
    """One key per cell, as Keras's files key a list of objects ("gru_cell", "lstm_cell",
    "gru_cell_1")."""
    return class_keys(cells)
