"""Datasets written in Python: Keras 3's `PyDataset` base class and `split_dataset`."""

from __future__ import annotations

import itertools
import random
import warnings

import numpy as np
import torch


def _check_count(cls_name: str, name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{cls_name}: `{name}` must be an int >= {minimum}, got {value!r}.")


class PyDataset:
    """Base class for a dataset of batches computed in Python (Keras 3's `keras.utils.PyDataset`,
    also named `Sequence`).

    A subclass implements `__getitem__(index)` (a whole batch, e.g. an `(x, y)` tuple) and
    `__len__()` (the number of batches), or the `num_batches` property instead of `__len__`
    (`None` for an endless dataset). `on_epoch_begin` / `on_epoch_end` run around each epoch of
    `fit`, e.g. to reshuffle. A subclass's `__init__` should pass `**kwargs` on to
    `super().__init__`.

    Args:
        workers: Number of workers `fit` may use to fetch batches in parallel.
        use_multiprocessing: Whether those workers are processes (the dataset must then
            pickle) rather than threads.
        max_queue_size: Most batches kept ready ahead of the model.

    The three arguments only tell `fit` how to iterate; iterating a PyDataset by hand
    (`for batch in dataset`) fetches batches one after another, as in Keras.

    >>> class Squares(PyDataset):
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, index):
    ...         return np.array([index]), np.array([index ** 2])
    >>> [y.tolist() for _, y in Squares()]
    [[0], [1]]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        name = type(self).__name__
        _check_count(name, "workers", workers, 0)
        _check_count(name, "max_queue_size", max_queue_size, 0)
        if not isinstance(use_multiprocessing, (bool, np.bool_)):
            raise ValueError(f"{name}: `use_multiprocessing` must be a bool, "
                             f"got {use_multiprocessing!r}.")
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        # A subclass that skipped super().__init__() still works, with Keras's defaults.
        defaults = {"_workers": 1, "_use_multiprocessing": False, "_max_queue_size": 10}
        missing = [k for k in defaults if k not in self.__dict__]
        for key in missing:
            setattr(self, key, defaults[key])
        if missing:
            warnings.warn(f"{type(self).__name__} should call `super().__init__(**kwargs)` in "
                          "its constructor; `**kwargs` can include `workers`, "
                          "`use_multiprocessing` and `max_queue_size` (fit() does not take "
                          "them).", stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position `index`."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index), "
                                  "returning one batch.")

    @property
    def num_batches(self):
        """The number of batches (`len(self)`), or `None` for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must implement __len__() or the "
                                  "`num_batches` property (None for an endless dataset).")

    def __iter__(self):
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        indices = itertools.count() if count is None else range(count)
        for index in indices:
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset


def _split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """Keras's size rules: ints count samples, floats in (0, 1) are fractions (rounded), a
    missing side is the complement, and neither side may end up empty."""
    sizes = {"left_size": left_size, "right_size": right_size}
    if left_size is None and right_size is None:
        raise ValueError("split_dataset: at least one of `left_size` or `right_size` must be "
                         "given; got None for both.")
    for name, size in sizes.items():
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"split_dataset: `{name}` must be an int, a float or None, got "
                            f"{type(size).__name__}.")
        if (type(size) is int and not 0 < size < total) or (
                type(size) is float and not 0 < size < 1):
            raise ValueError(f"split_dataset: `{name}` must be an int in [1, {total - 1}] or a "
                             f"float in (0, 1) for a dataset of {total} samples, got {size!r}.")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(f"split_dataset: the fractions left_size={left_size} and "
                         f"right_size={right_size} add up to more than 1.")
    left, right = (round(s * total) if type(s) is float else s for s in (left_size, right_size))
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"split_dataset: left_size + right_size = {left + right} samples, more "
                         f"than the dataset's {total}.")
    for side, n in (("left", left), ("right", right)):
        if n == 0:
            raise ValueError(f"split_dataset: with {total} samples, left_size={left_size} and "
                             f"right_size={right_size} leave the {side} split empty.")
    return int(left), int(right)


def _as_arrays(dataset) -> tuple[list[np.ndarray], bool]:
    """The dataset's arrays (several for a tuple or list) and whether it was a single array."""
    if isinstance(dataset, np.ndarray):
        return [dataset], True
    if not isinstance(dataset, (list, tuple)):
        raise TypeError("split_dataset: `dataset` must be a NumPy array, a list or tuple of "
                        "arrays, or a torch.utils.data.Dataset, got "
                        f"{type(dataset).__name__}.")
    if not dataset:
        raise ValueError("split_dataset: `dataset` is an empty list or tuple; pass arrays.")
    for i, a in enumerate(dataset):
        if not isinstance(a, np.ndarray):
            raise ValueError(f"split_dataset: expected a {type(dataset).__name__} of NumPy "
                             f"arrays, got {type(a).__name__} at index {i}.")
        if a.ndim == 0 or len(a) != len(dataset[0]):
            raise ValueError(f"split_dataset: the arrays must have the same length; the array "
                             f"at index {i} has shape {a.shape}, the first "
                             f"{dataset[0].shape}.")
    return list(dataset), False


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Splits a dataset into a left and a right part (e.g. train and test).

    Keras returns two `tf.data.Dataset`s (two `torch` Subsets on its torch backend); rnnkit
    returns the parts as the input came: a NumPy array gives arrays, a tuple or list of
    arrays gives tuples of arrays (ready for `fit(x, y)`), a `torch.utils.data.Dataset` gives
    two `torch.utils.data.Subset`s. Where the two sizes add up to less than the whole, the
    samples between them are left out, as Keras leaves them. With `shuffle`, the samples are
    permuted as Keras permutes them (Python's `random`, seeded by `seed`), without touching
    the global random state.

    Args:
        dataset: A NumPy array, a list or tuple of equally long arrays, or a torch Dataset.
        left_size: Samples in the left part: an int, a float fraction in (0, 1), or `None` for
            the complement of `right_size`.
        right_size: Likewise for the right part.
        shuffle: Whether to shuffle the samples before splitting.
        seed: Seed of the shuffle (`None`: a random one).

    Returns:
        `(left, right)`.

    >>> left, right = split_dataset(np.arange(10), left_size=0.8)
    >>> left.tolist(), right.tolist()
    ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    is_torch = isinstance(dataset, torch.utils.data.Dataset)
    if is_torch:
        total = len(dataset)
    else:
        arrays, single = _as_arrays(dataset)
        total = len(arrays[0])
    if total == 0:
        raise ValueError("split_dataset: `dataset` is empty.")
    left, right = _split_sizes(left_size, right_size, total)
    order = list(range(total))
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(order)
    parts = (order[:left], order[total - right:])
    if is_torch:
        return tuple(torch.utils.data.Subset(dataset, idx) for idx in parts)
    if single:
        return tuple(arrays[0][idx] for idx in parts)
    return tuple(tuple(a[idx] for a in arrays) for idx in parts)
