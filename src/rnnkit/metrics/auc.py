"""Keras 3's AUC: the area under the ROC or precision-recall curve, from confusion counts at
`num_thresholds` thresholds (a Riemann sum, or Davis & Goadrich's interpolation for PR)."""

from __future__ import annotations

import numpy as np
import torch

from .base import Metric, as_tensor
from .confusion import KINDS, check_thresholds, confusion_counts, evenly_spaced
from .precision_recall import divide_no_nan

EPSILON = 1e-7
_CURVES = {"roc": "ROC", "ROC": "ROC", "pr": "PR", "PR": "PR", "prgain": "PRGAIN",
           "PRGAIN": "PRGAIN"}
_SUMMATIONS = {"interpolation": "interpolation", "Interpolation": "interpolation",
               "majoring": "majoring", "Majoring": "majoring", "minoring": "minoring",
               "Minoring": "minoring"}
_STATES = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives",
           "fn": "false_negatives"}


class AUC(Metric):
    """The area under the ROC curve (recall against false-positive rate) or the PR curve
    (precision against recall), approximated at thresholds.

    Args:
        num_thresholds: how many thresholds, evenly spaced in [0, 1] (> 1).
        curve: "ROC", "PR" or "PRGAIN".
        summation_method: "interpolation" (trapezoids; for PR, Davis & Goadrich), "minoring" or
            "majoring" (lower or upper Riemann sums).
        name: the logged name (default "auc", numbered per session).
        dtype: the dtype of the computations.
        thresholds: thresholds in [0, 1] to use instead (num_thresholds is then their number + 2).
        multi_label: whether each label (the last axis of 2-D data) has its own curve, the
            result being their mean (weighted by `label_weights`), instead of one curve.
        num_labels: the number of labels with multi_label (else found at the first update).
        label_weights: a weight per label.
        from_logits: whether predictions are logits (a sigmoid is applied).

    >>> m = AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]); round(m.result(), 4)
    0.75
    """

    direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if curve not in _CURVES:
            raise ValueError(f'AUC: invalid curve value: "{curve}"; expected one of "PR", "ROC", '
                             '"PRGAIN".')
        if summation_method not in _SUMMATIONS:
            raise ValueError(f'AUC: invalid summation_method "{summation_method}"; expected one '
                             'of "interpolation", "majoring", "minoring".')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(check_thresholds("AUC", thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_spaced([0.0] + inner + [1.0])
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) \
                    or num_thresholds <= 1:
                raise ValueError("AUC: argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.curve, self.summation_method = _CURVES[curve], _SUMMATIONS[summation_method]
        super().__init__(dtype=dtype, name=name)
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = (None if label_weights is None
                              else as_tensor(label_weights, torch.float32))
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build((None, num_labels))
        elif num_labels:
            raise ValueError("AUC: `num_labels` is needed only when `multi_label` is True.")
        else:
            self._build(None)

    @property
    def thresholds(self) -> list[float]:
        return list(self._thresholds)

    def _build(self, shape) -> None:
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError("AUC: `y_pred` must have rank 2 when `multi_label=True`. "
                                 f"Found rank {len(shape)}. Full shape received for `y_pred`: "
                                 f"{tuple(shape)}")
            self._num_labels = shape[1]
            size = (self.num_thresholds, shape[1])
        else:
            size = (self.num_thresholds,)
        for name in _STATES.values():
            self.add_state(name, size)
        self._built = True

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        y_pred = as_tensor(y_pred, torch.float32)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        counts = confusion_counts(
            y_true, y_pred, self._thresholds, KINDS, sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights, evenly=self._evenly)
        for kind, name in _STATES.items():
            self.accumulate(name, counts[kind])

    def result(self) -> float:
        if not self._built:
            return 0.0
        tp, fp, tn, fn = (self.state(_STATES[k]) for k in KINDS)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._by_label(_interpolated_pr(tp, fp, fn))
        x, y = _curve(self.curve, tp, fp, tn, fn)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._by_label((x[:-1] - x[1:]) * heights)

    def _by_label(self, terms) -> float:
        """The sum over thresholds; with multi_label, the (weighted) mean over labels."""
        area = terms.sum(0)
        if not self.multi_label:
            return float(area)
        if self.label_weights is None:
            return float(area.mean())
        w = self.label_weights.to(area.device, torch.float64)
        return float(divide_no_nan((area * w).sum(), w.sum()))

    def get_config(self) -> dict:
        label_weights = self.label_weights
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": None if label_weights is None else label_weights.tolist(),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


def _curve(curve, tp, fp, tn, fn):
    """The (x, y) points of the curve at each threshold."""
    recall = divide_no_nan(tp, tp + fn)
    if curve == "ROC":
        return divide_no_nan(fp, fp + tn), recall
    if curve == "PR":
        return recall, divide_no_nan(tp, tp + fp)
    scale = divide_no_nan(tp + fn, tn + fp)  # PRGAIN: Flach & Kull's precision-recall gain
    recall_gain = torch.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(fn, tp))
    precision_gain = torch.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
    return torch.clamp(recall_gain, min=0.0), precision_gain


def _interpolated_pr(tp, fp, fn):
    """Davis & Goadrich (2006): precision interpolated between thresholds as tp grows linearly
    with the number of positive predictions p, integrated in closed form."""
    p = tp + fp
    dtp, dp = tp[:-1] - tp[1:], p[:-1] - p[1:]
    slope = divide_no_nan(dtp, torch.clamp(dp, min=0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = torch.where(both, divide_no_nan(p[:-1], torch.clamp(p[1:], min=0)),
                        torch.ones_like(p[1:]))
    return divide_no_nan(slope * (dtp + intercept * torch.log(ratio)),
                         torch.clamp(tp[1:] + fn[1:], min=0))
