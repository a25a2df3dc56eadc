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
    """Accumulates the per-sample values of `fn` and reports their mean."""

    def __init__(self, fn, name):
        self.fn, self.name = fn, name
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0

    @torch.no_grad()
    def update_state(self, y_true, y_pred):
        values = self.fn(y_true, y_pred)
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


def _accuracy_for(y_true_shape, y_pred_shape):
    """Keras's reading of "accuracy": binary for one output unit, sparse categorical when labels
    have one axis fewer (or a last axis of 1), categorical otherwise."""
    if y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


def get(identifier, y_true_shape, y_pred_shape, where: str | None = None) -> Metric:
    """A Metric from a name (logged under that name), a function or a Metric."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return Metric(_accuracy_for(y_true_shape, y_pred_shape), identifier)
        if identifier in _FUNCTIONS:
            return Metric(_FUNCTIONS[identifier], identifier)
    elif callable(identifier):
        return Metric(identifier, getattr(identifier, "__name__", "metric"))
    raise unknown_name("metric", identifier, list(_FUNCTIONS) + ["accuracy", "acc"], where)


def check(identifier, where: str | None = None) -> None:
    """Fail at compile time on a name that `get` could not resolve later."""
    if isinstance(identifier, str) and identifier not in _FUNCTIONS and identifier not in ("accuracy", "acc"):
        raise unknown_name("metric", identifier, list(_FUNCTIONS) + ["accuracy", "acc"], where)
    if not isinstance(identifier, (str, Metric)) and not callable(identifier):
        raise unknown_name("metric", identifier, list(_FUNCTIONS) + ["accuracy", "acc"], where)
