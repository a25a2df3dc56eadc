"""Keras 3 fixtures of fit, evaluate and predict fed from generators, PyDatasets, torch
DataLoaders and arrays, for tests/test_data_sources_keras.py: for each case of
tests/data/data_source_cases.py (steps_per_epoch smaller and larger than the data,
validation_steps, validation_freq as an int and a list, initial_epoch, a generator that runs
out), the model's seeded initial weights, the data, then the History (and its epochs), the
batches trained in each epoch, how many "ran out of data" and "shuffle ignored" warnings Keras
gave, the final weights, and evaluate's and predict's results from the same form of data.

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_data_sources.py

Writes tests/data/keras_data_sources.json and .npz (the kerasenv has torch, so Keras on JAX
reads the DataLoaders itself).
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import data_source_cases as cases  # noqa: E402
from keras_fixture_common import case_rng  # noqa: E402


def record(case, arrays):
    rng = case_rng(f"data_sources/{case}")
    keras.backend.clear_session()
    weights = [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32")
               for w in cases.build(keras, case).get_weights()]
    data = cases.arrays(np, rng)
    for name, a in zip(("x", "y", "x_val", "y_val"), data):
        arrays[f"{case}/{name}"] = a
    for i, w in enumerate(weights):
        arrays[f"{case}/w{i}"] = w
    keras.backend.clear_session()
    result = cases.run(keras, torch, np, case, weights, data)
    arrays[f"{case}/predict"] = result.pop("predict")
    for i, w in enumerate(result.pop("weights")):
        arrays[f"{case}/fit_w{i}"] = w
    result["n_weights"] = len(weights)
    return result


if __name__ == "__main__":
    arrays = {}
    out = {"keras": keras.__version__, "cases": {c: record(c, arrays) for c in cases.CASES}}
    with open(os.path.join(HERE, "keras_data_sources.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    np.savez_compressed(os.path.join(HERE, "keras_data_sources.npz"), **arrays)
