"""Keras 3 fixtures of sample and class weights, for tests/test_sample_weights.py: for each case
of tests/data/sample_weight_cases.py, the model with seeded weights, then `fit` (3 epochs, batch
4, no shuffling, Adam(0.01), metrics and weighted_metrics) with the weights (History and final
weights), `evaluate` with them, and three `train_on_batch` steps with them from the initial
weights (every logged value). The masked case is recorded a second time with metrics
(cases.MASKED_METRICS) by Keras on its torch backend, in a subprocess ("masked_metrics"): Keras on
JAX leaves the output mask out of the metrics `fit` logs, its torch and TensorFlow backends do not.
The Keras environment needs torch for that part.

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_sample_weights.py

Writes tests/data/keras_sample_weights.json and .npz.
"""

import json
import os
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import sample_weight_cases as cases  # noqa: E402
from keras_fixture_common import case_rng  # noqa: E402


def fresh(case, weights, metrics):
    keras.backend.clear_session()
    model = cases.build(keras, case)
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=cases.loss(case), **metrics)
    return model


def record(case, arrays, metrics=None):
    rng = case_rng(f"sample_weights/{case}")
    keras.backend.clear_session()
    model = cases.build(keras, case)
    weights = [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32")
               for w in model.get_weights()]
    x, y, kw = cases.data(case, rng, np)
    arrays.update({f"{case}/x": x, f"{case}/y": y})
    if "sample_weight" in kw:
        arrays[f"{case}/sample_weight"] = kw["sample_weight"]
    for i, w in enumerate(weights):
        arrays[f"{case}/w{i}"] = w
    metrics = cases.metrics(case) if metrics is None else metrics
    model = fresh(case, weights, metrics)
    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0, **kw)
    for i, w in enumerate(model.get_weights()):
        arrays[f"{case}/fit_w{i}"] = np.asarray(w)
    evaluate_kw = {"sample_weight": kw["sample_weight"]} if "sample_weight" in kw else {}
    evaluated = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True, **evaluate_kw)
    model = fresh(case, weights, metrics)
    steps = [model.train_on_batch(x, y, return_dict=True, **kw) for _ in range(3)]
    for i, w in enumerate(model.get_weights()):
        arrays[f"{case}/step3_w{i}"] = np.asarray(w)
    return {"history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            "evaluate": {k: float(v) for k, v in evaluated.items()},
            "steps": [{k: float(v) for k, v in s.items()} for s in steps],
            "n_weights": len(weights)}


MASKED = "masked_lstm_temporal_weight"


def masked_metrics_on_torch() -> dict:
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    out = subprocess.run([sys.executable, __file__], env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.splitlines()[-1])


if __name__ == "__main__":
    if keras.backend.backend() == "torch":
        print(json.dumps(record(MASKED, {}, cases.MASKED_METRICS)))
        sys.exit()
    arrays = {}
    out = {"keras": keras.__version__, "cases": {c: record(c, arrays) for c in cases.CASES},
           "masked_metrics": masked_metrics_on_torch()}
    with open(os.path.join(HERE, "keras_sample_weights.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    np.savez_compressed(os.path.join(HERE, "keras_sample_weights.npz"), **arrays)
