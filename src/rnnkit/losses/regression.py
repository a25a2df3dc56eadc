"""Keras 3's per-sample loss functions for real-valued targets, hinge losses, KL divergence,
Poisson and the overlap losses (Dice, Tversky). Each returns one value per sample (the mean or
sum over the last axis), as `keras.losses.<name>` does; inputs may be tensors or arrays."""

from __future__ import annotations

import math

import torch

from .base import EPSILON, as_float, squeeze_or_expand_to_same_rank


def _pair(y_true, y_pred, same_rank=True):
    """y_pred as a float tensor, y_true in its dtype, ranks met as Keras meets them."""
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    return squeeze_or_expand_to_same_rank(y_true, y_pred) if same_rank else (y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)²) over the last axis.

    >>> mean_squared_error(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
    tensor([0.5000])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.mean((y_true - y_pred) ** 2, dim=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis.

    >>> mean_absolute_error(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
    tensor([0.5000])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean(|y_true - y_pred| / max(|y_true|, ε)) over the last axis.

    >>> mean_absolute_percentage_error(torch.tensor([[2.0, 4.0]]), torch.tensor([[1.0, 4.0]]))
    tensor([25.])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, ε) + 1) - log(max(y_true, ε) + 1))²) over the last axis.

    >>> mean_squared_logarithmic_error(torch.tensor([[0.0]]), torch.tensor([[math.e - 1]]))
    tensor([1.0000])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    first = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.mean((first - second) ** 2, dim=-1)


def _l2_normalize(x, axis):
    # x · rsqrt(Σx²), the inverse norm capped at 1/ε so that a zero vector stays zero (Keras).
    inv_norm = torch.rsqrt(torch.sum(x * x, dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / EPSILON)


def cosine_similarity(y_true, y_pred, axis=-1):
    """The negative cosine similarity along `axis`: -Σ ŷ_true · ŷ_pred, each L2-normalized.

    >>> cosine_similarity(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0]]))
    tensor([-1.])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of ½e² where |e| ≤ delta, else delta·|e| - ½delta² (e = y_pred - y_true).

    >>> huber(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 3.0]]))
    tensor([1.3125])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    delta = torch.as_tensor(delta, dtype=y_pred.dtype, device=y_pred.device)
    return torch.mean(torch.where(abs_error <= delta, 0.5 * error * error,
                                  delta * abs_error - 0.5 * delta * delta), dim=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true))) over the last axis, computed as x + softplus(-2x) - log 2
    so that large errors do not overflow.

    >>> log_cosh(torch.tensor([[0.0]]), torch.tensor([[0.0]]))
    tensor([0.])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return torch.mean(x + torch.nn.functional.softplus(-2.0 * x) - math.log(2.0), dim=-1)


def _hinge_labels(y_true):
    # Keras reads labels that are all 0 or 1 as {-1, 1}; other labels are used as they are.
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """mean(max(1 - y_true · y_pred, 0)) over the last axis; labels of 0/1 become -1/1.

    >>> hinge(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 0.5]]))
    tensor([1.])
    """
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    return torch.mean(torch.clamp(1.0 - _hinge_labels(y_true) * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true · y_pred, 0)²) over the last axis; labels of 0/1 become -1/1.

    >>> squared_hinge(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 0.5]]))
    tensor([1.2500])
    """
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    return torch.mean(torch.clamp(1.0 - _hinge_labels(y_true) * y_pred, min=0.0) ** 2, dim=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 - y_true) · y_pred) - Σ y_true · y_pred + 1, 0) over the last axis.

    >>> categorical_hinge(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.3, 0.7]]))
    tensor([0.6000])
    """
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


def kl_divergence(y_true, y_pred):
    """Σ y_true · log(y_true / y_pred) over the last axis, both clipped to [ε, 1].

    >>> kl_divergence(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.5, 0.5]]))
    tensor([0.])
    """
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    y_true = torch.clamp(y_true, EPSILON, 1.0)
    y_pred = torch.clamp(y_pred, EPSILON, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true · log(y_pred + ε)) over the last axis.

    >>> poisson(torch.tensor([[0.0]]), torch.tensor([[2.0]]))
    tensor([2.])
    """
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    return torch.mean(y_pred - y_true * torch.log(y_pred + EPSILON), dim=-1)


def _sum(x, axis):
    return torch.sum(x) if axis is None else torch.sum(x, dim=axis)


def dice(y_true, y_pred, axis=None):
    """1 - 2Σ(y_true · y_pred) / (Σ y_true + Σ y_pred + ε), summed over `axis` (None: all
    axes, one value for the whole batch).

    >>> round(float(dice(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 0.0]]))), 4)
    0.3333
    """
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    intersection = _sum(y_true * y_pred, axis)
    return 1 - 2.0 * intersection / (_sum(y_true, axis) + _sum(y_pred, axis) + EPSILON)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha·FP + beta·FN + ε), with TP = Σ y_true·y_pred, FP = Σ y_true·(1 - y_pred),
    FN = Σ (1 - y_true)·y_pred over `axis` (Keras's naming of the two error terms).

    >>> round(float(tversky(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 0.0]]))), 4)
    0.3333
    """
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    intersection = _sum(y_true * y_pred, axis)
    fp = _sum((1 - y_pred) * y_true, axis)
    fn = _sum(y_pred * (1 - y_true), axis)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + EPSILON)
