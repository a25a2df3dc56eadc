"""Merging layers, as Keras 3's `keras.layers` has them: Add, Subtract, Multiply, Average,
Maximum, Minimum here and Concatenate and Dot (merging along axes) in merging_axes.py, each called
on a list of tensors, and their functional forms (`add([a, b])` is `Add()([a, b])`).

Shapes (Keras's Merge): the batch sizes agree; the other axes broadcast, aligned from the last
(equal sizes, or 1; None where unknown); an input of lower rank gains axes of size 1 just after
the batch axis.

Masks (True where a step is real), as Keras 3 computes them: the elementwise layers' output mask
is the logical OR of the input masks when every input has one, else none; Concatenate's joins
the masks along its axis (an input without a mask counts as all True) and reduces the last axis
with `any`; Dot's output has no mask. Multiply, Maximum and Minimum also read the masks in the
merge itself, as Keras does: a masked entry is left out of the product (replaced by 1) or of the
comparison (replaced by the running result).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ._checks import as_tensor
from .base import Layer
from . import mask_ops

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "add", "subtract",
           "multiply", "average", "maximum", "minimum"]

# Keras's backend.epsilon(), the floor of the norm in Dot(normalize=True)
_EPSILON = 1e-7


def _text(shapes) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_shape_list(structure) -> bool:
    return isinstance(structure, (list, tuple)) and all(
        isinstance(s, (list, tuple, torch.Size)) for s in structure)


class Merge(Layer):
    """Base of the merging layers: checks that a call gets a list of tensors (exactly `_count`
    of them where set, else at least one), broadcasts the elementwise ones, and gives Keras 3's
    output mask. Subclasses define `_merge(xs, masks)` on inputs already brought to one rank."""

    supports_masking = True
    _count: int | None = None  # Subtract and Dot take exactly 2 inputs

    def _expected(self) -> str:
        return f"a list of {self._count} tensors" if self._count else "a list of tensors"

    def _check_count(self, n: int, got: str) -> None:
        if (self._count and n != self._count) or n == 0:
            raise ValueError(f"{self.name}: expected {self._expected()}, got {n} ({got}).")

    def _shapes(self, input_shape) -> list[tuple]:
        """input_shape as a list of shapes, refused unless the layer got a list of tensors."""
        if isinstance(input_shape, list) and not input_shape:
            self._check_count(0, "an empty list")
        if not _is_shape_list(input_shape) or not input_shape:
            raise ValueError(f"{self.name}: expected {self._expected()}, e.g. "
                             f"{type(self).__name__}(...)([a, b]); got one input of shape "
                             f"{tuple(input_shape)}.")
        shapes = [tuple(s) for s in input_shape]
        self._check_count(len(shapes), f"shapes {_text(shapes)}")
        for s in shapes:
            if not s:
                raise ValueError(f"{self.name}: expected tensors with a batch axis, got shapes "
                                 f"{_text(shapes)}.")
        return shapes

    def _tensors(self, inputs) -> list[torch.Tensor]:
        if not isinstance(inputs, (list, tuple)):
            shape = tuple(getattr(inputs, "shape", ()))
            raise ValueError(f"{self.name}: expected {self._expected()}, e.g. "
                             f"{type(self).__name__}(...)([a, b]); got one input of shape {shape}.")
        xs = [as_tensor(self, x) for x in inputs]
        self._shapes([tuple(x.shape) for x in xs])
        return xs

    def _masks(self, mask, inputs) -> list[torch.Tensor | None]:
        """One boolean mask (or None) per input, from Keras's mask list."""
        if mask is None:
            return [None] * len(inputs)
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"{self.name}: expected mask as a list with one mask (or None) per "
                             f"input, got {type(mask).__name__}.")
        if len(mask) != len(inputs):
            raise ValueError(f"{self.name}: expected one mask (or None) per input, got "
                             f"{len(mask)} masks for {len(inputs)} inputs.")
        return [None if m is None else as_tensor(self, m).to(torch.bool) for m in mask]

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)  # shapes checked as early as Keras checks them
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = self._shapes(input_shape)
        batch = {s[0] for s in shapes} - {None}
        if len(batch) > 1:
            raise ValueError(f"{self.name}: expected inputs with the same batch size, got shapes "
                             f"{_text(shapes)}.")
        return (batch.pop() if batch else None,) + functools.reduce(
            functools.partial(self._broadcast_pair, shapes), [s[1:] for s in shapes])

    def _broadcast_pair(self, shapes, a: tuple, b: tuple) -> tuple:
        """The broadcast of two shapes without their batch axis, aligned from the last."""
        long, short = (a, b) if len(a) >= len(b) else (b, a)
        tail = []
        for i, j in zip(long[len(long) - len(short):], short):
            if i is not None and j is not None and i != j and 1 not in (i, j):
                raise ValueError(
                    f"{self.name}: expected inputs whose shapes broadcast together (after the "
                    f"batch axis, aligned from the last: equal sizes or 1), got shapes "
                    f"{_text(shapes)}; sizes {i} and {j} do not match.")
            tail.append(None if None in (i, j) else j if i == 1 else i)
        return long[:len(long) - len(short)] + tuple(tail)

    def call(self, inputs, mask=None):
        xs = self._tensors(inputs)
        self.compute_output_shape([tuple(x.shape) for x in xs])
        masks = self._masks(mask, xs)
        rank = max(x.ndim for x in xs)
        # Keras reads each input's mask off the tensor it merges; an input it had to expand to
        # the common rank is a new tensor, without a mask.
        masks = [m if x.ndim == rank else None for x, m in zip(xs, masks)]
        xs = [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]
        return self._merge(xs, masks)

    def _merge(self, xs, masks):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        """The OR of the input masks when every input has one, else None (Keras 3)."""
        if mask is None:
            return None
        masks = self._masks(mask, inputs if isinstance(inputs, (list, tuple)) else [inputs])
        if any(m is None for m in masks):
            return None
        return functools.reduce(torch.logical_or, masks)

    def _keras_mask_ops(self, inputs, masks):
        if any(m is None for m in masks):
            return None
        return functools.reduce(mask_ops.MaskOp, masks)  # LogicalOr, one input after another


