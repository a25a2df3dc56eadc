"""The cases of tests/data/make_keras_lr_callbacks.py (recorded with Keras) and
tests/test_lr_callbacks.py (replayed with rnnkit): ReduceLROnPlateau configurations fed a fixed
sequence of logged values, and LearningRateScheduler schedules, each by name."""

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
