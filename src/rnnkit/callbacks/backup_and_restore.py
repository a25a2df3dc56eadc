"""BackupAndRestore (Keras 3): back up the training state while fit runs, and resume from the
backup when fit runs again after an interruption."""

from __future__ import annotations

import os
import pickle
import random
import secrets

import numpy as np
import torch

from .base import Callback, _is_chief

_FORMAT = "rnnkit-backup"
_FILE = "latest.backup.pt"
# What a damaged or half-written backup raises when torch.load reads it.
_READ_ERRORS = (OSError, RuntimeError, EOFError, pickle.UnpicklingError, ValueError, KeyError)


class BackupAndRestore(Callback):
    """Backs up the training state to `backup_dir` and, when fit starts again after an
    interruption, restores it, so that fit goes on from where the backup was made.

    The backup is one file, `backup_dir/latest.backup.pt` (rnnkit's format, not Keras's
    `latest.weights.h5` + `training_metadata.json`): a `torch.save` dictionary read back with
    `weights_only=True`, holding the weights, the optimizer's state (iterations, slots, rate),
    the epoch and batch reached, the compiled metrics' running states, and the random
    generators' states (torch's, CUDA's, numpy's and Python's global generators and the
    generators of layers made with a `seed`), so that the resumed run shuffles and draws
    dropout masks as the uninterrupted run would have. It is written to a temporary file in
    `backup_dir` and renamed over the previous one; under torchrun only rank 0 writes.

    Where rnnkit differs from Keras 3.15: with an integer `save_freq`, fit resumes at the batch
    after the backed-up one (it reads the epoch's earlier batches again, in the same shuffled
    order, without training on them; a generator is read from its start, so resuming within
    an epoch suits data that can be read again: arrays, a PyDataset, a DataLoader). Keras 3.15
    restarts that epoch from its first batch with the backed-up weights. Resumed runs therefore
    end with the same weights, optimizer state and epoch logs as an uninterrupted run.
    The states of stateful RNN layers are not backed up (as in Keras). At the end of training
    only the backup's own files are deleted (and `backup_dir` if it is left empty), where Keras
    deletes the whole directory.

    Args:
        backup_dir: The directory of the backup; keep it for this one training run.
        save_freq: "epoch" (back up at the end of each epoch) or an integer N >= 1 (back up
            every N batches, counted across epochs). Keras's `False` (TensorFlow preemption
            checkpointing) has no counterpart here and is refused.
        double_checkpoint: Keep the previous backup too (`latest.backup.pt.bkp`), and restore
            it when the latest cannot be read.
        delete_checkpoint: Delete the backup when training ends (not when it is interrupted).

    >>> import numpy as np, tempfile
    >>> from rnnkit import layers
    >>> from rnnkit.models import Sequential
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> backup = BackupAndRestore(tempfile.mkdtemp())
    >>> history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, verbose=0,
    ...                     callbacks=[backup])
    >>> history.epoch
    [0, 1, 2]
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"BackupAndRestore: expected a backup_dir, got {backup_dir!r}.")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(
                save_freq, (int, np.integer)) or save_freq < 1):
            raise ValueError("BackupAndRestore: expected save_freq 'epoch' or an integer >= 1 "
                             f"(batches), got {save_freq!r}.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._path = os.path.join(self.backup_dir, _FILE)
        self._prev_path = f"{self._path}.bkp"
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._epoch_rng = None

    # -- restoring ------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(
                "BackupAndRestore: the model must be built before fit() when it reads its data "
                f"from a generator, PyDataset or DataLoader; model {self.model.name!r} is not. "
                "Give it an Input layer, or call it on a batch first.")
        backup = self._read()
        if backup is None:
            return
        model = self.model
        model.set_weights([t.numpy() for t in backup["weights"]])
        _restore_optimizer(model, backup)
        epoch, step = backup["epoch"], backup["step"]
        model._initial_epoch, model._initial_step = epoch, step
        self._current_epoch = epoch
        self._last_batch_seen = max(step - 1, 0)
        self._batches_seen_since_last_saving = 0
        if step:  # within an epoch: replay its shuffle, then go on with the later draws
            set_rng_state(backup["epoch_rng"], model)
            model._resume_hook = lambda: (_restore_metrics(model, backup["metrics"]),
                                          set_rng_state(backup["rng"], model))
        else:
            set_rng_state(backup["rng"], model)

    def _read(self):
        """The latest backup, or the previous one where the latest cannot be read and a
        previous one was kept; None without any."""
        for path in (self._path, self._prev_path):
            if not os.path.exists(path):
                continue
            try:
                return _load(path)
            except _READ_ERRORS:
                if path == self._prev_path or not os.path.exists(self._prev_path):
                    raise
        return None

    # -- backing up -----------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        if self.save_freq != "epoch":
            self._epoch_rng = get_rng_state(self.model)

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0)

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save(self._current_epoch, batch + 1)

    def _should_save_on_batch(self, batch) -> bool:
        """Keras's count: the batches seen since the last backup, across epochs."""
        if self.save_freq == "epoch":
            return False
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save(self, epoch: int, step: int) -> None:
        """Writes the state after `step` batches of `epoch` (step 0: before the epoch)."""
        backup = _state(self.model, epoch, step, self._epoch_rng if step else None)
        if not _is_chief():
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            _atomic(self._prev_path, lambda tmp: _copy(self._path, tmp))
        _atomic(self._path, lambda tmp: torch.save(backup, tmp))

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not _is_chief():
            return
        for path in (self._path, self._prev_path):
            if os.path.exists(path):
                os.remove(path)
        if os.path.isdir(self.backup_dir) and not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)


