"""Keras 3's accuracy metrics (`keras/src/metrics/accuracy_metrics.py`): means of the matching
functions, with Keras's default names."""

from __future__ import annotations

from . import functions
from .base import MeanMetricWrapper


class _Accuracy(MeanMetricWrapper):
    """A mean of an accuracy function, which a better model makes go up."""

    direction = "up"
    _keys: tuple = ()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype,
                **{key: getattr(self, key) for key in self._keys}}


class Accuracy(_Accuracy):
    """How often predictions equal targets exactly.

    >>> m = Accuracy()
    >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]]); m.result()
    0.75
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(functions.accuracy, name=name, dtype=dtype)


class BinaryAccuracy(_Accuracy):
    """How often `y_pred > threshold` matches the 0/1 targets.

    Args:
        name: the logged name.
        dtype: the dtype of the computations.
        threshold: the probability above which a prediction counts as 1.

    >>> m = BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]); m.result()
    0.75
    """

    _keys = ("threshold",)

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(functions.binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(_Accuracy):
    """How often the largest prediction is at the one-hot target's class.

    >>> m = CategoricalAccuracy()
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); m.result()
    0.5
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(functions.categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(_Accuracy):
    """How often the largest prediction is at the integer target.

    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]); m.result()
    0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(functions.sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(_Accuracy):
    """How often the one-hot target's class is among the k largest predictions.

    Args:
        k: how many of the largest predictions count.
        name: the logged name.
        dtype: the dtype of the computations.

    >>> m = TopKCategoricalAccuracy(k=1)
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); m.result()
    0.5
    """

    _keys = ("k",)

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(functions.top_k_categorical_accuracy, name=name, dtype=dtype,
                         k=_check_k(type(self).__name__, k))
        self.k = k


class SparseTopKCategoricalAccuracy(_Accuracy):
    """How often the integer target is among the k largest predictions (or, with
    `from_sorted_ids`, among the first k class ids of `y_pred`).

    Args:
        k: how many of the largest predictions count.
        name: the logged name.
        dtype: the dtype of the computations.
        from_sorted_ids: whether `y_pred` holds class ids sorted by score.

    >>> m = SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); m.result()
    0.5
    """

    _keys = ("k",)

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(functions.sparse_top_k_categorical_accuracy, name=name, dtype=dtype,
                         k=_check_k(type(self).__name__, k), from_sorted_ids=from_sorted_ids)
        self.k, self.from_sorted_ids = k, from_sorted_ids

    def get_config(self) -> dict:
        config = super().get_config()
        return {**config, "from_sorted_ids": True} if self.from_sorted_ids else config


def _check_k(owner: str, k) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"{owner}: expected k as a positive integer, got {k!r}.")
    return k
