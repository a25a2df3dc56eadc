"""Keras 3's cross-entropy losses as per-sample functions: binary, categorical and sparse
categorical, their focal variants, and the generalized cross-entropy."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from .base import EPSILON, as_float


def _check_axis(owner, axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"{owner}: expected axis to be an int, got {axis!r} of type "
                         f"{type(axis).__name__}.")


def _smooth(y_true, label_smoothing, classes):
    # Targets move toward the uniform distribution over `classes` values.
    if not label_smoothing:
        return y_true
    return y_true * (1.0 - label_smoothing) + label_smoothing / classes


def _same_shape(owner, y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{owner}: expected y_true and y_pred to have the same shape, got "
                         f"y_true of shape {tuple(y_true.shape)} and y_pred of shape "
                         f"{tuple(y_pred.shape)}.")


def _bce(y_true, y_pred, from_logits):
    if from_logits:
        return -y_true * F.logsigmoid(y_pred) - (1.0 - y_true) * F.logsigmoid(-y_pred)
    p = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
    return -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-(y·log p + (1 - y)·log(1 - p)), p clipped to [ε, 1 - ε] (or log-sigmoids of logits),
    averaged over `axis`; label smoothing moves targets toward 0.5.

    >>> binary_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.0]]), from_logits=True)
    tensor([0.6931])
    """
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    _same_shape("binary_crossentropy", y_true, y_pred)
    y_true = _smooth(y_true, label_smoothing, 2.0)
    return torch.mean(_bce(y_true, y_pred, from_logits), dim=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """The binary cross-entropy scaled by (1 - p_t)^gamma, p_t the probability given to the
    true label, and by alpha (positives) or 1 - alpha (negatives) when apply_class_balancing.

    >>> binary_focal_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.5]]))
    tensor([0.1733])
    """
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    _same_shape("binary_focal_crossentropy", y_true, y_pred)
    y_true = _smooth(y_true, label_smoothing, 2.0)
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = torch.pow(1.0 - p_t, gamma) * _bce(y_true, y_pred, from_logits=False)
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return torch.mean(focal, dim=axis)


def _log_probabilities(y_pred, from_logits, axis):
    """log-softmax of logits, or the log of probabilities rescaled to sum to 1 and clipped."""
    if from_logits:
        return torch.log_softmax(y_pred, dim=axis)
    p = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    return torch.log(torch.clamp(p, EPSILON, 1.0 - EPSILON))


def _categorical(owner, y_true, y_pred, label_smoothing, axis):
    _check_axis(owner, axis)
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    if y_pred.dim() and y_pred.shape[-1] == 1:
        warnings.warn(f"{owner}: expected y_pred of shape (batch_size, num_classes) with "
                      f"num_classes > 1, got y_pred of shape {tuple(y_pred.shape)}; use "
                      "binary_crossentropy for two classes.", SyntaxWarning, stacklevel=3)
    _same_shape(owner, y_true, y_pred)
    if y_true.dim() < 1:
        raise ValueError(f"{owner}: expected y_true and y_pred of rank 1 or more, got scalars.")
    return _smooth(y_true, label_smoothing, y_true.shape[-1]), y_pred


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-Σ y_true · log p along `axis`, p the predictions rescaled to sum to 1 and clipped to
    [ε, 1 - ε] (or the log-softmax of logits).

    >>> categorical_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))
    tensor([0.6931])
    """
    y_true, y_pred = _categorical("categorical_crossentropy", y_true, y_pred, label_smoothing,
                                  axis)
    return -torch.sum(y_true * _log_probabilities(y_pred, from_logits, axis), dim=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Σ alpha · (1 - p)^gamma · (-y_true · log p) along `axis` (p rescaled and clipped as in
    categorical_crossentropy, after a softmax of logits).

    >>> categorical_focal_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))
    tensor([0.0433])
    """
    y_true, y_pred = _categorical("categorical_focal_crossentropy", y_true, y_pred,
                                  label_smoothing, axis)
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    p = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    p = torch.clamp(p, EPSILON, 1.0 - EPSILON)
    return torch.sum(alpha * torch.pow(1.0 - p, gamma) * (-y_true * torch.log(p)), dim=axis)


def _sparse_per_sample(labels, y_pred, from_logits, axis):
    """-log p[label] along `axis`; labels have y_pred's shape without that axis."""
    log_p = _log_probabilities(y_pred, from_logits, axis).movedim(axis, -1)
    if tuple(labels.shape) != tuple(log_p.shape[:-1]):
        raise ValueError("sparse_categorical_crossentropy: expected y_true of shape "
                         f"{tuple(log_p.shape[:-1])} (y_pred's shape without its class axis), "
                         f"got {tuple(labels.shape)}.")
    classes = log_p.shape[-1]
    picked = torch.gather(log_p, -1, labels.clamp(0, max(classes - 1, 0)).unsqueeze(-1))
    # A label outside [0, classes) selects nothing in Keras's one-hot: its loss is 0.
    inside = (labels >= 0) & (labels < classes)
    return -torch.where(inside, picked.squeeze(-1), torch.zeros((), dtype=log_p.dtype))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """-log p[y_true] with class ids as targets (y_pred's shape without the class axis, or with
    it of size 1). Targets equal to `ignore_class` give 0 and are left out of the loss's mean
    (`call_with_mask` of SparseCategoricalCrossentropy reports them).

    >>> sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[0.5, 0.5]]))
    tensor([0.6931])
    """
    values, _ = sparse_with_mask(y_true, y_pred, from_logits, ignore_class, axis)
    return values


def sparse_with_mask(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """sparse_categorical_crossentropy's values and the mask of the targets it keeps (None
    without ignore_class)."""
    _check_axis("sparse_categorical_crossentropy", axis)
    y_pred = as_float(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    if torch.is_floating_point(y_true):
        y_true = y_true.to(torch.int32)  # Keras casts class ids to int32: 1.7 is class 1
    labels = y_true.long()
    if ignore_class is None:
        return _sparse_per_sample(labels, y_pred, from_logits, axis), None
    valid = y_true != ignore_class
    labels = torch.where(valid, labels, 0)
    # Keras zeroes the ignored rows; any finite row gives the same kept values, and ones keep
    # rescaled probabilities finite so no NaN reaches the gradient.
    fill = 0.0 if from_logits else 1.0
    y_pred = torch.where(valid.unsqueeze(axis), y_pred, torch.full((), fill, dtype=y_pred.dtype))
    values = _sparse_per_sample(labels, y_pred, from_logits, axis)
    return torch.where(valid, values, torch.zeros((), dtype=values.dtype)), valid


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p^q) / q, p the probability y_pred gives the class id y_true (robust to noisy
    labels; q → 0 is the cross-entropy, q = 1 the MAE).

    >>> categorical_generalized_cross_entropy(torch.tensor([1]), torch.tensor([[0.75, 0.25]]), 0.5)
    tensor([1.])
    """
    y_pred = as_float(y_pred)
    labels = torch.as_tensor(y_true, device=y_pred.device).long()
    one_hot = F.one_hot(labels, y_pred.shape[-1]).to(y_pred.dtype)
    p = torch.sum(y_pred * one_hot, dim=-1)
    return (1 - torch.pow(p, q)) / q
