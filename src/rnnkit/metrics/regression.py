"""Keras 3's regression and probabilistic metrics (`keras/src/metrics/regression_metrics.py`,
`probabilistic_metrics.py`): means of loss functions, which a better model makes go down."""

from __future__ import annotations

import torch

from .. import losses
from . import functions
from .base import Mean, MeanMetricWrapper, as_tensor, masked_weight, same_rank


class _LossMean(MeanMetricWrapper):
    """A mean of a loss function; its config is its name and dtype (and `_keys`)."""

    direction = "down"
    _keys: tuple = ()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype,
                **{key: getattr(self, key) for key in self._keys}}


class MeanSquaredError(_LossMean):
    """The mean of (y_true - y_pred)².

    >>> m = MeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]]); m.result()
    0.25
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(functions.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(_LossMean):
    """The mean of |y_true - y_pred|.

    >>> m = MeanAbsoluteError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]]); m.result()
    0.25
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(functions.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_LossMean):
    """The mean of 100 · |y_true - y_pred| / max(|y_true|, 1e-7).

    >>> m = MeanAbsolutePercentageError()
    >>> m.update_state([[2.0, 4.0]], [[1.0, 4.0]]); m.result()
    25.0
    """

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(functions.mean_absolute_percentage_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """The square root of the mean of (y_true - y_pred)² over every element seen.

    >>> m = RootMeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]]); m.result()
    0.5
    """

    direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        if mask is None:
            mask = getattr(y_pred, "_keras_mask", None)
        y_pred = as_tensor(y_pred, self.torch_dtype)
        y_true, y_pred = same_rank(as_tensor(y_true, self.torch_dtype, y_pred.device), y_pred)
        weight = masked_weight(sample_weight, mask, self.torch_dtype)
        super().update_state((y_pred - y_true) ** 2, sample_weight=weight)

    def result(self) -> float:
        return super().result() ** 0.5


class _Crossentropy(_LossMean):
    """A crossentropy's mean; every argument but name and dtype goes to the loss function."""

    def __init__(self, fn, name, dtype, **fn_kwargs):
        super().__init__(fn, name=name, dtype=dtype, **fn_kwargs)
        for key, value in fn_kwargs.items():
            setattr(self, key, value)


class BinaryCrossentropy(_Crossentropy):
    """The mean binary crossentropy (probabilities, or logits with `from_logits`).

    >>> m = BinaryCrossentropy()
    >>> m.update_state([[0.0, 1.0]], [[0.5, 0.5]]); round(m.result(), 4)
    0.6931
    """

    _keys = ("from_logits", "label_smoothing")

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(losses.binary_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(_Crossentropy):
    """The mean categorical crossentropy of one-hot targets.

    >>> m = CategoricalCrossentropy()
    >>> m.update_state([[0.0, 1.0]], [[0.5, 0.5]]); round(m.result(), 4)
    0.6931
    """

    _keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(losses.categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_Crossentropy):
    """The mean categorical crossentropy of integer targets.

    >>> m = SparseCategoricalCrossentropy()
    >>> m.update_state([1], [[0.5, 0.5]]); round(m.result(), 4)
    0.6931
    """

    _keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(losses.sparse_categorical_crossentropy, name, dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        # Keras's mean leaves ignored targets out only when it weighs (reduce_to_samplewise_values
        # applies the values' mask to a sample_weight, or to the predictions' mask); unweighted,
        # their zeros count.
        if self.ignore_class is not None and (sample_weight is not None or mask is not None
                                              or getattr(y_pred, "_keras_mask", None) is not None):
            if mask is None:
                mask = getattr(y_pred, "_keras_mask", None)
            sample_weight = masked_weight(sample_weight, mask, self.torch_dtype)
            labels = as_tensor(y_true, torch.float64)
            if labels.dim() and labels.dim() == as_tensor(y_pred, torch.float64).dim() \
                    and labels.shape[-1] == 1:
                labels = labels.squeeze(-1)
            mask = labels != self.ignore_class
        super().update_state(y_true, y_pred, sample_weight, mask)