# -- the backup's contents ----------------------------------------------------------------------
def _state(model, epoch: int, step: int, epoch_rng) -> dict:
    from ..models.saving import _optimizer_arrays

    opt = model.optimizer
    arrays = _optimizer_arrays(model) or {}
    rate = opt.param_groups[0]["lr"] if getattr(opt, "built", False) else None
    return {"format": _FORMAT, "version": 1, "epoch": epoch, "step": step,
            # Keras's training_metadata.json: the epoch and the last batch seen in it
            "batch": max(step - 1, 0),
            "weights": [torch.from_numpy(np.array(w)) for w in model.get_weights()],
            "optimizer": {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()},
            "learning_rate": rate if isinstance(rate, (int, float)) else None,
            "metrics": [_metric_state(m) for m in model.metrics] if step else [],
            "rng": get_rng_state(model), "epoch_rng": epoch_rng}


def _load(path: str) -> dict:
    backup = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(backup, dict) or backup.get("format") != _FORMAT:
        raise ValueError(f"BackupAndRestore: {path} is not an rnnkit backup (expected format "
                         f"{_FORMAT!r}).")
    return backup


def _restore_optimizer(model, backup) -> None:
    from ..models.saving import _restore_optimizer as restore

    restore(model, {k: v.numpy() for k, v in backup["optimizer"].items()})
    if backup["learning_rate"] is not None and getattr(model.optimizer, "built", False):
        for group in model.optimizer.param_groups:
            group["lr"] = backup["learning_rate"]


def _metric_state(metric) -> dict:
    """A metric's running state: its state tensors, or the floats a Mean or Sum keeps."""
    state = {"states": {k: v.clone() for k, v in getattr(metric, "_states", {}).items()}}
    for name in ("total", "count"):
        if isinstance(getattr(metric, name, None), float):
            state[name] = getattr(metric, name)
    if getattr(metric, "_legacy", None) is not None:
        state["legacy"] = _metric_state(metric._legacy)
    return state


def _restore_metrics(model, states) -> None:
    metrics = model.metrics
    if len(metrics) != len(states):
        raise ValueError(f"BackupAndRestore: the backup holds {len(states)} metric states, "
                         f"model {model.name!r} has {len(metrics)} metrics; was it compiled "
                         "otherwise?")
    for metric, state in zip(metrics, states):
        _set_metric_state(metric, state)


def _set_metric_state(metric, state) -> None:
    metric._states.update({k: v.clone() for k, v in state["states"].items()})
    for name in ("total", "count"):
        if name in state:
            setattr(metric, name, state[name])
    if "legacy" in state:
        _set_metric_state(metric._legacy, state["legacy"])


# -- random generators --------------------------------------------------------------------------
def _layer_generators(model) -> list[torch.Generator]:
    """The generators of layers made with a `seed` (dropout, noise), in module order."""
    return [m._generator for m in model.modules()
            if isinstance(getattr(m, "_generator", None), torch.Generator)]


def get_rng_state(model) -> dict:
    """Every generator fit draws from: torch's (and CUDA's), numpy's, Python's, the layers'."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
            "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
            "python": random.getstate(),
            "layers": [g.get_state() for g in _layer_generators(model)]}


def set_rng_state(state: dict, model) -> None:
    generators = _layer_generators(model)
    if len(generators) != len(state["layers"]):
        raise ValueError(f"BackupAndRestore: the backup holds {len(state['layers'])} layer "
                         f"generators, model {model.name!r} has {len(generators)}.")
    for generator, value in zip(generators, state["layers"]):
        generator.set_state(value)
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


# -- files --------------------------------------------------------------------------------------
def _atomic(path: str, write) -> None:
    """write(a temporary file beside `path`), then rename it over `path`."""
    name = f".{os.path.basename(path)}-{secrets.token_hex(6)}.tmp"
    tmp = os.path.join(os.path.dirname(path), name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _copy(source: str, target: str) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        dst.write(src.read())
