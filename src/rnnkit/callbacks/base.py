"""The Callback base and the callbacks that watch training: History, LambdaCallback,
TerminateOnNaN, EarlyStopping, ModelCheckpoint (Keras 3)."""

from __future__ import annotations

import math
import operator
import os
import warnings

_MODEL_EXTENSIONS = (".rnnkit", ".keras", ".h5")
_WEIGHT_EXTENSIONS = (".weights.h5", ".safetensors")

def _is_chief() -> bool:
    """Rank 0 under torchrun, or a single process: the only one that prints and writes."""
    from ..models.distributed import is_chief
    return is_chief()


def _print(message: str) -> None:
    if _is_chief():
        print(message)


class Callback:
    """Base class. `self.model` is set by fit/evaluate/predict; override any `on_*` method.

    As in Keras, `on_train_batch_begin`/`on_train_batch_end` call the older aliases
    `on_batch_begin`/`on_batch_end` unless overridden, so either name works.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


class CallbackList(Callback):
    """Calls every callback in order, always passing `logs` (a dict) as Keras does."""

    def __init__(self, callbacks, model, params):
        super().__init__()
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)


def _forward(hook: str, indexed: bool):
    if indexed:
        def method(self, index, logs=None):
            for cb in self.callbacks:
                getattr(cb, hook)(index, logs if logs is not None else {})
    else:
        def method(self, logs=None):
            for cb in self.callbacks:
                getattr(cb, hook)(logs if logs is not None else {})
    method.__name__ = hook
    return method


for _hook in [name for name in vars(Callback) if name.startswith("on_")]:
    setattr(CallbackList, _hook, _forward(_hook, "epoch" in _hook or "batch" in _hook))


class History(Callback):
    """Records every epoch's logs: `.history[name]` is a list with one value per epoch."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class LambdaCallback(Callback):
    """A callback from functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}.")
            setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            _print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class MonitorCallback(Callback):
    """Shared by EarlyStopping and ModelCheckpoint: which way `monitor` should move, and
    whether a value improves on a reference (Keras's MonitorCallback)."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: expected mode 'auto', 'min' or 'max', got "
                             f"{mode!r}.")
        self.monitor, self.mode = monitor, mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        """Mode "min" or "max" decides; "auto" makes the loss go down and a metric go the way
        its `direction` says, and refuses to guess for anything else (Keras 3)."""
        if self.mode != "auto":
            direction = "up" if self.mode == "max" else "down"
        else:
            name = self.monitor.removeprefix("val_")
            metrics = getattr(self.model, "metrics", None) or []
            direction = "down" if name == "loss" else next(
                (m.direction for m in metrics if m.name == name), None)
            if direction is None:
                raise ValueError(
                    f"{type(self).__name__}: cannot tell whether monitor={self.monitor!r} should "
                    "be maximized or minimized; pass mode='max' or mode='min'.")
        self.monitor_op = operator.gt if direction == "up" else operator.lt
        if direction == "down":
            self.min_delta = -self.min_delta

    def _is_improvement(self, value, reference) -> bool:
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))


class EarlyStopping(MonitorCallback):
    """Stops training when `monitor` has not improved by `min_delta` for `patience` epochs.

    With `restore_best_weights=True` the weights of the best epoch are restored when training
    ends, whether or not it stopped early (Keras 3).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose = patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait, self.stopped_epoch = 0, 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch = 0, 0
        self.best, self.best_weights, self.best_epoch = None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs or {})}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(MonitorCallback):
    """Saves the model (or only its weights) at the end of each epoch, or every `save_freq`
    batches (counted across epochs, as Keras counts them).

    `filepath` may hold `{epoch:02d}`, `{batch}` (batch-level saves: the 1-based batch of the
    epoch) and any logged value, e.g. "ckpt-{epoch:02d}-{val_loss:.2f}.rnnkit". rnnkit writes
    its own formats, whatever the name: a model file for ".rnnkit", ".keras" or ".h5" (Keras
    accepts only the last two), a weights file for ".weights.h5" or ".safetensors" with
    `save_weights_only`; other extensions are refused, as Keras refuses them. With
    `save_best_only` and an integer `save_freq`, `monitor` is read from the batch's logs (the
    running values of the epoch so far), as in Keras. Under torchrun only rank 0 writes; the
    others track `best` alike, from the same logs.

    Args:
        filepath: The path to write, a format string as above.
        monitor: The logged value save_best_only compares.
        verbose: 1 prints a line for each save.
        save_best_only: Save only when `monitor` improves.
        save_weights_only: Save the weights only (`model.save_weights`).
        mode: "auto", "min" or "max": which way `monitor` improves.
        save_freq: "epoch" or an integer number of batches.
        initial_value_threshold: The value `monitor` must first improve on.

    >>> ckpt = ModelCheckpoint("ckpt-{epoch:02d}-{batch:03d}.rnnkit", save_freq=100)
    >>> ckpt.save_freq
    100
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(
                save_freq, int) or save_freq < 1):
            raise ValueError("ModelCheckpoint: expected save_freq 'epoch' or an integer >= 1 "
                             f"(batches), got {save_freq!r}.")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving, self._last_batch_seen = 0, None
        self._current_epoch = 0
        extensions = _WEIGHT_EXTENSIONS if save_weights_only else _MODEL_EXTENSIONS
        if not self.filepath.endswith(extensions):
            what = "with save_weights_only=True, " if save_weights_only else ""
            raise ValueError(f"ModelCheckpoint: {what}expected a filepath ending in "
                             f"{' or '.join(extensions)}, got {self.filepath!r}.")

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs or {})

    def _should_save_on_batch(self, batch) -> bool:
        """Keras's count: batches since the last save, a new epoch restarting the index."""
        if self.save_freq == "epoch":
            return False
        last = self._last_batch_seen
        self._batches_seen_since_last_saving += (
            batch + 1 if last is None or batch <= last else batch - last)
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _file_path(self, epoch, batch, logs) -> str:
        """Keras's formatting: `batch` is 1-based, and left to the logs when they hold one."""
        fields = dict(logs) if batch is None or "batch" in logs else {**logs, "batch": batch + 1}
        try:
            return self.filepath.format(**{**fields, "epoch": epoch + 1})
        except KeyError as e:
            raise KeyError(f'ModelCheckpoint: failed to format the filepath "{self.filepath}": '
                           f"no value {e} in the logs ({', '.join(logs) or 'none'}).") from None

    def _save_model(self, epoch, batch, logs) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        path = self._file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, path) or not _is_chief():
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if os.path.isdir(path):
            raise IsADirectoryError(f"ModelCheckpoint: expected a file path, got the existing "
                                    f"directory {path!r}.")
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: finished saving model to {path}")

    def _should_save_model(self, epoch, logs, path) -> bool:
        """Keras's rule: always, unless save_best_only and a present value did not improve."""
        if not self.save_best_only:
            if self.verbose > 0:
                _print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if not self._is_improvement(value, self.best):
            if self.verbose > 0:
                _print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
            return False
        if self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {value:.5f}, "
                  f"saving model to {path}")
        self.best = value
        return True
