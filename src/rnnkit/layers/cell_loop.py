"""Keras's time loop over any cell's `call`, in torch ops (autograd differentiates it).

The three built-in cells run on rnnkit's backends instead (rnnkit.backends): RNN describes
their calls as a RecurrentCall. This loop is for a user's cell and for StackedRNNCells.
"""

from __future__ import annotations

import torch

from ..utils import tree
from .cell_protocol import call_cell


def _where(keep: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    """new where the row's step is real, else old; keep is (batch,)."""
    return torch.where(keep.view(-1, *([1] * (new.dim() - 1))), new, old)


def run_cell(cell, x, states, *, training=None, mask=None, go_backwards=False,
             return_sequences=False, zero_output_for_mask=False):
    """Run `cell` over x (batch, time, features) from `states` (a list, nested as the cell's
    initial states).

    Returns (output, final states): output (batch, time, output size) when return_sequences,
    else the last step's (batch, output size); the final states nested as `states`. As Keras:
    go_backwards runs, and returns, the sequence reversed; a step masked out (mask (batch,
    time) False) keeps every state and outputs the previous step's output (zeros before the
    first real step, or always with zero_output_for_mask).

    >>> from rnnkit.layers import SimpleRNNCell
    >>> cell = SimpleRNNCell(2)
    >>> y, [h] = run_cell(cell, torch.zeros(3, 4, 5), [torch.zeros(3, 2)])
    >>> y.shape
    torch.Size([3, 2])
    """
    if go_backwards:
        x = x.flip(1)
        mask = None if mask is None else mask.flip(1)
    outputs, output = [], None
    flat = tree.flatten(states)
    for t in range(x.shape[1]):
        out, new = call_cell(cell, x[:, t], tuple(states), training)
        new = tree.flatten(new if tree.is_nested(new) else [new])
        if len(new) != len(flat):
            raise ValueError(f"{getattr(cell, 'name', type(cell).__name__)}: expected the cell "
                             f"to return {len(flat)} state(s), as many as it was given, got "
                             f"{len(new)}.")
        if mask is None:
            flat, output = new, out
        else:
            keep = mask[:, t]
            flat = [_where(keep, n, s) for n, s in zip(new, flat)]
            previous = (torch.zeros_like(out) if zero_output_for_mask or output is None
                        else output)
            output = _where(keep, out, previous)
        states = tree.pack_as(states, flat)
        if return_sequences:
            outputs.append(output)
    return (torch.stack(outputs, dim=1) if return_sequences else output), states
