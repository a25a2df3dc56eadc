"""Keras 3's metric functions (`keras.metrics.binary_accuracy`, ...): per-element or per-sample
values that MeanMetricWrapper averages; the loss functions used as metrics come from losses."""

from __future__ import annotations

import torch

from .. import losses
from .base import same_rank


def accuracy(y_true, y_pred):
    """1.0 where the prediction equals the target, element by element.

    >>> accuracy(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
    tensor([1., 0.])
    """
    y_true, y_pred = same_rank(y_true.to(y_pred.dtype), y_pred)
    return (y_true == y_pred).to(torch.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `y_pred > threshold` matches the 0/1 target, element by element.

    >>> binary_accuracy(torch.tensor([1.0, 0.0]), torch.tensor([0.7, 0.6]))
    tensor([1., 0.])
    """
    y_true, y_pred = same_rank(y_true, y_pred)
    return ((y_pred > threshold).to(y_true.dtype) == y_true).to(torch.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 per sample where the largest prediction is at the one-hot target's class.

    >>> categorical_accuracy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.3, 0.7]]))
    tensor([1.])
    """
    return (torch.argmax(y_true, dim=-1) == torch.argmax(y_pred, dim=-1)).to(torch.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 per sample where the largest prediction is at the integer target (a last axis of 1
    in the targets is squeezed).

    >>> sparse_categorical_accuracy(torch.tensor([1.0]), torch.tensor([[0.3, 0.7]]))
    tensor([1.])
    """
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    matches = (y_true == torch.argmax(y_pred, dim=-1).to(y_true.dtype)).to(torch.float32)
    return matches.squeeze(-1) if matches.dim() > 1 and matches.shape[-1] == 1 else matches


def _in_top_k(targets, y_pred, k):
    """TensorFlow's in_top_k as Keras's backends have it: ties with the target's score count
    in its favour (its rank is 1 + the number of strictly larger scores); NaN ranks last."""
    at_target = torch.gather(y_pred, -1, targets.long().unsqueeze(-1))
    at_target = torch.where(torch.isnan(at_target), float("-inf"), at_target)
    return 1 + (y_pred > at_target).sum(dim=-1) <= k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 per sample where the one-hot target's class is among the k largest predictions.

    >>> top_k_categorical_accuracy(torch.tensor([[0.0, 0.0, 1.0]]),
    ...                            torch.tensor([[0.5, 0.3, 0.2]]), k=2)
    tensor([0.])
    """
    targets = torch.argmax(y_true, dim=-1)
    flat = _in_top_k(targets.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return flat.reshape(targets.shape).to(torch.float32)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 per sample where the integer target is among the k largest predictions; with
    `from_sorted_ids`, `y_pred` holds class ids sorted by score and the first k are searched.

    >>> sparse_top_k_categorical_accuracy(torch.tensor([2]), torch.tensor([[0.5, 0.3, 0.2]]), k=2)
    tensor([0.])
    """
    shape = y_true.shape
    targets = y_true.reshape(-1)
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        found = (targets.to(y_pred.dtype).unsqueeze(1) == y_pred[:, :k]).any(dim=1)
    else:
        found = _in_top_k(targets, y_pred, k)
    return found.reshape(shape).to(torch.float32)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean(|y_true - y_pred| / max(|y_true|, epsilon)) over the last axis.

    >>> mean_absolute_percentage_error(torch.tensor([[2.0, 4.0]]), torch.tensor([[1.0, 4.0]]))
    tensor([25.])
    """
    y_true, y_pred = same_rank(y_true, y_pred)
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=losses.EPSILON))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = same_rank(y_true, y_pred)
    return losses.mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = same_rank(y_true, y_pred)
    return losses.mean_absolute_error(y_true, y_pred)


_UP = (accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
       top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)
_LOSS_FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
                   losses.mean_squared_error, losses.mean_absolute_error, losses.huber,
                   losses.binary_crossentropy, losses.categorical_crossentropy,
                   losses.sparse_categorical_crossentropy)

FUNCTIONS = {fn.__name__: fn for fn in _UP + _LOSS_FUNCTIONS}


def direction_of(fn) -> str | None:
    """Accuracies go up; Keras's loss functions (and loss objects) used as metrics go down;
    others are unknown (Keras's MeanMetricWrapper knows only the losses)."""
    if any(fn is known for known in _UP):
        return "up"
    if any(fn is known for known in _LOSS_FUNCTIONS) or isinstance(fn, losses.Loss):
        return "down"
    return None
