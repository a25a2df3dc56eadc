"""StackedRNNCells: several cells run as one, each step feeding the next cell's input."""

from __future__ import annotations

import torch

from ..utils import tree
from .base import Layer
from .cell_protocol import (call_cell, cell_keys, cell_output_size, cell_weights, check_cell,
                            zeros_for)


class StackedRNNCells(Layer):
    """A list of cells that behaves as one cell: at each step cell k's output is cell k+1's
    input, and the states are one entry per cell (Keras 3's StackedRNNCells).

    Args:
        cells: the cells, first to last: rnnkit cells (SimpleRNNCell, LSTMCell, GRUCell) or
            any object with `call(inputs, states[, training])` and `state_size`.

    `state_size` is [each cell's state_size]; `output_size` is the last cell's. Weights: each
    cell's, in order, named "<cell key>/<weight name>" ("lstm_cell/kernel", ...). `RNN(cells)`
    with a list makes one of these.

    >>> from rnnkit.layers import GRUCell, LSTMCell, RNN
    >>> RNN(StackedRNNCells([GRUCell(3), LSTMCell(2)]))(torch.zeros(4, 5, 6)).shape
    torch.Size([4, 2])
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError(f"{self.name}: expected at least one cell, got none.")
        for cell in cells:
            check_cell(cell, self.name)
        if all(isinstance(c, torch.nn.Module) for c in cells):
            self.cells = torch.nn.ModuleList(cells)
        else:
            self.cells = cells
            for k, cell in enumerate(cells):
                if isinstance(cell, torch.nn.Module):
                    self.add_module(f"cell_{k}", cell)

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        return cell_output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None) -> list:
        """Each cell's initial states (its own get_initial_state, else zeros)."""
        zeros = zeros_for(self)
        states = []
        for cell in self.cells:
            if callable(getattr(cell, "get_initial_state", None)):
                states.append(cell.get_initial_state(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                states.append(zeros(batch_size, cell.state_size))
            else:
                states.append([zeros(batch_size, d) for d in cell.state_size])
        return states

    def build(self, input_shape) -> None:
        batch = tuple(input_shape)[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build_on(tuple(input_shape), self._device)
            input_shape = (batch, cell_output_size(cell))
        self.built = True

    def call(self, inputs, states, training=None):
        """One step of every cell: (the last cell's output, [each cell's new states])."""
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            was_list = tree.is_nested(cell_states)
            cell_states = list(cell_states) if was_list else [cell_states]
            inputs, cell_states = call_cell(cell, inputs, cell_states, training)
            if not tree.is_nested(cell_states):
                cell_states = [cell_states]
            new_states.append(cell_states[0] if len(cell_states) == 1 and not was_list
                              else cell_states)
        # Keras returns a stack of one cell's states unwrapped; RNN packs them as it gave them
        return inputs, (new_states[0] if len(new_states) == 1 else new_states)

    # -- weights ----------------------------------------------------------------------------------
    def _named_weights(self) -> list[tuple[str, torch.Tensor]]:
        return [(f"{key}/{name}", w) for key, cell in zip(cell_keys(self.cells), self.cells)
                for name, w in cell_weights(cell)]

    @property
    def weights(self) -> list:
        return [w for _, w in self._named_weights()]

    @property
    def weight_names(self) -> list[str]:
        return [name for name, _ in self._named_weights()]

    def _sublayers(self) -> list[Layer]:
        return [c for c in self.cells if isinstance(c, Layer)]

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from . import serialize
        return {**super().get_config(), "cells": [serialize(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config):
        from . import deserialize
        config = dict(config)
        return cls([deserialize(c) for c in config.pop("cells")], **config)
