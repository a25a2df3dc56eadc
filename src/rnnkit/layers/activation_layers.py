"""ReLU, LeakyReLU, ELU and Softmax as layers, with Keras 3's options; masks pass through."""

from __future__ import annotations

import math
import numbers
import warnings

import torch
import torch.nn.functional as F

from ._checks import as_tensor
from .base import Layer

__all__ = ["ReLU", "LeakyReLU", "ELU", "Softmax"]


def _float_input(layer, inputs) -> torch.Tensor:
    x = as_tensor(layer, inputs)
    return x if x.is_floating_point() else x.to(getattr(torch, layer.dtype_name))


def _non_negative(where, name, value, allow_none=False):
    if value is None and allow_none:
        return value
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value)
            or value < 0):
        raise ValueError(f"{where}: expected {name} to be a non-negative number, got {value!r}.")
    return value


class _Elementwise(Layer):
    """A layer of one element-wise function: its `call` takes `mask=` only so that an
    eager call passes the input's mask on (the function ignores it)."""

    supports_masking = True
    _keeps_shape = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True


class ReLU(_Elementwise):
    """`x` above `threshold`, `negative_slope * (x - threshold)` below it, capped at
    `max_value` (Keras's relu, computed in its order).

    Args:
        max_value: the largest output (None: no cap), non-negative.
        negative_slope: the slope below the threshold, non-negative.
        threshold: where the function bends, non-negative.

    >>> ReLU(max_value=1.0)(torch.tensor([-1.0, 0.5, 3.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _non_negative(self.name, "max_value", max_value, allow_none=True)
        self.negative_slope = _non_negative(self.name, "negative_slope", negative_slope)
        self.threshold = _non_negative(self.name, "threshold", threshold)

    def call(self, inputs, training=None, mask=None):
        x = _float_input(self, inputs)
        slope, top, bend = self.negative_slope, self.max_value, self.threshold
        if slope != 0 and top is None and bend == 0:
            return F.leaky_relu(x, slope)
        y = torch.where(x > bend, x, 0) if bend != 0 else torch.relu(x)
        if top is not None:
            y = torch.clamp(y, 0.0, top)
        if slope != 0:
            y = y - slope * torch.relu(bend - x)
        return y

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """`x` for x >= 0, `negative_slope * x` below; Keras's deprecated `alpha=` is accepted
    with a warning, as in Keras 3.

    >>> LeakyReLU(0.5)(torch.tensor([-2.0, 2.0]))
    tensor([-1.,  2.])
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("LeakyReLU: argument alpha is deprecated; use negative_slope.",
                          stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _non_negative(self.name, "negative_slope", negative_slope)

    def call(self, inputs, training=None, mask=None):
        return F.leaky_relu(_float_input(self, inputs), self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """`x` for x > 0, `alpha * (exp(x) - 1)` otherwise.

    >>> ELU()(torch.tensor([0.0, 1.0]))
    tensor([0., 1.])
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise TypeError(f"{self.name}: expected alpha to be a number, got {alpha!r}.")
        self.alpha = alpha

    def call(self, inputs, training=None, mask=None):
        return F.elu(_float_input(self, inputs), float(self.alpha))

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_Elementwise):
    """Softmax over `axis` (an int, or a list of axes taken together).

    With a mask (True, or > 0.5 for a numeric mask, where an entry is kept), masked entries
    are replaced by -1e9 (-3e4 in float16) before the softmax and set to 0 after it, as in
    Keras 3. The mask broadcasts against the input as numpy broadcasts (aligned on the last
    axes), so a recurrent (batch, time) mask fits only where those sizes do: pass, e.g.,
    a (batch, 1, time) mask for attention scores.

    >>> Softmax()(torch.zeros(1, 2))
    tensor([[0.5000, 0.5000]])
    """

    _keras_mask_argument = "mask"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        ok = (lambda a: isinstance(a, numbers.Integral) and not isinstance(a, bool))
        if not (ok(axis) or isinstance(axis, (list, tuple)) and axis and all(map(ok, axis))):
            raise TypeError(f"{self.name}: expected axis to be an int or a list of ints, got "
                            f"{axis!r}.")
        self.axis = list(axis) if isinstance(axis, tuple) else axis

    def _check_mask(self, x, mask):
        if mask.dim() > x.dim() or any(m != 1 and m != i for m, i in zip(
                reversed(mask.shape), reversed(x.shape))):
            raise ValueError(f"{self.name}: expected a mask broadcastable to the input "
                             f"{tuple(x.shape)} (each of its last axes 1 or the input's size, "
                             f"no more axes than the input), got mask shape {tuple(mask.shape)}.")

    def call(self, inputs, mask=None):
        x = _float_input(self, inputs)
        if mask is not None:
            mask = as_tensor(self, mask).to(x.device)
            self._check_mask(x, mask)
            if mask.dtype != torch.bool:
                mask = mask > 0.5
            x = torch.where(mask, x, -3e4 if x.dtype == torch.float16 else -1e9)
        if isinstance(self.axis, list) and len(self.axis) > 1:
            y = torch.exp(x - torch.logsumexp(x, dim=self.axis, keepdim=True))
        else:
            y = torch.softmax(x, dim=self.axis[0] if isinstance(self.axis, list) else self.axis)
        # A fully masked slice would be uniform: Keras zeroes it.
        return y if mask is None else torch.where(mask, y, 0.0)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
