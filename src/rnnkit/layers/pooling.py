"""Pooling over time: GlobalMaxPooling1D, GlobalAveragePooling1D, MaxPooling1D and
AveragePooling1D, with Keras's aliases (GlobalMaxPool1D, GlobalAvgPool1D, MaxPool1D, AvgPool1D:
the same classes, so configs carry the real class name).

Masks, as Keras 3: GlobalAveragePooling1D averages only the real steps and drops the mask;
GlobalMaxPooling1D, MaxPooling1D and AveragePooling1D do not support masking: they pool every
step, padding included, and their outputs carry no mask.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._checks import as_tensor, check_int
from .base import Layer

__all__ = ["GlobalMaxPooling1D", "GlobalAveragePooling1D", "MaxPooling1D", "AveragePooling1D",
           "GlobalMaxPool1D", "GlobalAvgPool1D", "MaxPool1D", "AvgPool1D"]

DATA_FORMATS = ("channels_last", "channels_first")


# -- argument checks shared with convolution.py ---------------------------------------------------
def standardize_data_format(where: str, data_format) -> str:
    """Keras's data_format: None is "channels_last" (Keras's default image_data_format)."""
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value not in DATA_FORMATS:
        raise ValueError(f"{where}: expected data_format 'channels_last' or 'channels_first', "
                         f"got {data_format!r}.")
    return value


def int_tuple(where: str, name: str, value, minimum: int = 1) -> tuple[int]:
    """A size of a 1D layer as Keras keeps it, a 1-tuple: from an int or a 1-long sequence."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"{where}: expected {name} as an integer or a tuple of 1 integer, "
                             f"got {value!r}.")
        value = value[0]
    return (check_int(where, name, value, minimum),)


def check_padding(where: str, padding, allowed: tuple[str, ...]) -> str:
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(f"{where}: expected padding {' or '.join(map(repr, allowed))}, got "
                         f"{padding!r}.")
    return value


def same_padding(length: int, window: int, stride: int) -> tuple[int, int]:
    """(left, right) padding of Keras's (XLA's) "same": ceil(length / stride) outputs, the odd
    padding element on the right."""
    total = max((math.ceil(length / stride) - 1) * stride + window - length, 0)
    return total // 2, total - total // 2


def output_length(where: str, length, window: int, stride: int, padding: str):
    """The number of steps a window of `window` (dilation included) moving by `stride` gives."""
    if length is None:
        return None
    if padding != "valid":  # "same", and Conv1D's "causal"
        return (length - 1) // stride + 1
    steps = (length - window) // stride + 1
    if steps <= 0:
        raise ValueError(f"{where}: a window of {window} steps does not fit in an input of "
                         f"{length} steps with padding='valid'; give longer inputs or use "
                         "padding='same'.")
    return steps


def check_rank3(layer, shape, what: str = "input") -> None:
    if len(shape) != 3:
        layout = ("(batch, steps, features)" if layer.data_format == "channels_last"
                  else "(batch, features, steps)")
        raise ValueError(f"{layer.name}: expected {what} of shape {layout} (rank 3), got shape "
                         f"{tuple(shape)} (rank {len(shape)}).")


def real_input(layer, inputs) -> torch.Tensor:
    """A rank-3 input as a floating tensor (integers and booleans converted, as Keras does)."""
    x = as_tensor(layer, inputs)
    check_rank3(layer, x.shape)
    return x if x.is_floating_point() else x.to(getattr(torch, layer.dtype_name))


