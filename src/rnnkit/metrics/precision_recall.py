"""Keras 3's Precision and Recall: tp / (tp + fp) and tp / (tp + fn) at each threshold, over the
`top_k` scores of each row or over one `class_id`."""

from __future__ import annotations

import torch

from .base import Metric, to_result
from .confusion import NEG_INF, check_thresholds, confusion_counts, evenly_spaced


def divide_no_nan(a, b):
    """a / b, and 0 where b is 0."""
    return torch.where(b == 0, torch.zeros_like(a), a / torch.where(b == 0, 1.0, b))


class _Ratio(Metric):
    """tp / (tp + `_other`) from counts at each threshold."""

    direction = "up"
    _other = "fp"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(dtype=dtype, name=name)
        owner = type(self).__name__
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                                  or top_k < 1):
            raise ValueError(f"{owner}: expected top_k as a positive integer or None, got "
                             f"{top_k!r}.")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, int)):
            raise ValueError(f"{owner}: expected class_id as an integer or None, got "
                             f"{class_id!r}.")
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = check_thresholds(owner, thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = evenly_spaced(self.thresholds)
        self.add_state("true_positives", (len(self.thresholds),))
        self.add_state(_NAMES[self._other], (len(self.thresholds),))

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, ("tp", self._other),
                                  top_k=self.top_k, class_id=self.class_id,
                                  sample_weight=sample_weight, evenly=self._evenly)
        self.accumulate("true_positives", counts["tp"])
        self.accumulate(_NAMES[self._other], counts[self._other])

    def result(self):
        tp = self.state("true_positives")
        value = divide_no_nan(tp, tp + self.state(_NAMES[self._other]))
        return to_result(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


_NAMES = {"fp": "false_positives", "fn": "false_negatives"}


class Precision(_Ratio):
    """The fraction of positive predictions (score > threshold) whose target is positive.

    Args:
        thresholds: a threshold in [0, 1] or a list of them (one result each); default 0.5,
            or, with top_k, every kept score.
        top_k: count only the k largest scores of each row as predicted.
        class_id: count only this class (the last axis's index).
        name: the logged name (default "precision", numbered per session).
        dtype: the dtype of the computations.

    >>> m = Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(m.result(), 4)
    0.6667
    """

    _other = "fp"


class Recall(_Ratio):
    """The fraction of positive targets predicted positive (score > threshold).

    Args:
        thresholds: a threshold in [0, 1] or a list of them (one result each); default 0.5,
            or, with top_k, every kept score.
        top_k: count only the k largest scores of each row as predicted.
        class_id: count only this class (the last axis's index).
        name: the logged name (default "recall", numbered per session).
        dtype: the dtype of the computations.

    >>> m = Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(m.result(), 4)
    0.6667
    """

    _other = "fn"
