"""The Callback base and the callbacks that watch training: History, LambdaCallback,
TerminateOnNaN, EarlyStopping, ModelCheckpoint (Keras 3)."""

from __future__ import annotations

import math
import operator
import os
import warnings


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
    """Saves the model (or only its weights) after each epoch; `filepath` may hold
    `{epoch:02d}` and any logged value, e.g. "ckpt-{epoch:02d}-{val_loss:.2f}.rnnkit".

    Under torchrun only rank 0 writes; the others track `best` alike, from the same logs."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        if save_freq != "epoch":
            raise NotImplementedError("ModelCheckpoint: only save_freq='epoch' is supported.")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if not self._should_save_model(epoch, logs, path) or not _is_chief():
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
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