# -- global pooling -------------------------------------------------------------------------------
class _GlobalPooling1D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(self.name, data_format)
        self.keepdims = bool(keepdims)
        self.built = True

    @property
    def _steps_axis(self) -> int:
        return 1 if self.data_format == "channels_last" else 2

    def compute_output_shape(self, input_shape):
        check_rank3(self, input_shape)
        features = input_shape[2] if self.data_format == "channels_last" else input_shape[1]
        if not self.keepdims:
            return (input_shape[0], features)
        if self.data_format == "channels_last":
            return (input_shape[0], 1, features)
        return (input_shape[0], features, 1)

    def compute_mask(self, inputs, mask=None):
        return None

    def _keras_mask_ops(self, inputs, masks):
        return None

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The largest value of each feature over the steps: (batch, steps, features) →
    (batch, features), or (batch, 1, features) with keepdims.

    As in Keras 3, the layer does not support masking: padded steps take part in the maximum
    (after Masking or a recurrent layer they hold zeros) and the mask is dropped.

    Args:
        data_format: "channels_last" (batch, steps, features) or "channels_first"
            (batch, features, steps).
        keepdims: keep the steps axis, of length 1.

    >>> GlobalMaxPooling1D()(torch.tensor([[[1.0], [3.0], [2.0]]]))
    tensor([[3.]])
    """

    def call(self, inputs):
        x = real_input(self, inputs)
        return x.amax(dim=self._steps_axis, keepdim=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean of each feature over the steps; with a mask, the mean of the real steps only
    (a row with no real step gives NaN, 0/0, as in Keras). The output carries no mask.

    Args:
        data_format: "channels_last" (batch, steps, features) or "channels_first"
            (batch, features, steps).
        keepdims: keep the steps axis, of length 1.

    >>> GlobalAveragePooling1D()(torch.tensor([[[1.0], [3.0], [2.0]]]))
    tensor([[2.]])
    """

    supports_masking = True
    _keras_mask_argument = "mask"

    def call(self, inputs, mask=None):
        x = real_input(self, inputs)
        axis = self._steps_axis
        if mask is None:
            return x.mean(dim=axis, keepdim=self.keepdims)
        mask = as_tensor(self, mask)
        steps = x.shape[axis]
        if tuple(mask.shape) != (x.shape[0], steps):
            raise ValueError(f"{self.name}: expected a mask of shape (batch, steps) = "
                             f"{(x.shape[0], steps)}, got shape {tuple(mask.shape)}.")
        keep = mask.to(device=x.device, dtype=torch.bool).unsqueeze(3 - axis)
        total = torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))
        count = keep.to(x.dtype).sum(dim=axis, keepdim=self.keepdims)
        return total.sum(dim=axis, keepdim=self.keepdims) / count


# -- windowed pooling -----------------------------------------------------------------------------
class _Pooling1D(Layer):
    _mode = ""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int_tuple(self.name, "pool_size", pool_size)
        self.strides = int_tuple(self.name, "strides", pool_size if strides is None else strides)
        self.padding = check_padding(self.name, padding, ("valid", "same"))
        self.data_format = standardize_data_format(self.name, data_format)
        self.built = True

    def compute_output_shape(self, input_shape):
        check_rank3(self, input_shape)
        time_axis = 1 if self.data_format == "channels_last" else 2
        shape = list(input_shape)
        shape[time_axis] = output_length(self.name, input_shape[time_axis], self.pool_size[0],
                                         self.strides[0], self.padding)
        return tuple(shape)

    def call(self, inputs):
        x = real_input(self, inputs)
        channels_last = self.data_format == "channels_last"
        if channels_last:
            x = x.transpose(1, 2)  # torch pools (batch, channels, steps)
        window, stride = self.pool_size[0], self.strides[0]
        output_length(self.name, x.shape[2], window, stride, self.padding)  # the window fits
        left, right = (same_padding(x.shape[2], window, stride) if self.padding == "same"
                       else (0, 0))
        y = self._pool(x, window, stride, left, right)
        return y.transpose(1, 2) if channels_last else y

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling1D):
    """The largest value in each window of `pool_size` steps, moving by `strides`.

    padding="same" gives ceil(steps / strides) outputs; the padding never wins the maximum.
    As in Keras 3, masks are not supported: every step is pooled and the mask is dropped.

    Args:
        pool_size: window length.
        strides: step between windows; None means pool_size.
        padding: "valid" or "same".
        data_format: "channels_last" (batch, steps, features) or "channels_first".

    >>> MaxPooling1D(2)(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten()
    tensor([3., 2.])
    """

    def _pool(self, x, window, stride, left, right):
        if left or right:
            x = F.pad(x, (left, right), value=-math.inf)
        return F.max_pool1d(x, window, stride)


class AveragePooling1D(_Pooling1D):
    """The mean of each window of `pool_size` steps, moving by `strides`.

    With padding="same" a window that overlaps the padding averages only the real steps it
    covers, as Keras does. Masks are not supported (Keras 3): the mask is dropped.

    Args:
        pool_size: window length.
        strides: step between windows; None means pool_size.
        padding: "valid" or "same".
        data_format: "channels_last" (batch, steps, features) or "channels_first".

    >>> AveragePooling1D(2)(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten()
    tensor([2., 1.])
    """

    def _pool(self, x, window, stride, left, right):
        if not (left or right):
            return F.avg_pool1d(x, window, stride)
        # Keras divides each window's sum by the number of real steps in it.
        sums = F.pad(x, (left, right)).unfold(2, window, stride).sum(dim=-1)
        ones = x.new_ones((1, 1, x.shape[2]))
        counts = F.pad(ones, (left, right)).unfold(2, window, stride).sum(dim=-1)
        return sums / counts


GlobalMaxPool1D = GlobalMaxPooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
