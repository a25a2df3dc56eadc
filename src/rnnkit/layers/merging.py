"""Merging layers, as Keras 3's `keras.layers` has them: Concatenate, Add, Subtract, Multiply,
Average, Maximum, Minimum and Dot, each called on a list of tensors, and their functional forms
(`add([a, b])` is `Add()([a, b])`).

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
import math

import numpy as np
import torch

from ._checks import as_tensor
from .base import Layer

__all__ = ["Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot",
           "concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "dot"]

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


class Concatenate(Merge):
    """Joins its inputs along `axis`; they have one rank and equal sizes on every other axis.

    Args:
        axis: the axis to join along (negative counts from the last).

    >>> Concatenate(axis=1)([torch.zeros(3, 5, 2), torch.zeros(3, 4, 2)]).shape
    torch.Size([3, 9, 2])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not _is_int(axis):
            raise TypeError(f"{self.name}: expected axis to be an integer, got {axis!r} "
                            f"({type(axis).__name__}).")
        self.axis = int(axis)

    def _checked_axis(self, shapes) -> int:
        ranks = {len(s) for s in shapes}
        rank = ranks.pop()
        if ranks or not -rank <= self.axis < rank:
            raise ValueError(f"{self.name}: expected inputs of one rank with an axis {self.axis}, "
                             f"got shapes {_text(shapes)}.")
        axis = self.axis % rank
        for k in range(rank):
            sizes = {s[k] for s in shapes} - {None}
            if k != axis and len(sizes) > 1:
                raise ValueError(f"{self.name}: expected inputs whose sizes match on every axis "
                                 f"but the concatenation axis ({self.axis}), got shapes "
                                 f"{_text(shapes)}; axis {k} has sizes {sorted(sizes)}.")
        return axis

    def compute_output_shape(self, input_shape):
        shapes = self._shapes(input_shape)
        axis = self._checked_axis(shapes)
        out = list(shapes[0])
        sizes = [s[axis] for s in shapes]
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def call(self, inputs, mask=None):
        xs = self._tensors(inputs)
        self._checked_axis([tuple(x.shape) for x in xs])
        return torch.cat(xs, dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        """The input masks (all True where an input has none), each spread over its input's
        shape, joined along `axis`, reduced with `any` over the last axis (Keras 3)."""
        if mask is None:
            return None
        masks = self._masks(mask, inputs)
        if all(m is None for m in masks):
            return None
        full = []
        for x, m in zip(inputs, masks):
            x = as_tensor(self, x)
            blank = torch.zeros_like(x, dtype=torch.bool)
            if m is None:
                full.append(~blank)
            else:
                m = m.to(x.device)
                full.append(blank | m.unsqueeze(-1) if m.ndim < x.ndim else m)
        return torch.cat(full, dim=self.axis).any(dim=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _check_axes(where: str, axes):
    """Dot's `axes`, refused as Keras refuses it: an int, or a list or tuple of two ints."""
    if _is_int(axes):
        return int(axes)
    if not isinstance(axes, (list, tuple)):
        raise TypeError(f"{where}: expected axes as an integer or a pair of integers, got "
                        f"{axes!r} ({type(axes).__name__}).")
    if len(axes) != 2 or not all(_is_int(a) for a in axes):
        raise ValueError(f"{where}: expected axes as an integer or a pair of integers (one axis "
                         f"of each input), got {axes!r}.")
    return type(axes)(int(a) for a in axes)


class Dot(Merge):
    """The dot product of two inputs over one axis of each, sample by sample (Keras's
    batch_dot): the output has the first input's other axes, then the second's other axes
    without its batch axis; a (batch,) result becomes (batch, 1).

    Args:
        axes: the axis of both inputs, or a pair (axis of the first, axis of the second);
            never 0, the batch axis.
        normalize: L2-normalize each input along its axis first, so that the result is the
            cosine similarity.

    >>> Dot(axes=(2, 2))([torch.ones(3, 5, 4), torch.ones(3, 6, 4)]).shape
    torch.Size([3, 5, 6])
    """

    _count = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = _check_axes(self.name, axes)
        if not isinstance(normalize, (bool, np.bool_)):
            raise TypeError(f"{self.name}: expected normalize to be True or False, got "
                            f"{normalize!r}.")
        self.normalize = bool(normalize)

    def _checked_axes(self, shapes) -> tuple[int, int]:
        pair = (self.axes, self.axes) if _is_int(self.axes) else self.axes
        if any(len(s) < 2 for s in shapes):
            raise ValueError(f"{self.name}: expected two inputs of rank 2 or more (batch first), "
                             f"got shapes {_text(shapes)}.")
        for a, s in zip(pair, shapes):
            if not -len(s) <= a < len(s) or a % len(s) == 0:
                raise ValueError(f"{self.name}: expected axes {self.axes!r} to name an axis "
                                 f"other than the batch axis (0) of each input, got shapes "
                                 f"{_text(shapes)}.")
        a0, a1 = (a % len(s) for a, s in zip(pair, shapes))
        d0, d1 = shapes[0][a0], shapes[1][a1]
        if None not in (d0, d1) and d0 != d1:
            raise ValueError(f"{self.name}: expected equal sizes on the axes of the dot product, "
                             f"got {d0} (axis {a0} of {shapes[0]}) and {d1} (axis {a1} of "
                             f"{shapes[1]}).")
        b0, b1 = shapes[0][0], shapes[1][0]
        if None not in (b0, b1) and b0 != b1:
            raise ValueError(f"{self.name}: expected inputs with the same batch size, got shapes "
                             f"{_text(shapes)}.")
        return a0, a1

    def compute_output_shape(self, input_shape):
        shapes = self._shapes(input_shape)
        a0, a1 = self._checked_axes(shapes)
        first, second = list(shapes[0]), list(shapes[1])
        del first[a0], second[a1], second[0]
        out = first + second
        return tuple(out if len(out) > 1 else out + [1])

    def call(self, inputs, mask=None):
        x, y = self._tensors(inputs)
        a0, a1 = self._checked_axes([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            # x / max(|x|, eps) is Keras's x * min(rsqrt(sum x^2), 1/eps), with finite
            # gradients at x = 0
            x = torch.nn.functional.normalize(x, dim=a0, eps=_EPSILON)
            y = torch.nn.functional.normalize(y, dim=a1, eps=_EPSILON)
        x, y = torch.movedim(x, a0, -1), torch.movedim(y, a1, 1)  # (b, *xs, k), (b, k, *ys)
        batch, k, rest_x, rest_y = x.shape[0], x.shape[-1], x.shape[1:-1], y.shape[2:]
        out = torch.bmm(x.reshape(batch, math.prod(rest_x), k),
                        y.reshape(batch, k, math.prod(rest_y)))
        out = out.reshape(batch, *rest_x, *rest_y)
        return out if out.ndim > 1 else out.unsqueeze(1)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def concatenate(inputs, axis=-1, **kwargs):
    """`Concatenate(axis=axis, **kwargs)(inputs)`.

    >>> concatenate([torch.zeros(2, 3), torch.zeros(2, 1)]).shape
    torch.Size([2, 4])
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


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


def dot(inputs, axes=-1, **kwargs):
    """`Dot(axes=axes, **kwargs)(inputs)` (normalize= passes through kwargs).

    >>> dot([torch.ones(2, 3), torch.ones(2, 3)]).tolist()
    [[3.0], [3.0]]
    """
    return Dot(axes=axes, **kwargs)(inputs)
