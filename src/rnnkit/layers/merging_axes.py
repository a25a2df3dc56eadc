"""The merging layers that work along axes: Concatenate (along one axis) and Dot (a batched dot
product over one axis of each input), with their functional forms; the Merge base, shapes and
masks are in merging.py."""

from __future__ import annotations

import math

import numpy as np
import torch

from ._checks import as_tensor
from .merging import _EPSILON, Merge, _is_int, _text
from . import mask_ops

__all__ = ["Concatenate", "Dot", "concatenate", "dot"]


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

    def _keras_mask_ops(self, inputs, masks):
        """OnesLike for an input without a mask; ExpandDims, ZerosLike and LogicalOr to bring a
        (batch, time) mask up to its input's rank; then Concatenate and Any (Keras 3)."""
        if all(m is None for m in masks):
            return None
        parts = [mask_ops.MaskOp(x) if m is None
                 else mask_ops.MaskOp(mask_ops.MaskOp(m), mask_ops.MaskOp(x)) if len(x.shape) > 2
                 else m for x, m in zip(inputs, masks)]
        return mask_ops.ops(2, *parts)

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

    def _keras_mask_ops(self, inputs, masks):
        return None

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


def dot(inputs, axes=-1, **kwargs):
    """`Dot(axes=axes, **kwargs)(inputs)` (normalize= passes through kwargs).

    >>> dot([torch.ones(2, 3), torch.ones(2, 3)]).tolist()
    [[3.0], [3.0]]
    """
    return Dot(axes=axes, **kwargs)(inputs)
