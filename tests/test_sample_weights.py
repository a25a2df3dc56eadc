"""Sample and class weights against Keras 3 (tests/data/make_keras_sample_weights.py): fit's
History and final weights, evaluate, and three train_on_batch steps, per sample, per time step
with a mask, and by class (one-hot targets and class ids), with metrics (never weighted) and
weighted_metrics (logged as weighted_<name> where the name is taken)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import rnnkit
from helpers import DATA, assert_close, fresh_names  # noqa: F401

sys.path.insert(0, str(DATA))
import sample_weight_cases as cases  # noqa: E402

RECORDED = json.loads((DATA / "keras_sample_weights.json").read_text())
FIXTURE = RECORDED["cases"]
ARRAYS = np.load(DATA / "keras_sample_weights.npz")
pytestmark = pytest.mark.usefixtures("fresh_names")


def arrays(case, prefix, n):
    return [ARRAYS[f"{case}/{prefix}{i}"] for i in range(n)]


def model_of(case, metrics=None):
    model = cases.build(rnnkit, case)
    model.set_weights(arrays(case, "w", FIXTURE[case]["n_weights"]))
    model.compile(optimizer=rnnkit.optimizers.Adam(0.01), loss=cases.loss(case),
                  **(cases.metrics(case) if metrics is None else metrics))
    return model


def weights_of(case):
    if f"{case}/sample_weight" in ARRAYS.files:
        return {"sample_weight": ARRAYS[f"{case}/sample_weight"]}
    return {"class_weight": cases.CLASS_WEIGHT}


@pytest.mark.parametrize("case", sorted(cases.CASES))
def test_fit_and_evaluate_with_weights_match_keras(case):
    model, x, y = model_of(case), ARRAYS[f"{case}/x"], ARRAYS[f"{case}/y"]
    kw = weights_of(case)
    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0, **kw)
    assert sorted(history.history) == sorted(FIXTURE[case]["history"])  # weighted_<name> too
    for key, values in FIXTURE[case]["history"].items():
        np.testing.assert_allclose(history.history[key], values, rtol=2e-5, err_msg=key)
    for ours, theirs in zip(model.get_weights(), arrays(case, "fit_w", len(model.weights)),
                            strict=True):
        assert_close(ours, theirs)
    evaluate_kw = {k: v for k, v in kw.items() if k == "sample_weight"}
    assert model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True,
                          **evaluate_kw) == pytest.approx(FIXTURE[case]["evaluate"], rel=2e-5)


@pytest.mark.parametrize("case", sorted(cases.CASES))
def test_train_on_batch_with_weights_matches_keras(case):
    model, x, y = model_of(case), ARRAYS[f"{case}/x"], ARRAYS[f"{case}/y"]
    steps = [model.train_on_batch(x, y, return_dict=True, **weights_of(case)) for _ in range(3)]
    for ours, theirs in zip(steps, FIXTURE[case]["steps"], strict=True):
        assert ours == pytest.approx(theirs, rel=2e-5)
    for ours, theirs in zip(model.get_weights(), arrays(case, "step3_w", len(model.weights)),
                            strict=True):
        assert_close(ours, theirs)


def test_metrics_of_a_masked_output_weigh_steps_with_the_mask_as_keras_on_torch():
    """Keras on JAX averages every step in fit's metrics; on torch it weighs them with the mask."""
    case, expected = "masked_lstm_temporal_weight", RECORDED["masked_metrics"]
    model, x, y = model_of(case, cases.MASKED_METRICS), ARRAYS[f"{case}/x"], ARRAYS[f"{case}/y"]
    kw = weights_of(case)
    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0, **kw)
    assert sorted(history.history) == sorted(expected["history"])
    for key, values in expected["history"].items():
        np.testing.assert_allclose(history.history[key], values, rtol=2e-5, err_msg=key)
    assert model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True,
                          **kw) == pytest.approx(expected["evaluate"], rel=2e-5)
    model = model_of(case, cases.MASKED_METRICS)
    steps = [model.train_on_batch(x, y, return_dict=True, **kw) for _ in range(3)]
    assert steps == [pytest.approx(s, rel=2e-5) for s in expected["steps"]]


def test_weights_of_zero_leave_samples_out_and_validation_takes_three_arrays():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)).astype(np.float32), rng.standard_normal((6, 1))
    weights = np.array([1, 1, 1, 0, 0, 0], np.float32)
    model = rnnkit.Sequential([rnnkit.Input((3,)), rnnkit.layers.Dense(1)])
    model.compile("sgd", "mse")
    whole = model.evaluate(x, y, sample_weight=weights, verbose=0)
    # sum_over_batch_size: the weighted sum over all six samples
    assert whole == pytest.approx(model.evaluate(x[:3], y[:3], verbose=0) / 2, rel=1e-6)
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y, weights))
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x, y, sample_weight=weights, verbose=0), rel=1e-6)
