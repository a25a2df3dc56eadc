"""Keras's variational dropout for recurrent cells: masks drawn once, kept for every step."""

from __future__ import annotations

import torch


class DropoutRNNCell:
    """Keras 3's `DropoutRNNCell` mixin: the cell draws its dropout masks at the first step that
    needs them and keeps them for every later step, until the RNN layer resets them (before
    and after each sequence), so one mask serves a whole sequence.

    A cell that mixes this in has `dropout` and `recurrent_dropout` rates, the random draws of
    rnnkit's Layer (`_uniform`, from its `seed`) and optionally `dropout_mask_count`: None for
    one mask, or the number of masks (one per gate, Keras's implementation 1).

    A mask keeps an entry with probability 1 − rate and scales it by 1 / (1 − rate); a rate
    of 1 gives zeros.

    >>> from rnnkit.layers import GRUCell
    >>> cell = GRUCell(2, dropout=0.5, seed=1)
    >>> cell.get_dropout_mask(torch.ones(3, 4)) is cell.get_dropout_mask(torch.ones(3, 4))
    True
    """

    dropout_mask_count = None

    def _create_dropout_mask(self, step_input: torch.Tensor, rate: float):
        """One mask shaped as `step_input`, or a list of `dropout_mask_count` of them."""
        scale = 1.0 / (1.0 - rate) if rate < 1.0 else 0.0

        def draw():
            keep = self._uniform(tuple(step_input.shape), step_input) >= rate
            return keep.to(step_input.dtype) * scale

        count = self.dropout_mask_count
        return draw() if count is None else [draw() for _ in range(count)]

    def get_dropout_mask(self, step_input: torch.Tensor):
        """The input mask(s) of this sequence (drawn now if none are kept); None at rate 0."""
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            self._dropout_mask = self._create_dropout_mask(step_input, self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input: torch.Tensor):
        """The recurrent mask(s) of this sequence, shaped as the state `step_input`."""
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._create_dropout_mask(step_input,
                                                                     self.recurrent_dropout)
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self) -> None:
        """Forget the kept input mask(s): the next sequence draws its own."""
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        """Forget the kept recurrent mask(s)."""
        self._recurrent_dropout_mask = None

