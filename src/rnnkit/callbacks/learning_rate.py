"""Callbacks that set the optimizer's learning rate from epoch to epoch (Keras 3's
LearningRateScheduler and ReduceLROnPlateau); both log the rate as "learning_rate"."""

from __future__ import annotations

import warnings

import numpy as np

from .base import Callback, MonitorCallback, _print


def _rate(model) -> float:
    """The optimizer's current rate, as Keras reads its float32 variable."""
    return float(np.float32(model.optimizer.learning_rate))


class LearningRateScheduler(Callback):
    """Sets the learning rate to `schedule(epoch, lr)` (or `schedule(epoch)`) at the start of
    each epoch (counted from 0).

    Args:
        schedule: a function of (epoch, current rate) or of the epoch alone, returning a float.
        verbose: 1 prints the rate set, as Keras does.

    >>> LearningRateScheduler(lambda epoch, lr: lr * 0.9)  # doctest: +ELLIPSIS
    <...LearningRateScheduler object at ...>
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        try:
            rate = self.schedule(epoch, _rate(self.model))
        except TypeError:  # Keras's older form: schedule(epoch)
            rate = self.schedule(epoch)
        if not isinstance(rate, (float, np.float32, np.float64)):
            raise ValueError(f"LearningRateScheduler: expected the schedule to return a float, "
                             f"got {rate!r}.")
        self.model.optimizer.learning_rate = float(rate)
        if self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                   f"{rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _rate(self.model)


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` when `monitor` has not improved by more than
    `min_delta` for `patience` epochs, then waits `cooldown` epochs; never below `min_lr`.

    Args:
        monitor: the logged value to watch ("val_loss" by default).
        factor: the multiplier, below 1.
        patience: epochs without improvement before a reduction.
        verbose: 1 prints each reduction, as Keras does.
        mode: "auto", "min" or "max": which way `monitor` should move.
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs after a reduction before counting again.
        min_lr: the lowest rate.

    >>> ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2).factor
    0.5
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected keyword argument(s) "
                            f"{sorted(kwargs)}.")
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: expected factor below 1.0, got {factor}.")
        self.factor, self.min_lr, self.patience = factor, min_lr, patience
        self.verbose, self.cooldown = verbose, cooldown
        self.cooldown_counter = self.wait = 0

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _rate(self.model)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"ReduceLROnPlateau: the learning rate reduction is conditioned on "
                          f"{self.monitor!r}, which is not logged; logged: "
                          f"{', '.join(logs)}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter, self.wait = self.cooldown, 0

    def _reduce(self, epoch) -> bool:
        old = _rate(self.model)
        if old <= np.float32(self.min_lr):
            return False
        new = max(old * self.factor, self.min_lr)
        self.model.optimizer.learning_rate = new
        if self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
        return True
