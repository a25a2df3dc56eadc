"""What every tests/data/make_keras_layers_<area>.py script records with real Keras 3 (JAX backend)
for each of its cases, read back by tests/test_keras_layer_cases.py without Keras.

Run a script from the repository root, in an environment with keras, jax, jaxlib, numpy and h5py
(no torch, no TensorFlow), e.g. a venv made by
``python3 -m venv kerasenv && kerasenv/bin/pip install keras jax jaxlib numpy h5py``::

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_layers_merging.py

It writes, for area <area>:

* ``keras_layers/<area>.json``: versions, and per case its spec (tests/data/layer_specs.py), the
  120-column ``summary()``, ``get_config()``, layer names and classes, weight paths and shapes,
  the three training losses (with several outputs, Keras's list per step);
* ``keras_layers/<area>.npz`` (float32 unless the input is integer), per case ``<case>/x{k}``,
  ``<case>/w{i}`` (weights set before anything runs: uniform in [-0.5, 0.5], variances in
  [0.5, 1.5]), ``<case>/predict{k}``, ``<case>/y{k}`` (targets), ``<case>/step3_w{i}`` (weights
  after three ``train_on_batch`` steps of Adam(0.01) on the mean squared error);
* ``keras_layers/<area>/<case>.keras`` and ``.h5`` (saved with the initial weights; zip members
  rewritten with deflate).

Everything is seeded from the case name, and ``clear_session`` runs before each case so layer names
start from scratch: re-running gives the same arrays.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

import jax  # noqa: E402
import keras  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layer_specs  # noqa: E402
from keras_fixture_common import case_rng, deflate, jsonable, summary_text  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keras_layers")


def initial_weights(model, rng):
    weights = []
    for v in model.weights:
        low, high = (0.5, 1.5) if v.path.endswith("variance") else (-0.5, 0.5)
        weights.append(rng.uniform(low, high, size=tuple(v.shape)).astype(np.float32))
    return weights


def as_list(structure):
    return list(structure) if isinstance(structure, (list, tuple)) else [structure]


def record_case(area, name, spec, arrays, out_dir):
    """Build, run, save and train one case; arrays gets its npz entries."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    rng = case_rng(f"{area}/{name}")
    model = layer_specs.build(spec, keras)
    xs = layer_specs.make_inputs(spec, rng, np)
    weights = initial_weights(model, rng)
    model.set_weights(weights)
    predict = [np.asarray(p) for p in as_list(model.predict(xs, verbose=0))]
    meta = {
        "spec": spec,
        "summary": summary_text(model),
        "config": jsonable(model.get_config()),
        "layer_names": [layer.name for layer in model.layers],
        "layer_classes": [type(layer).__name__ for layer in model.layers],
        "weight_paths": [v.path for v in model.weights],
        "weight_shapes": [list(v.shape) for v in model.weights],
        "trainable_weights": len(model.trainable_weights),
        "total_params": model.count_params(),
    }
    for k, x in enumerate(xs):
        arrays[f"{name}/x{k}"] = x
    for i, w in enumerate(weights):
        arrays[f"{name}/w{i}"] = w
    for k, p in enumerate(predict):
        arrays[f"{name}/predict{k}"] = p.astype(np.float32)
    if spec.get("files", True):
        for ext in ("keras", "h5"):
            path = os.path.join(out_dir, f"{name}.{ext}")
            model.save(path)
            if ext == "keras":
                deflate(path)
    if spec.get("train", True):
        ys = [rng.normal(size=p.shape).astype(np.float32) for p in predict]
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mean_squared_error")
        target = ys if len(ys) > 1 else ys[0]
        # one loss per step, or (several outputs) Keras's list: the total, then each output's
        meta["losses"] = [jsonable(model.train_on_batch(xs if len(xs) > 1 else xs[0], target))
                          for _ in range(3)]
        for k, y in enumerate(ys):
            arrays[f"{name}/y{k}"] = y
        for i, w in enumerate(model.get_weights()):
            arrays[f"{name}/step3_w{i}"] = np.asarray(w, dtype=np.float32)
    return meta


def write_area(area, cases):
    """Record every case of `cases` ({name: spec}) for the area."""
    out_dir = os.path.join(OUT, area)
    os.makedirs(out_dir, exist_ok=True)
    arrays, meta = {}, {}
    for name, spec in cases.items():
        meta[name] = record_case(area, name, spec, arrays, out_dir)
        print(f"{area}/{name}: ok")
    info = {"keras": keras.__version__, "jax": jax.__version__, "numpy": np.__version__,
            "cases": meta}
    with open(os.path.join(OUT, f"{area}.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
    np.savez_compressed(os.path.join(OUT, f"{area}.npz"), **arrays)