def _spread(mask, x):
    """A (batch, ...) mask spread over x's last axis, as Keras expands it inside a merge."""
    return torch.broadcast_to(mask.to(x.device).unsqueeze(-1), x.shape)


class Add(Merge):
    """The elementwise sum of its inputs.

    >>> Add()([torch.ones(2, 3), torch.ones(2, 3)]).sum().item()
    12.0
    """

    def _merge(self, xs, masks):
        return functools.reduce(torch.add, xs)


class Subtract(Merge):
    """inputs[0] - inputs[1], elementwise, for exactly two inputs.

    >>> Subtract()([torch.ones(2, 3), torch.ones(2, 3)]).abs().sum().item()
    0.0
    """

    _count = 2

    def _merge(self, xs, masks):
        return xs[0] - xs[1]


class Average(Merge):
    """The elementwise mean of its inputs.

    >>> Average()([torch.zeros(1, 2), torch.ones(1, 2)]).tolist()
    [[0.5, 0.5]]
    """

    def _merge(self, xs, masks):
        return functools.reduce(torch.add, xs) / len(xs)


class Multiply(Merge):
    """The elementwise product of its inputs. Masked entries of an input count as 1; when every
    input has a mask, entries masked in all of them are 0 (Keras 3).

    >>> Multiply()([torch.full((1, 2), 2.0), torch.full((1, 2), 3.0)]).tolist()
    [[6.0, 6.0]]
    """

    def _merge(self, xs, masks):
        every = all(m is not None for m in masks)
        output, kept = None, None
        for x, m in zip(xs, masks):
            if m is not None:
                m = _spread(m, x)
                x = torch.where(m, x, x.new_ones(()))
                kept = m if kept is None else kept | m
            output = x if output is None else output * x
        return torch.where(kept, output, output.new_zeros(())) if every else output


class _Choose(Merge):
    """Maximum and Minimum: the running result is compared with each input in turn; where one
    side is masked, the other side's value stands (Keras 3)."""

    _op = None

    def _merge(self, xs, masks):
        output, kept = xs[0], None if masks[0] is None else _spread(masks[0], xs[0])
        for x, m in zip(xs[1:], masks[1:]):
            m = None if m is None else _spread(m, x)
            if m is not None:
                x = torch.where(m, x, output)
            if kept is not None:
                output = torch.where(kept, output, x)
            kept = kept | m if kept is not None and m is not None else None
            output = type(self)._op(output, x)
        return output


class Maximum(_Choose):
    """The elementwise maximum of its inputs.

    >>> Maximum()([torch.tensor([[1.0, 4.0]]), torch.tensor([[3.0, 2.0]])]).tolist()
    [[3.0, 4.0]]
    """

    _op = torch.maximum


class Minimum(_Choose):
    """The elementwise minimum of its inputs.

    >>> Minimum()([torch.tensor([[1.0, 4.0]]), torch.tensor([[3.0, 2.0]])]).tolist()
    [[1.0, 2.0]]
    """

    _op = torch.minimum


def add(inputs, **kwargs):
    """`Add(**kwargs)(inputs)`: the elementwise sum.

    >>> add([torch.ones(1, 2), torch.ones(1, 2)]).tolist()
    [[2.0, 2.0]]
    """
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """`Subtract(**kwargs)(inputs)`: inputs[0] - inputs[1]."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """`Multiply(**kwargs)(inputs)`: the elementwise product."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """`Average(**kwargs)(inputs)`: the elementwise mean."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """`Maximum(**kwargs)(inputs)`: the elementwise maximum."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """`Minimum(**kwargs)(inputs)`: the elementwise minimum."""
    return Minimum(**kwargs)(inputs)
