"""The cases of tests/data/make_keras_lr_callbacks.py (recorded with Keras) and
tests/test_lr_callbacks.py (replayed with rnnkit): ReduceLROnPlateau configurations fed a fixed
sequence of logged values, and LearningRateScheduler schedules, each by name, and the code that
drives them with keras or rnnkit (`lib`)."""

import numpy as np

VALUES = [1.0, 0.9, 0.95, 0.95, 0.94, 0.96, 0.5, 0.5, 0.51, 0.49999, 0.52, 0.6, 0.7, 0.4]

PLATEAU = {
    "default_patience_2": {"monitor": "loss", "patience": 2},
    "halve_with_cooldown": {"monitor": "loss", "factor": 0.5, "patience": 1, "cooldown": 2},
    "min_lr_floor": {"monitor": "loss", "factor": 0.2, "patience": 1, "min_lr": 0.005},
    "large_min_delta": {"monitor": "loss", "factor": 0.5, "patience": 1, "min_delta": 0.2},
    "max_mode": {"monitor": "val_auc", "mode": "max", "factor": 0.5, "patience": 1},
}

SCHEDULES = {
    "halve_each_epoch": lambda epoch, lr: lr * 0.5,
    "step_by_epoch": lambda epoch: 0.1 if epoch < 3 else 0.01,
    "exponential": lambda epoch, lr: float(0.1 * 0.8 ** epoch),
}


def model(lib):
    """A compiled model whose optimizer is SGD(0.1), made with keras or rnnkit (`lib`)."""
    m = lib.Sequential([lib.Input((2,)), lib.layers.Dense(1)])
    m.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    return m


def rate(m):
    return float(np.float32(m.optimizer.learning_rate))


def run_plateau(lib, kwargs):
    """The rate after each epoch, and the logged one, of ReduceLROnPlateau(**kwargs) fed VALUES."""
    m, cb = model(lib), lib.callbacks.ReduceLROnPlateau(**kwargs)
    cb.set_model(m)
    cb.on_train_begin()
    rates, logged = [], []
    for epoch, value in enumerate(VALUES):
        logs = {kwargs["monitor"]: value}
        cb.on_epoch_end(epoch, logs)
        rates.append(rate(m))
        logged.append(logs["learning_rate"])
    return {"rates": rates, "logged": logged}


def run_scheduler(lib, fn):
    """The rate at each of six epochs, and the logged one, of LearningRateScheduler(fn)."""
    m, cb = model(lib), lib.callbacks.LearningRateScheduler(fn)
    cb.set_model(m)
    rates, logged = [], []
    for epoch in range(6):
        cb.on_epoch_begin(epoch)
        rates.append(rate(m))
        logs = {"loss": 1.0}  # (Keras replaces empty logs by a dict of its own)
        cb.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    return {"rates": rates, "logged": logged}
