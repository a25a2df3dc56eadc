"""Keras 3 fixtures of the learning-rate callbacks for tests/test_lr_callbacks.py: for each case of
tests/data/lr_callback_cases.py, the optimizer's learning rate (SGD(0.1) in a compiled model)
after each epoch of a ReduceLROnPlateau fed the fixed values, and at each epoch of a
LearningRateScheduler, with the logged "learning_rate".

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_lr_callbacks.py
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import lr_callback_cases as cases  # noqa: E402


def model():
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return m


def rate(m):
    return float(np.asarray(m.optimizer.learning_rate))


def plateau(kwargs):
    m, cb = model(), keras.callbacks.ReduceLROnPlateau(**kwargs)
    cb.set_model(m)
    cb.on_train_begin()
    rates, logged = [], []
    for epoch, value in enumerate(cases.VALUES):
        logs = {kwargs["monitor"]: value}
        cb.on_epoch_end(epoch, logs)
        rates.append(rate(m))
        logged.append(logs["learning_rate"])
    return {"rates": rates, "logged": logged}


def scheduler(fn):
    m, cb = model(), keras.callbacks.LearningRateScheduler(fn)
    cb.set_model(m)
    rates, logged = [], []
    for epoch in range(6):
        cb.on_epoch_begin(epoch)
        rates.append(rate(m))
        logs = {"loss": 1.0}  # (Keras replaces empty logs by a dict of its own)
        cb.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    return {"rates": rates, "logged": logged}


if __name__ == "__main__":
    out = {"keras": keras.__version__,
           "plateau": {k: plateau(v) for k, v in cases.PLATEAU.items()},
           "scheduler": {k: scheduler(v) for k, v in cases.SCHEDULES.items()}}
    with open(os.path.join(HERE, "keras_lr_callbacks.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
