"""fit, evaluate and predict fed from generators, PyDatasets, torch DataLoaders and arrays
against Keras 3 (tests/data/make_keras_data_sources.py): steps_per_epoch smaller and larger
than the data, validation_steps, validation_freq (an int and a list), initial_epoch and a
generator that runs out give Keras's History, batches per epoch, warnings, final weights, and
evaluate's and predict's results, replayed by the same code (tests/data/data_source_cases.py)."""

from __future__ import annotations

import json
import math
import sys
import warnings

import numpy as np
import pytest
import torch

import rnnkit
from helpers import DATA, assert_close, fresh_names  # noqa: F401

sys.path.insert(0, str(DATA))
import data_source_cases as cases  # noqa: E402

FIXTURE = json.loads((DATA / "keras_data_sources.json").read_text())["cases"]
ARRAYS = np.load(DATA / "keras_data_sources.npz")
pytestmark = pytest.mark.usefixtures("fresh_names")


def replay(case):
    data = [ARRAYS[f"{case}/{name}"] for name in ("x", "y", "x_val", "y_val")]
    weights = [ARRAYS[f"{case}/w{i}"] for i in range(FIXTURE[case]["n_weights"])]
    return cases.run(rnnkit, torch, np, case, weights, data)


@pytest.mark.parametrize("case", sorted(cases.CASES))
def test_fit_evaluate_predict_match_keras(case):
    ours, keras = replay(case), FIXTURE[case]
    assert ours["epoch"] == keras["epoch"]
    assert ours["steps_per_epoch"] == keras["steps_per_epoch"]
    assert ours["history"].keys() == keras["history"].keys()
    for key, values in keras["history"].items():
        np.testing.assert_allclose(ours["history"][key], values, rtol=2e-5, err_msg=key)
    for i, mine in enumerate(ours["weights"]):
        assert_close(mine, ARRAYS[f"{case}/fit_w{i}"])
    assert ours["evaluate"] == pytest.approx(keras["evaluate"], rel=2e-5)
    assert_close(ours["predict"], ARRAYS[f"{case}/predict"])
    assert ours["fit_warnings"] == keras["fit_warnings"]
    assert ours["evaluate_ran_out"] == keras["evaluate_ran_out"]


def test_arrays_steps_without_batch_size_take_keras_batch_size():
    """Keras: with steps_per_epoch (or evaluate's steps) and no batch_size, an array batch
    holds ceil(samples / steps) samples."""
    x, y = ARRAYS["arrays_more_steps/x"], ARRAYS["arrays_more_steps/y"]
    torch.manual_seed(0)
    model = cases.build(rnnkit, "arrays_more_steps")
    cases.compile_model(rnnkit, model, "arrays_more_steps")
    seen = []
    model.fit(x, y, steps_per_epoch=3, shuffle=False, verbose=0, callbacks=[
        rnnkit.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))])
    assert seen == [0, 1, 2]
    batch = math.ceil(len(x) / 3)
    full = model.evaluate(x, y, batch_size=batch, verbose=0)
    assert model.evaluate(x, y, steps=3, verbose=0) == pytest.approx(full, rel=1e-6)


def test_a_finite_generator_ends_fit_after_the_epoch_that_ran_out():
    """Keras 3.15 warns and goes on, training later epochs on the two batches it peeked at;
    rnnkit warns the same and stops: the first epoch is Keras's, and nothing follows it."""
    case = "generator_one_pass"
    data = [ARRAYS[f"{case}/{name}"] for name in ("x", "y", "x_val", "y_val")]
    model = cases.build(rnnkit, case)
    model.set_weights([ARRAYS[f"{case}/w{i}"] for i in range(FIXTURE[case]["n_weights"])])
    cases.compile_model(rnnkit, model, case)
    parts = cases.source(rnnkit, torch, "generator", data[0], data[1], count=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(**parts, epochs=4, shuffle=False, verbose=0)
    assert history.epoch == [0]
    np.testing.assert_allclose(history.history["loss"], FIXTURE[case]["history"]["loss"],
                               rtol=2e-5)
    assert sum(cases.RAN_OUT in str(w.message) for w in caught) == 1
