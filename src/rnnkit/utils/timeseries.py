"""Sliding windows over a time series: Keras 3's `timeseries_dataset_from_array`, as a
`PyDataset` of NumPy batches."""

from __future__ import annotations

import math

import numpy as np

from .py_dataset import PyDataset


def _as_array(values, name: str) -> np.ndarray:
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().cpu().numpy()
    values = np.asarray(values)
    if values.ndim == 0:
        raise ValueError(f"timeseries_dataset_from_array: `{name}` must have a time axis "
                         f"(axis 0), got a scalar.")
    return values


def _check_positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"timeseries_dataset_from_array: `{name}` must be an int > 0, "
                         f"got {value!r}.")


def _check_bounds(n: int, sequence_length, sequence_stride, sampling_rate, batch_size,
                  start_index, end_index) -> None:
    """Keras's checks (an index of 0 counts as not given), plus type checks of its own."""
    where = "timeseries_dataset_from_array"
    for name, value in (("sequence_length", sequence_length), ("sequence_stride",
                        sequence_stride), ("sampling_rate", sampling_rate)):
        _check_positive(name, value)
    if batch_size is not None:
        _check_positive("batch_size", batch_size)
    if start_index and not 0 <= start_index < n:
        raise ValueError(f"{where}: `start_index` must be in [0, {n}) for data of length {n}, "
                         f"got start_index={start_index}.")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"{where}: `end_index` must be higher than `start_index`, got "
                             f"start_index={start_index} and end_index={end_index}.")
        if not 0 < end_index < n:
            raise ValueError(f"{where}: `end_index` must be in (0, {n}) for data of length "
                             f"{n}, got end_index={end_index}.")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride",
                                                           sequence_stride)):
        if value >= n:
            raise ValueError(f"{where}: `{name}` must be lower than the length of the data "
                             f"({n}), got {name}={value}.")


class TimeseriesDataset(PyDataset):
    """The windows made by `timeseries_dataset_from_array`: item `i` is batch `i`, an `(x, y)`
    tuple of NumPy arrays (`x` alone when there are no targets; one sample per item when
    `batch_size` is None)."""

    def __init__(self, data, targets, starts, window, batch_size):
        super().__init__()
        self.data, self.targets = data, targets
        self.starts, self.window, self.batch_size = starts, window, batch_size

    def __len__(self):
        if self.batch_size is None:
            return len(self.starts)
        return math.ceil(len(self.starts) / self.batch_size)

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"TimeseriesDataset: batch index {index} is out of range for "
                             f"{len(self)} batches.")
        index %= len(self)
        if self.batch_size is None:
            starts = self.starts[index]
        else:
            starts = self.starts[index * self.batch_size:(index + 1) * self.batch_size]
        x = self.data[np.add.outer(starts, self.window)]
        return x if self.targets is None else (x, self.targets[starts])


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Windows of a time series and their targets, in batches.

    Window `k` starts at `p = start_index + k * sequence_stride` and holds
    `data[p], data[p + sampling_rate], ...` (`sequence_length` steps, all before `end_index`);
    its target is `targets[p]`. Keras returns a `tf.data.Dataset`; rnnkit returns a
    `PyDataset` of NumPy batches with the same windows and targets, which `fit` iterates.

    Args:
        data: Array (or torch tensor) of time steps; axis 0 is time.
        targets: `targets[i]` is the target of the window starting at `i`, or `None` to yield
            windows alone.
        sequence_length: Steps per window.
        sequence_stride: Steps between the starts of successive windows.
        sampling_rate: Steps between successive steps of a window.
        batch_size: Windows per batch (the last may be smaller); `None` yields single windows.
        shuffle: Whether to shuffle the windows. The order is Keras's first shuffle of the start
            positions (`np.random.RandomState(seed)`), fixed for every epoch; Keras shuffles
            once more within a buffer with TensorFlow's generator, which rnnkit does not
            reproduce.
        seed: Seed of the shuffle (`None`: a random one).
        start_index: First step that windows may use (`None`: 0).
        end_index: Steps from this one on are not used (`None`: the end of the data).

    Returns:
        A `PyDataset` whose items are `(x, y)` batches, `x` of shape
        `(batch, sequence_length) + data.shape[1:]`.

    >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10), 3, batch_size=4)
    >>> x, y = ds[0]
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 1, 2, 3])
    """
    data = _as_array(data, "data")
    _check_bounds(len(data), sequence_length, sequence_stride, sampling_rate, batch_size,
                  start_index, end_index)
    start = start_index or 0
    stop = len(data) if end_index is None else end_index
    count = stop - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = _as_array(targets, "targets")[start:stop]
        count = min(count, len(targets))
    starts = np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(starts)
    window = np.arange(sequence_length) * sampling_rate
    return TimeseriesDataset(data[start:stop], targets, starts, window, batch_size)
