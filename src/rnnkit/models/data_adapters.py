"""What fit, evaluate and predict read batches from, an epoch at a time, as Keras 3's
`EpochIterator` reads them: arrays, a Python generator or iterator, a `rnnkit.utils.PyDataset`,
a `torch.utils.data.DataLoader`, or a map-style torch `Dataset` (which Keras does not take:
rnnkit batches it with a DataLoader of `batch_size`, shuffled as fit's `shuffle` says). A
source's batches are read as Keras reads them: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`
(a list counts as a tuple).

Steps, as Keras counts them. Without `steps_per_epoch` an epoch is one pass over the data (a
generator: until it stops). With it, fit's epochs read on from where the last one stopped: an
epoch ends after `steps_per_epoch` batches, or early, with Keras's "ran out of data" warning, at
the end of a pass; the next epoch then starts a new pass (arrays reshuffled, the PyDataset's
order redrawn, the DataLoader iterated again). evaluate's `steps`, fit's `validation_steps` and
predict's `steps` read the first batches of a new pass each time. A generator or iterator is
read once: when it runs out, fit warns as Keras does and stops after that epoch (Keras 3.15
goes on, replaying the two batches it peeked at; rnnkit does not imitate that).

Shuffling, as Keras defines it for each form: arrays are permuted at each pass; a PyDataset's
batch order is redrawn at each pass when `shuffle=True` (its batches kept whole); a generator,
an iterator and a DataLoader are read in their own order (fit warns, as Keras does, that
`shuffle=True` is ignored for them). A PyDataset's `workers` and `use_multiprocessing` are read
but its batches are fetched in this process, one after another (the same batches, in the same
order, as Keras's workers give); its `on_epoch_begin` / `on_epoch_end` run once around each
epoch (Keras also calls `on_epoch_end` once before the first epoch).
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings

import numpy as np
import torch

from . import data

RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset "
           "or generator can generate at least `steps_per_epoch * epochs` batches. You may "
           "need to use the `.repeat()` function when building your dataset.")
_SHUFFLE_IGNORED = {
    "generator": "a generator. The generator is expected to yield already-shuffled data.",
    "torch DataLoader": "a torch DataLoader. The DataLoader is expected to already be "
                        "shuffled.",
    "infinite PyDataset": "an infinite PyDataset. The PyDataset is expected to already be "
                          "shuffled.",
}


def kind_of(x) -> str | None:
    """The form of a non-array x ("generator", "PyDataset", "torch DataLoader", "torch
    Dataset"), or None for arrays."""
    from ..utils import PyDataset

    if isinstance(x, PyDataset):
        return "PyDataset"
    if isinstance(x, torch.utils.data.DataLoader):
        return "torch DataLoader"
    if isinstance(x, torch.utils.data.Dataset):
        return "torch Dataset"
    if isinstance(x, (np.ndarray, torch.Tensor, list, tuple, dict, str, bytes)):
        return None
    return "generator" if inspect.isgenerator(x) or hasattr(x, "__next__") else None


def is_source(x) -> bool:
    """Whether x is one of the non-array forms above (anything else is read as arrays)."""
    return kind_of(x) is not None


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


class EpochReader:
    """Keras's EpochIterator over passes of batches: `new_pass()` gives an iterator over one
    pass (a generator's: the generator itself, read on), `num_batches` the length of a pass
    (None: unknown). `carry` (fit's training with steps_per_epoch) keeps a pass going from one
    epoch to the next; otherwise each epoch starts a new pass. `exhausted` is set once a
    `one_shot` source (a generator) has run out."""

    def __init__(self, new_pass, num_batches, steps, carry: bool, one_shot: bool):
        self._new_pass, self.num_batches, self.steps = new_pass, num_batches, steps
        self._carry, self._one_shot = carry and steps is not None, one_shot
        self._current, self._seen, self._ahead = None, 0, []
        self.exhausted = False

    def epoch(self):
        """The next epoch's raw batches."""
        limit = self.steps or self.num_batches
        if self._current is None or not self._carry:
            self._current, self._seen = self._new_pass(), 0
        for _ in range(limit) if limit is not None else itertools.count():
            if self.num_batches is not None and self._seen >= self.num_batches:
                warnings.warn(RAN_OUT, stacklevel=2)
                break
            batch = self._next()
            if batch is None:
                break
            self._seen += 1
            yield batch
        else:
            if self._carry and self._one_shot:
                # Keras finds a generator empty only at the next epoch, which then trains on
                # nothing; reading one batch ahead ends training after this epoch instead.
                self._ahead = [] if (batch := self._next()) is None else [batch]
        if self.num_batches is not None and self._seen >= self.num_batches:
            self._current = None

    def _next(self):
        """The next batch of the pass, or None (with Keras's warning) at its end."""
        if self._ahead:
            return self._ahead.pop()
        try:
            return next(self._current)
        except StopIteration:
            warnings.warn(RAN_OUT, stacklevel=3)
            self._current, self.exhausted = None, self._one_shot
            return None


def _source_reader(where: str, x, kind: str, batch_size: int, shuffle: bool, steps, carry):
    """An EpochReader over a generator, PyDataset or DataLoader (a map-style Dataset is
    batched by a DataLoader first); an endless PyDataset needs steps (Keras would loop
    forever)."""
    if kind == "torch Dataset":
        x = torch.utils.data.DataLoader(x, batch_size=batch_size, shuffle=shuffle)
    if kind == "generator":
        return EpochReader(lambda: x, None, steps, carry, one_shot=True)
    if kind == "PyDataset":
        count = x.num_batches
        if count is None and steps is None:
            raise ValueError(f"{where}: the PyDataset is endless (num_batches is None); pass "
                             "the number of batches to read (steps_per_epoch, "
                             "validation_steps or steps).")

        def new_pass():
            order = (itertools.count() if count is None else
                     torch.randperm(count).tolist() if shuffle else range(count))
            return (x[i] for i in order)
        return EpochReader(new_pass, count, steps, carry, one_shot=False)
    try:
        count = len(x)
    except TypeError:  # an IterableDataset without a length
        count = None
    return EpochReader(lambda: iter(x), count, steps, carry, one_shot=False)


def _check_not_empty(where: str, kind: str, x) -> None:
    """A PyDataset of no batch or a DataLoader of no sample is refused up front (Keras
    raises a bare StopIteration for them)."""
    count = None
    if kind == "PyDataset":
        count = x.num_batches
    elif kind in ("torch DataLoader", "torch Dataset"):
        dataset = x.dataset if kind == "torch DataLoader" else x
        count = len(dataset) if hasattr(dataset, "__len__") else None
    if count == 0:
        raise ValueError(f"{where}: expected a {kind} with at least one "
                         f"{'batch' if kind == 'PyDataset' else 'sample'}, got an empty one; "
                         "nothing trains on nothing.")


class ArrayBatches:
    """An epoch's (x, y, sample_weight) batches of arrays (tensors already checked): index
    batches of `batch_size`, shuffled at each pass where asked (data-parallel: each process's
    share); `steps` (Keras's steps_per_epoch, validation_steps or steps) as the module says."""

    def __init__(self, trainer, x, y, batch_size: int, shuffle: bool, sample_weight=None,
                 steps=None, carry=False):
        self.trainer, self.x, self.y, self.sample_weight = trainer, x, y, sample_weight
        self.batch_size, self.shuffle = batch_size, shuffle
        self.asked = (batch_size, steps, carry)  # batch_size as asked: see _arrays
        self._reader = EpochReader(self._pass, data.num_batches(data.count(x), batch_size),
                                   steps, carry, one_shot=False)
        self.steps = steps or self._reader.num_batches  # the progress bar's total
        self.exhausted = False

    def _pass(self):
        for idx in self.trainer._batch_indices(data.count(self.x), self.batch_size,
                                               self.shuffle):
            yield (data.take(self.x, idx), None if self.y is None else data.take(self.y, idx),
                   None if self.sample_weight is None else data.take(self.sample_weight, idx))

    def epoch(self):
        return self._reader.epoch()


class SourceBatches:
    """An epoch's batches from a generator, PyDataset or DataLoader, each checked as arrays
    are (`trainer._tensors`); `steps` bounds an epoch, else the source's own length, else the
    source running out."""

    def __init__(self, trainer, where: str, x, kind: str, batch_size: int, shuffle: bool,
                 steps, need_y: bool, class_weight=None, carry=False):
        self.trainer, self.where, self.need_y = trainer, where, need_y
        self.class_weight, self.kind = class_weight, kind
        self._dataset = x if kind == "PyDataset" else None
        self._reader = _source_reader(where, x, kind, batch_size, shuffle, steps, carry)
        self.steps = steps or self._reader.num_batches
        self._epochs = 0

    @property
    def exhausted(self) -> bool:
        return self._reader.exhausted

    def epoch(self):
        """The epoch's (x, y, sample_weight) tensors (class_weight turned into sample weights
        batch by batch, as Keras does). An epoch without a batch is an error: nothing trains
        on nothing, and a generator read to its end has nothing for a later validation."""
        if self._dataset is not None:
            self._dataset.on_epoch_begin()
        empty = True
        for batch in self._reader.epoch():
            empty = False
            x, y, sample_weight = unpack(self.where, batch)
            x, y = self.trainer._tensors(self.where, x, y, need_y=self.need_y)
            yield x, y, (None if y is None else data.sample_weights(
                self.where, sample_weight, self.class_weight, y, self.trainer._float_dtype()))
        if empty:
            later = (f" (the {self.kind} ran out in an earlier epoch: it is read once; pass "
                     "an endless one with validation_steps, or a PyDataset, DataLoader or "
                     "arrays, which are read again)") if self._epochs else ""
            raise ValueError(f"{self.where}: the data gave no batch; expected at least "
                             f"one{later}.")
        if self._dataset is not None:
            self._dataset.on_epoch_end()
        self._epochs += 1


def batches_for(trainer, where, x, y, batch_size, shuffle, steps, steps_name, need_y=True,
                sample_weight=None, class_weight=None):
    """An epoch's batches of x, y and sample weights: ArrayBatches, or SourceBatches for a
    generator, PyDataset or DataLoader (which bring their own targets, weights and batch
    size). fit's training (steps_name "steps_per_epoch") carries a pass over from epoch to
    epoch; `batch_size=None` is Keras's default: ceil(samples / steps) with steps, else 32.

    >>> import rnnkit
    >>> m = rnnkit.Sequential([rnnkit.Input((2,)), rnnkit.layers.Dense(1)])
    >>> batches_for(m, "fit", np.ones((10, 2)), np.ones((10, 1)), None, False, 3,
    ...             "steps_per_epoch").batch_size
    4
    """
    from ..layers._checks import check_int

    steps = None if steps is None else check_int(where, steps_name, steps)
    carry = steps_name == "steps_per_epoch"
    kind = kind_of(x)
    if kind is not None:
        for name, value, what in (("y", y, "the targets"),
                                  ("sample_weight", sample_weight, "the sample weights")):
            if value is not None:
                raise ValueError(f"{where}: when providing `x` as a {kind}, `{name}` should "
                                 f"not be passed. Instead, {what} should be included as part "
                                 f"of the {kind}.")
        if trainer._dist is not None:
            raise NotImplementedError(f"{where}: data-parallel training from a generator, "
                                      "PyDataset or DataLoader is not supported yet; pass "
                                      "arrays.")
        _check_not_empty(where, kind, x)
        endless = kind == "PyDataset" and x.num_batches is None
        ignored = "infinite PyDataset" if endless else kind
        if shuffle and ignored in _SHUFFLE_IGNORED:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` "
                          f"was provided as {_SHUFFLE_IGNORED[ignored]}", stacklevel=5)
        return SourceBatches(trainer, where, x, kind, batch_size or 32, shuffle, steps,
                             need_y, class_weight, carry)
    x, y = trainer._tensors(where, x, y, need_y=need_y)
    weights = None if y is None else data.sample_weights(where, sample_weight, class_weight, y,
                                                          trainer._float_dtype())
    return _arrays(trainer, x, y, batch_size, shuffle, weights, steps, carry)


def _arrays(trainer, x, y, batch_size, shuffle, weights, steps=None, carry=False):
    """ArrayBatches; `batch_size=None` is Keras's default, ceil(samples / steps) with steps,
    else 32 (kept as asked, for validation_split to apply it to the training part)."""
    size = batch_size or (math.ceil(data.count(x) / steps) if steps else 32)
    batches = ArrayBatches(trainer, x, y, size, shuffle, weights, steps, carry)
    batches.asked = (batch_size, steps, carry)
    return batches


def split_validation(trainer, where, train, fraction, batch_size, steps=None):
    """Keras's validation_split of array batches: the last `fraction` of the samples (and
    of their weights), before any shuffling; the training part keeps its steps_per_epoch,
    the validation part reads `steps` (validation_steps) batches of `batch_size`."""
    if not isinstance(train, ArrayBatches):
        raise ValueError(f"{where}: validation_split needs arrays; with a generator, "
                         "PyDataset or DataLoader pass validation_data.")
    (tx, ty), (vx, vy) = data.validation_split(where, train.x, train.y, fraction)
    tw = vw = None
    if train.sample_weight is not None:
        (tw, _), (vw, _) = data.validation_split(where, train.sample_weight, train.y, fraction)
    asked, train_steps, carry = train.asked
    return (_arrays(trainer, tx, ty, asked, train.shuffle, tw, train_steps, carry),
            _arrays(trainer, vx, vy, batch_size or asked, False, vw, steps))


def unpack_validation(where, validation_data):
    """(x, y, sample_weight) of validation_data: (x, y) or (x, y, sample_weight) arrays, or a
    generator, PyDataset or DataLoader (its batches hold the targets)."""
    if is_source(validation_data):
        return validation_data, None, None
    if isinstance(validation_data, (tuple, list)) and len(validation_data) == 3:
        return tuple(validation_data)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        got = (f"a {type(validation_data).__name__} of length {len(validation_data)}"
               if isinstance(validation_data, (tuple, list)) else type(validation_data).__name__)
        raise ValueError(f"{where}: expected validation_data=(x_val, y_val), got {got}.")
    return (*validation_data, None)
