"""Keras 3 metrics: stateful means over every sample seen since the last reset."""

from __future__ import annotations

import torch

from . import losses
from ._errors import unknown_name


def binary_accuracy(y_true, y_pred, threshold=0.5):
    return torch.mean(((y_pred > threshold).to(y_pred.dtype) == y_true).to(y_pred.dtype), dim=-1)


def categorical_accuracy(y_true, y_pred):
    return (torch.argmax(y_true, dim=-1) == torch.argmax(y_pred, dim=-1)).to(y_pred.dtype)


def sparse_categorical_accuracy(y_true, y_pred):
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return (y_true.long() == torch.argmax(y_pred, dim=-1)).to(y_pred.dtype)


def accuracy(y_true, y_pred):
    return torch.mean((y_true == y_pred).to(y_pred.dtype), dim=-1)


class Metric:
    """Accumulates the per-sample values of `fn` and reports their mean.

    `direction` says whether a better model makes it go "up" or "down" (None: unknown), which
    callbacks monitoring it in mode "auto" follow, as Keras's metrics do.
    """

    def __init__(self, fn, name, direction=None):
        self.fn, self.name, self.direction = fn, name, direction
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0

    @torch.no_grad()
    def update_state(self, y_true, y_pred, mask=None):
        """Adds the values of a batch; a (batch, time) mask of the predictions leaves masked
        steps out, as Keras weights metrics with it."""
        values = self.fn(y_true, y_pred)
        if mask is not None and tuple(mask.shape) == tuple(values.shape):
            weight = mask.to(torch.float64)
            self.total += float((values.double() * weight).sum())
            self.count += float(weight.sum())
            return
        self.total += float(values.double().sum())
        self.count += values.numel()

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class Mean(Metric):
    """A weighted mean of scalars (the loss tracker): `update_state(value, weight)`."""

    def __init__(self, name="loss"):
        super().__init__(None, name)

    def update_state(self, value, weight=1):
        self.total += float(value) * weight
        self.count += weight


_FUNCTIONS = {
    "mae": losses.mean_absolute_error, "mean_absolute_error": losses.mean_absolute_error,
    "mse": losses.mean_squared_error, "mean_squared_error": losses.mean_squared_error,
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "binary_crossentropy": losses.binary_crossentropy,
    "categorical_crossentropy": losses.categorical_crossentropy,
    "sparse_categorical_crossentropy": losses.sparse_categorical_crossentropy,
}
_ACCURACIES = {"accuracy", "acc"}
_UP = (binary_accuracy, categorical_accuracy, sparse_categorical_accuracy)


def _direction(fn) -> str | None:
    """Accuracies go up; Keras's loss functions used as metrics go down; others are unknown."""
    if any(fn is known for known in _UP):
        return "up"
    return "down" if any(fn is known for known in _FUNCTIONS.values()) else None


def _accuracy_for(y_true_shape, y_pred_shape):
    """Keras's reading of "accuracy": binary for one output unit, sparse categorical when labels
    have one axis fewer (or a last axis of 1), categorical otherwise."""
    if y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


def _resolve(identifier, where):
    """A function of (y_true_shape, y_pred_shape) giving the Metric; raises on unknown names."""
    if isinstance(identifier, Metric):
        return lambda *shapes: identifier
    if isinstance(identifier, str):
        if identifier in _ACCURACIES:
            return lambda *shapes: Metric(_accuracy_for(*shapes), identifier, "up")
        if identifier in _FUNCTIONS:
            fn = _FUNCTIONS[identifier]
            return lambda *shapes: Metric(fn, identifier, _direction(fn))
    elif callable(identifier) and not isinstance(identifier, type):
        name = getattr(identifier, "__name__", "metric")
        return lambda *shapes: Metric(identifier, name, _direction(identifier))
    raise unknown_name("metric", identifier, list(_FUNCTIONS) + sorted(_ACCURACIES), where)


def get(identifier, y_true_shape, y_pred_shape, where: str | None = None) -> Metric:
    """A Metric from a name (logged under that name), a function or a Metric."""
    return _resolve(identifier, where)(y_true_shape, y_pred_shape)


def check(identifier, where: str | None = None) -> None:
    """Fail at compile time on an identifier that `get` could not resolve later."""
    _resolve(identifier, where)
