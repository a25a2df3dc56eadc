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

import lr_callback_cases as cases  # noqa: E402


if __name__ == "__main__":
    out = {"keras": keras.__version__,
           "plateau": {k: cases.run_plateau(keras, v) for k, v in cases.PLATEAU.items()},
           "scheduler": {k: cases.run_scheduler(keras, v) for k, v in cases.SCHEDULES.items()}}
    with open(os.path.join(HERE, "keras_lr_callbacks.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
