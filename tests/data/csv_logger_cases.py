"""The epoch logs CSVLogger is fed in tests/data/make_keras_csv_logger.py (with Keras) and
tests/test_csv_logger.py (with rnnkit), and the code that feeds them (`lib`: keras or rnnkit):
validation values only some epochs, a metric of several values."""

import numpy as np

EPOCHS = [{"loss": 1.5, "mae": 0.75},
          {"loss": 1.25, "mae": 0.5, "val_loss": 1.0, "val_mae": 0.625},
          {"loss": 0.875, "mae": np.array([0.25, 0.5])}]


def run(lib, path, **kwargs):
    """The text of the file CSVLogger(path, **kwargs) writes for EPOCHS."""
    cb = lib.callbacks.CSVLogger(path, **kwargs)
    cb.set_model(lib.Sequential([lib.Input((1,)), lib.layers.Dense(1)]))
    cb.on_train_begin()
    for epoch, logs in enumerate(EPOCHS):
        cb.on_epoch_end(epoch, dict(logs))
    cb.on_train_end()
    with open(path, newline="") as f:
        return f.read()
