"""`keras.preprocessing.sequence` as Keras 2 programs import it (Keras 3 keeps these in
`keras.src.legacy.preprocessing.sequence`): `pad_sequences`, `TimeseriesGenerator`,
`make_sampling_table`, `skipgrams`."""

from __future__ import annotations

import json
import random

import numpy as np

from ..utils.py_dataset import PyDataset
from ..utils.sequences import pad_sequences

__all__ = ["pad_sequences", "TimeseriesGenerator", "make_sampling_table", "skipgrams"]


class TimeseriesGenerator(PyDataset):
    """Batches of windows that end just before each target step (deprecated in Keras; prefer
    `rnnkit.utils.timeseries_dataset_from_array`).

    The sample of target `targets[i]` is `data[i - length:i:sampling_rate]`, for `i` from
    `start_index + length` to `end_index` (inclusive) in steps of `stride`.

    Args:
        data: Indexable time steps (axis 0 is time).
        targets: As long as `data`; `targets[i]` is the target of the window ending before `i`.
        length: Steps a window spans (before sampling).
        sampling_rate: Steps between successive steps of a window.
        stride: Steps between successive windows.
        start_index: First step a window may use.
        end_index: Last target step used (`None`: the last step).
        shuffle: Draw each batch's windows at random (with replacement, from NumPy's global
            generator, as Keras does) instead of in order.
        reverse: Give each window's steps in reverse order.
        batch_size: Windows per batch.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` (see `PyDataset`).

    >>> gen = TimeseriesGenerator(np.arange(10), np.arange(10), length=3, batch_size=2)
    >>> x, y = gen[0]
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2], [1, 2, 3]], [3, 4])
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0,
                 end_index=None, shuffle=False, reverse=False, batch_size=128, **kwargs):
        super().__init__(**kwargs)
        if len(data) != len(targets):
            raise ValueError(f"TimeseriesGenerator: data and targets must have the same length; "
                             f"data has {len(data)} steps, targets {len(targets)}.")
        for name, value in (("length", length), ("sampling_rate", sampling_rate),
                            ("stride", stride), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"TimeseriesGenerator: `{name}` must be an int >= 1, "
                                 f"got {value!r}.")
        self.data, self.targets = data, targets
        self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse, self.batch_size = shuffle, reverse, batch_size
        if self.start_index > self.end_index:
            raise ValueError(f"TimeseriesGenerator: `start_index+length={self.start_index} > "
                             f"end_index={self.end_index}` is disallowed, as no part of the "
                             "sequence would be left to be used as current step.")

    def __len__(self):
        span = self.batch_size * self.stride
        return (self.end_index - self.start_index + span) // span

    def __getitem__(self, index):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            last = min(first + self.batch_size * self.stride, self.end_index + 1)
            rows = np.arange(first, last, self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate]
                            for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        return (samples[:, ::-1, ...] if self.reverse else samples), targets

    def get_config(self):
        """The generator's arguments, `data` and `targets` as JSON strings."""
        def as_json(name, values):
            values = values.tolist() if isinstance(values, np.ndarray) else values
            try:
                return json.dumps(values)
            except TypeError as e:
                raise TypeError(f"TimeseriesGenerator: {name} are not JSON serializable: "
                                f"{values!r}") from e
        return {"data": as_json("data", self.data), "targets": as_json("targets", self.targets),
                "length": self.length, "sampling_rate": self.sampling_rate,
                "stride": self.stride, "start_index": self.start_index,
                "end_index": self.end_index, "shuffle": self.shuffle, "reverse": self.reverse,
                "batch_size": self.batch_size}

    def to_json(self, **kwargs):
        """`{"class_name": ..., "config": get_config()}` as JSON; kwargs go to `json.dumps`."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                          **kwargs)


def make_sampling_table(size, sampling_factor=1e-5):
    """word2vec's keep-probabilities by word rank, under Zipf's law.

    `p(rank) = min(1, sqrt(f / s) / (f / s))` with the frequency of a rank approximated as
    `1 / (rank * (log(rank) + gamma) + 1/2 - 1/(12 * rank))` (rank 0 counted as rank 1).

    Args:
        size: Number of word ranks.
        sampling_factor: `s` in the formula.

    Returns:
        A float array of length `size`.

    >>> make_sampling_table(3).round(4).tolist()
    [0.0032, 0.0032, 0.0055]
    """
    gamma = 0.577  # Euler-Mascheroni, rounded as Keras rounds it
    rank = np.arange(size)
    rank[0] = 1
    f = sampling_factor * (rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank))
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True,
              categorical=False, sampling_table=None, seed=None):
    """Skip-gram pairs of a word-index sequence: `(word, neighbour)` labelled 1, and
    `(word, random word)` labelled 0.

    Index 0 is not a word and is skipped. Draws come from Python's global `random`, as in
    Keras; `seed` fixes only the final shuffle.

    Args:
        sequence: List of word indices.
        vocabulary_size: Largest word index + 1 (negatives are drawn from 1 to this - 1).
        window_size: Half-width of the neighbourhood.
        negative_samples: Negatives per positive (0 for none).
        shuffle: Whether to shuffle the pairs (and their labels alike).
        categorical: Labels as `[0, 1]` / `[1, 0]` instead of 1 / 0.
        sampling_table: Keep-probability of each index (see `make_sampling_table`).
        seed: Seed of the shuffle.

    Returns:
        `(couples, labels)`, two lists.

    >>> skipgrams([1, 2], 3, negative_samples=0, shuffle=False)
    ([[1, 2], [2, 1]], [1, 1])
    """
    couples, labels = [], []
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    for i, wi in enumerate(sequence):
        if not wi or (sampling_table is not None and sampling_table[wi] < random.random()):
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append(positive)
    if negative_samples > 0:
        count = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[i % len(words)], random.randint(1, vocabulary_size - 1)]
                    for i in range(count)]
        labels += [negative] * count
    if shuffle:
        seed = random.randint(0, 10**7) if seed is None else seed
        # The same seed before each shuffle keeps pairs and labels aligned.
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels
