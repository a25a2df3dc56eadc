"""What fit, evaluate and predict take besides arrays: a Python generator or iterator, a
`rnnkit.utils.PyDataset`, a `torch.utils.data.DataLoader`, or a map-style torch `Dataset` (which
Keras does not take: rnnkit batches it with a DataLoader of `batch_size`, shuffled as fit's
`shuffle` says). Each yields batches as Keras reads them: `x`, `(x,)`, `(x, y)` or
`(x, y, sample_weight)` (a list counts as a tuple, as in Keras).

Shuffling, as Keras defines it for each form: a PyDataset's batch order is shuffled each epoch when
`shuffle=True` (its batches are kept whole); a generator, an iterator and a DataLoader are read in
their own order (the DataLoader's sampler decides). A PyDataset's `workers` and
`use_multiprocessing` are read but its batches are fetched in this process, one after another
(the same batches, in the same order, as Keras's workers give).
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from . import data


def is_source(x) -> bool:
    """Whether x is one of the non-array forms above (anything else is read as arrays)."""
    from ..utils import PyDataset

    if isinstance(x, (PyDataset, torch.utils.data.DataLoader, torch.utils.data.Dataset)):
        return True
    if isinstance(x, (np.ndarray, torch.Tensor, list, tuple, dict, str, bytes)):
        return False
    return inspect.isgenerator(x) or hasattr(x, "__next__")


def unpack(where: str, batch):
    """(x, y, sample_weight) of one batch, as Keras unpacks it."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if not 1 <= len(batch) <= 3:
        raise ValueError(f"{where}: expected each batch as x, (x,), (x, y) or (x, y, "
                         f"sample_weight), got a tuple of {len(batch)}.")
    return (*batch, *([None] * (3 - len(batch))))


class BatchSource:
    """Batches from one of the forms above, an epoch at a time.

    `num_batches` is the number of batches in an epoch, or None where the source does not say
    (a generator); `epoch(steps)` iterates the next epoch's batches, at most `steps` of them.
    A generator's or iterator's batches continue from epoch to epoch, as Keras reads them.
    """

    def __init__(self, where: str, x, batch_size: int, shuffle: bool):
        from ..utils import PyDataset

        self.where, self.shuffle = where, bool(shuffle)
        self._dataset = x if isinstance(x, PyDataset) else None
        if isinstance(x, torch.utils.data.Dataset) and not isinstance(x, PyDataset):
            x = torch.utils.data.DataLoader(x, batch_size=batch_size, shuffle=shuffle)
        self._loader = x if isinstance(x, torch.utils.data.DataLoader) else None
        self._iterator = None if self._dataset is not None or self._loader is not None else x
        self.exhausted = False

    @property
    def num_batches(self) -> int | None:
        if self._dataset is not None:
            return self._dataset.num_batches
        if self._loader is not None:
            try:
                return len(self._loader)
            except TypeError:  # an IterableDataset without a length
                return None
        return None

    def epoch(self, steps: int | None = None):
        """The batches of one epoch, unpacked; sets `exhausted` when a generator or iterator
        ran out before `steps` batches (Keras stops training then)."""
        if self._dataset is not None:
            yield from self._dataset_epoch(steps)
            return
        source = iter(self._loader) if self._loader is not None else self._iterator
        for step in range(steps) if steps is not None else iter(int, 1):
            try:
                batch = next(source)
            except StopIteration:
                self.exhausted = self._iterator is not None or steps is not None
                return
            yield unpack(self.where, batch)
            del step

    def _dataset_epoch(self, steps):
        dataset = self._dataset
        dataset.on_epoch_begin()
        order = (torch.randperm(dataset.num_batches) if self.shuffle
                 else torch.arange(dataset.num_batches)).tolist()
        for index in order[:steps]:
            yield unpack(self.where, dataset[index])
        dataset.on_epoch_end()


class ArrayBatches:
    """An epoch's (x, y, sample_weight) batches of arrays (tensors already checked): index
    batches of `batch_size`, shuffled each epoch where asked (data-parallel: each process's
    share)."""

    def __init__(self, trainer, x, y, batch_size: int, shuffle: bool, sample_weight=None):
        self.trainer, self.x, self.y, self.sample_weight = trainer, x, y, sample_weight
        self.batch_size, self.shuffle = batch_size, shuffle
        self.steps = data.num_batches(data.count(x), batch_size)
        self.exhausted = False

    def epoch(self):
        for idx in self.trainer._batch_indices(data.count(self.x), self.batch_size, self.shuffle):
            yield (data.take(self.x, idx), None if self.y is None else data.take(self.y, idx),
                   None if self.sample_weight is None else data.take(self.sample_weight, idx))


class SourceBatches:
    """An epoch's batches from a BatchSource, each checked as arrays are (`trainer._tensors`);
    `steps` (steps_per_epoch, validation_steps, steps) bounds an epoch, else the source's own
    length, else the source running out."""

    def __init__(self, trainer, where: str, source: BatchSource, steps, need_y: bool,
                 class_weight=None):
        from ..layers._checks import check_int

        self.trainer, self.where, self.source, self.need_y = trainer, where, source, need_y
        self.class_weight = class_weight
        self.steps = check_int(where, "steps", steps) if steps is not None else source.num_batches
        self._epochs = 0

    @property
    def exhausted(self) -> bool:
        return self.source.exhausted

    def epoch(self):
        """The epoch's (x, y, sample_weight) tensors (class_weight turned into sample weights
        batch by batch, as Keras does); a first epoch without a batch is an error (nothing
        trains on nothing); a later one ends training, as when Keras's input runs out."""
        empty = True
        for x, y, sample_weight in self.source.epoch(self.steps):
            empty = False
            x, y = self.trainer._tensors(self.where, x, y, need_y=self.need_y)
            yield x, y, (None if y is None else data.sample_weights(
                self.where, sample_weight, self.class_weight, y, self.trainer._float_dtype()))
        if empty and self._epochs == 0:
            raise ValueError(f"{self.where}: the data gave no batch; expected at least one.")
        self._epochs += 1


def batches_for(trainer, where, x, y, batch_size, shuffle, steps, steps_name, need_y=True,
                sample_weight=None, class_weight=None):
    """An epoch's batches of x, y and sample weights: ArrayBatches, or SourceBatches for a
    generator, PyDataset or DataLoader (which bring their own targets, weights and batch
    size)."""
    if is_source(x):
        if y is not None or sample_weight is not None:
            raise ValueError(f"{where}: expected y=None and sample_weight=None when x is a "
                             "generator, PyDataset or DataLoader (its batches hold them).")
        if trainer._dist is not None:
            raise NotImplementedError(f"{where}: data-parallel training from a generator, "
                                      "PyDataset or DataLoader is not supported yet; pass "
                                      "arrays.")
        source = BatchSource(where, x, batch_size, shuffle)
        return SourceBatches(trainer, where, source, steps, need_y, class_weight)
    if steps is not None:
        raise NotImplementedError(f"{where}: {steps_name}= with arrays is not supported "
                                  "yet; it is taken with a generator, PyDataset or "
                                  "DataLoader.")
    x, y = trainer._tensors(where, x, y, need_y=need_y)
    weights = None if y is None else data.sample_weights(where, sample_weight, class_weight, y,
                                                          trainer._float_dtype())
    return ArrayBatches(trainer, x, y, batch_size, shuffle, weights)


def split_validation(trainer, where, train, fraction, batch_size):
    """Keras's validation_split of array batches: the last `fraction` of the samples (and
    of their weights), before any shuffling."""
    if not isinstance(train, ArrayBatches):
        raise ValueError(f"{where}: validation_split needs arrays; with a generator, "
                         "PyDataset or DataLoader pass validation_data.")
    (tx, ty), (vx, vy) = data.validation_split(where, train.x, train.y, fraction)
    tw = vw = None
    if train.sample_weight is not None:
        (tw, _), (vw, _) = data.validation_split(where, train.sample_weight, train.y, fraction)
    return (ArrayBatches(trainer, tx, ty, train.batch_size, train.shuffle, tw),
            ArrayBatches(trainer, vx, vy, batch_size, False, vw))
