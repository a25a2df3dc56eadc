"""Keras 3's confusion-matrix metrics (`keras/src/metrics/confusion_metrics.py` and
`metrics_utils.update_confusion_matrix_variables`): counts of true/false positives/negatives at
thresholds, and Precision and Recall from them."""

from __future__ import annotations

import numpy as np
import torch

from .base import Metric, as_tensor, same_rank, to_result

NEG_INF = -1e10  # Keras's threshold under any score: with top_k, every kept score is positive
KINDS = ("tp", "fp", "tn", "fn")


def check_thresholds(owner: str, thresholds, default: float) -> list[float]:
    """A list of thresholds in [0, 1] (a number is a list of one); `default` when None."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    bad = [t for t in values if t is None or not 0 <= t <= 1]
    if bad or not values:
        raise ValueError(f"{owner}: expected thresholds in [0, 1], got {thresholds!r}.")
    return [float(t) for t in values]


def evenly_spaced(thresholds) -> bool:
    """Keras's is_evenly_distributed_thresholds: at least 3, equal to i / (n - 1) to 1e-7,
    where buckets replace one comparison per threshold."""
    n = len(thresholds)
    even = np.arange(n, dtype=np.float32) / (n - 1) if n >= 3 else None
    return n >= 3 and bool(np.allclose(thresholds, even, atol=1e-7))


def top_k_only(y_pred, k: int):
    """Scores outside each row's k largest become NEG_INF (ties keep the earlier index)."""
    order = torch.sort(y_pred, dim=-1, descending=True, stable=True).indices[..., :k]
    keep = torch.zeros_like(y_pred).scatter_(-1, order, 1.0)
    return y_pred * keep + NEG_INF * (1 - keep)


def confusion_counts(y_true, y_pred, thresholds, kinds, *, top_k=None, class_id=None,
                     sample_weight=None, multi_label=False, label_weights=None, evenly=False):
    """The weighted counts of `kinds` ("tp", "fp", "tn", "fn") at each threshold: shape
    (thresholds,), or (thresholds, labels) with `multi_label`. A prediction is positive when it
    is above the threshold; any non-zero target is positive."""
    dtype = torch.float32
    y_pred = as_tensor(y_pred, dtype)
    y_true = as_tensor(y_true, dtype, y_pred.device)
    y_pred, y_true = same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype, y_pred.device).unsqueeze(-1)
        _, sample_weight = same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = top_k_only(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    weights = _weights(sample_weight, label_weights, y_pred, multi_label)
    if not multi_label:
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
    positive = (y_true != 0).to(dtype)
    if evenly:
        return _bucket_counts(positive, y_pred, thresholds, kinds, weights, multi_label)
    return _compared_counts(positive, y_pred, thresholds, kinds, weights, multi_label)


def _weights(sample_weight, label_weights, y_pred, multi_label):
    """sample_weight × label_weights, broadcast over the predictions (flat unless multi_label);
    None when neither is given."""
    weights = None
    for w in (sample_weight, None if label_weights is None else
              as_tensor(label_weights, torch.float32, y_pred.device).unsqueeze(0)):
        if w is None:
            continue
        try:
            w = torch.broadcast_to(w.to(y_pred.dtype), y_pred.shape)
        except RuntimeError:
            raise ValueError(f"expected sample_weight (or label_weights) of a shape that "
                             f"broadcasts to y_pred {tuple(y_pred.shape)}, got "
                             f"{tuple(w.shape)}.") from None
        weights = w if weights is None else weights * w
    if weights is not None and not multi_label:
        weights = weights.reshape(-1)
    return weights


def _bucket_counts(positive, y_pred, thresholds, kinds, weights, multi_label):
    """Evenly spaced thresholds: each score falls in one bucket, ceil(p · (n - 1)) - 1, and a
    reversed cumulative sum counts the scores above each threshold (Keras's fast path, whose
    float32 rounding at a threshold it follows)."""
    n = len(thresholds)
    with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
    w = 1.0 if weights is None else weights
    true_w, false_w = positive * w, (1.0 - positive) * w
    bucket = torch.ceil(torch.clamp(y_pred, 0.0, 1.0) * torch.tensor(n - 1, dtype=y_pred.dtype)) - 1
    if with_epsilon:
        bucket = torch.relu(bucket)
    bucket = bucket.long()
    kept = bucket >= 0  # a score of 0 is above no threshold when the first one is 0
    index = torch.where(kept, bucket, torch.zeros_like(bucket))
    counts = {}
    for key, labels in (("tp", true_w), ("fp", false_w)):
        values = torch.where(kept, labels, torch.zeros_like(labels)).double()
        if multi_label:
            per = torch.zeros((n, y_pred.shape[1]), dtype=torch.float64, device=y_pred.device)
            per.scatter_add_(0, index, values)
        else:
            per = torch.zeros(n, dtype=torch.float64, device=y_pred.device)
            per.scatter_add_(0, index, values)
        counts[key] = per.flip(0).cumsum(0).flip(0)
    counts["fn"] = true_w.double().sum(0) - counts["tp"]
    counts["tn"] = false_w.double().sum(0) - counts["fp"]
    return {k: counts[k] for k in kinds}


def _compared_counts(positive, y_pred, thresholds, kinds, weights, multi_label):
    """Any thresholds: one comparison of every score with every threshold."""
    t = torch.tensor(np.asarray(thresholds, dtype=np.float32), device=y_pred.device)
    t = t.reshape(-1, 1, 1) if multi_label else t.reshape(-1, 1)
    above = y_pred.unsqueeze(0) > t
    is_true = (positive != 0).unsqueeze(0)
    cells = {"tp": is_true & above, "fp": ~is_true & above, "tn": ~is_true & ~above,
             "fn": is_true & ~above}
    w = None if weights is None else weights.unsqueeze(0).double()
    return {k: (cells[k].double() if w is None else cells[k] * w).sum(1) for k in kinds}


class _ConfusionCount(Metric):
    """One count (`_kind`) at each of `thresholds` (default 0.5)."""

    _kind = "tp"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.init_thresholds = thresholds
        self.thresholds = check_thresholds(type(self).__name__, thresholds, 0.5)
        self._evenly = evenly_spaced(self.thresholds)
        self.add_state("accumulator", (len(self.thresholds),))

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, (self._kind,),
                                  sample_weight=sample_weight, evenly=self._evenly)
        self.accumulate("accumulator", counts[self._kind])

    def result(self):
        value = self.state("accumulator")
        return to_result(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """The weighted count of positive targets predicted positive (score > threshold).

    >>> m = TruePositives()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
    2.0
    """

    _kind = "tp"


class FalsePositives(_ConfusionCount):
    """The weighted count of negative targets predicted positive.

    >>> m = FalsePositives()
    >>> m.update_state([0, 1, 0, 0], [0, 0, 1, 1]); m.result()
    2.0
    """

    _kind = "fp"


class TrueNegatives(_ConfusionCount):
    """The weighted count of negative targets predicted negative.

    >>> m = TrueNegatives()
    >>> m.update_state([0, 1, 0, 0], [1, 1, 0, 0]); m.result()
    2.0
    """

    _kind = "tn"


class FalseNegatives(_ConfusionCount):
    """The weighted count of positive targets predicted negative.

    >>> m = FalseNegatives()
    >>> m.update_state([0, 1, 1, 1], [0, 1, 0, 0]); m.result()
    2.0
    """

    _kind = "fn"
