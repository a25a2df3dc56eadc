"""Keras 3 fixtures of CSVLogger for tests/test_csv_logger.py: the file it writes for fixed
epoch logs (validation values only some epochs, a metric of several values, a ";" separator),
and after a second run with append=True.

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_csv_logger.py
"""

import json
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))

import keras  # noqa: E402
import numpy as np  # noqa: E402

EPOCHS = [{"loss": 1.5, "mae": 0.75},
          {"loss": 1.25, "mae": 0.5, "val_loss": 1.0, "val_mae": 0.625},
          {"loss": 0.875, "mae": np.array([0.25, 0.5])}]


def run(path, **kwargs):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    cb = keras.callbacks.CSVLogger(path, **kwargs)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, logs in enumerate(EPOCHS):
        cb.on_epoch_end(epoch, dict(logs))
    cb.on_train_end()
    with open(path, newline="") as f:
        return f.read()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "log.csv")
        out = {"keras": keras.__version__, "plain": run(path),
               "epochs": [{k: np.asarray(v).tolist() for k, v in logs.items()}
                          for logs in EPOCHS],
               "appended": run(path, append=True),
               "semicolon": run(os.path.join(folder, "semi.csv"), separator=";")}
    with open(os.path.join(HERE, "keras_csv_logger.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
