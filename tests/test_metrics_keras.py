"""rnnkit.metrics against Keras 3's numbers (tests/data/make_keras_metrics.py) and against
plain numpy formulas: every class over three batches (with and without sample_weight), after
reset_state, its name, config and direction; the names compile gives; and compiled models
logging Keras's History keys and evaluate values."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit import layers, metrics
from rnnkit.models import Sequential
from rnnkit.utils.naming import clear_session

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
import metric_specs  # noqa: E402  (beside the fixture script that shares it)
FIXTURE = json.loads((DATA / "keras_metrics.json").read_text())
ARRAYS = np.load(DATA / "keras_metrics.npz")
CASES = FIXTURE["cases"]
RTOL, ATOL = 1e-6, 1e-7  # Keras accumulates in float32 variables; rnnkit in float64


def _close(got, expected):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=RTOL, atol=ATOL)


def _metric(case):
    kwargs = dict(case["kwargs"])
    if kwargs.get("fn") == "mean_squared_error":
        kwargs["fn"] = metrics.mean_squared_error
    return getattr(metrics, case["class"])(**kwargs)


def _update(metric, name, k, as_torch=False):
    y, p, w = (ARRAYS.get(f"{name}/{k}/{key}") for key in ("y", "p", "w"))
    if as_torch:
        y, p, w = (None if a is None else torch.from_numpy(a) for a in (y, p, w))
    if y is None:
        metric.update_state(p, sample_weight=w)
    else:
        metric.update_state(y, p, sample_weight=w)


@pytest.mark.parametrize("name", sorted(CASES))
def test_metric_matches_keras(name):
    case = CASES[name]
    clear_session()
    metric = _metric(case)
    assert metric.name == case["name"]
    assert metric.direction == case["direction"]
    for k, expected in enumerate(case["results"]):
        _update(metric, name, k, as_torch=k % 2 == 1)  # numpy and torch inputs alike
        _close(metric.result(), expected)
    metric.reset_state()
    _close(metric.result(), case["after_reset"])
    _update(metric, name, 3)
    _close(metric.result(), case["last"])
    config = metric.get_config()
    if "fn" in config:
        config["fn"] = "mean_squared_error"
    assert config == case["config"]


@pytest.mark.parametrize("name", ["precision_sw", "auc_pr", "f1_weighted", "sparse_top_k2",
                                  "rmse_seq", "auc_multi_label_weights"])
def test_config_round_trip_gives_the_same_results(name):
    case = CASES[name]
    first = _metric(case)
    again = metrics.deserialize(metrics.serialize(first))
    assert type(again) is type(first) and again.get_config() == first.get_config()
    for k in range(3):
        _update(first, name, k)
        _update(again, name, k)
    _close(again.result(), first.result())


@pytest.mark.parametrize("ident", sorted(FIXTURE["names"]))
def test_identifiers_resolve_as_keras_compile_and_get_do(ident):
    expected = FIXTURE["names"][ident]
    clear_session()
    metric = metrics.get(ident, (2, 3), (2, 3))
    assert (type(metric).__name__, metric.name) == (expected["class"], expected["name"])
    clear_session()
    kind, detail = expected["get"]
    if kind == "ValueError":
        with pytest.raises(ValueError, match=f"unknown metric '{ident}'"):
            metrics.get(ident)
        return
    plain = metrics.get(ident)
    assert type(plain).__name__ == kind
    assert plain.name == ident  # Keras's get keeps the class default; compile renames it


# -- independent references ---------------------------------------------------------------------
def _auc_reference(y, p, n=200):
    """The trapezoid ROC AUC at Keras's thresholds, by comparison, in float64."""
    t = np.concatenate([[-1e-7], (np.arange(1, n - 1) / (n - 1)), [1 + 1e-7]]).astype(np.float32)
    above = p[None, :] > t[:, None]
    pos = y[None, :] > 0
    tp, fp = (above & pos).sum(1), (above & ~pos).sum(1)
    fn, tn = (~above & pos).sum(1), (~above & ~pos).sum(1)
    tpr, fpr = tp / np.maximum(tp + fn, 1), fp / np.maximum(fp + tn, 1)
    return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)


def test_auc_and_precision_recall_match_numpy_formulas():
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=300) > 0.4).astype(np.float32)
    p = np.clip(0.35 * y + rng.uniform(size=300) * 0.7, 0, 1).astype(np.float32)
    auc = metrics.AUC()
    for part in np.split(np.arange(300), 3):
        auc.update_state(y[part], p[part])
    assert auc.result() == pytest.approx(_auc_reference(y, p), rel=1e-9)
    w = rng.uniform(size=300).astype(np.float32)
    precision, recall = metrics.Precision(thresholds=[0.3, 0.6]), metrics.Recall()
    precision.update_state(y, p, sample_weight=w)
    recall.update_state(y, p, sample_weight=w)
    for j, t in enumerate((0.3, 0.6)):
        hit = p > t
        assert precision.result()[j] == pytest.approx((w * hit * y).sum() / (w * hit).sum(), 1e-6)
    assert recall.result() == pytest.approx((w * (p > 0.5) * y).sum() / (w * y).sum(), rel=1e-6)


def test_mean_wrapper_weighs_with_the_mask_of_the_predictions():
    """Keras's apply_mask: a (batch, time) mask times sample_weight; masked steps left out."""
    y, p = torch.randn(3, 4, 2), torch.randn(3, 4, 2)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=torch.bool)
    w = torch.tensor([1.0, 2.0, 0.5])
    per_step = ((y - p) ** 2).mean(-1)
    weight = mask * w[:, None]
    expected = float((per_step * weight).sum() / weight.sum())
    by_argument = metrics.MeanSquaredError()
    by_argument.update_state(y, p, sample_weight=w, mask=mask)
    p._keras_mask = mask
    carried = metrics.MeanSquaredError()
    carried.update_state(y, p, sample_weight=w)
    assert by_argument.result() == pytest.approx(expected, rel=1e-6)
    assert carried.result() == pytest.approx(expected, rel=1e-6)


def test_f1_and_top_k_match_numpy_formulas():
    rng = np.random.default_rng(1)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 50)]
    p = rng.uniform(size=(50, 4)).astype(np.float32)
    f1 = metrics.F1Score(average="macro")
    f1.update_state(y, p)
    hit = (p == p.max(1, keepdims=True)).astype(np.float64)
    tp, fp, fn = (hit * y).sum(0), (hit * (1 - y)).sum(0), ((1 - hit) * y).sum(0)
    prec, rec = tp / (tp + fp), tp / (tp + fn)
    assert f1.result() == pytest.approx(np.mean(2 * prec * rec / (prec + rec)), rel=1e-5)
    top2 = metrics.TopKCategoricalAccuracy(k=2)
    top2.update_state(y, p)
    rank = (p > (p * y).sum(1, keepdims=True)).sum(1)
    assert top2.result() == pytest.approx(np.mean(rank < 2), rel=1e-9)


def test_bad_arguments_are_refused_with_the_class_name():
    with pytest.raises(ValueError, match="AUC: invalid curve"):
        metrics.AUC(curve="LIFT")
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Precision: expected thresholds in"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="F1Score: invalid `average`"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match="FBetaScore: invalid `beta`"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="TopKCategoricalAccuracy: expected k"):
        metrics.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match="F1Score expects 2D inputs"):
        metrics.F1Score().update_state(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="unknown metric 'accuracyy'"):
        metrics.check("accuracyy")


# -- compiled models ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(metric_specs.MODELS))
def test_compiled_metrics_log_keras_names_and_values(kind):
    expected = FIXTURE["models"][kind]
    units, activation, loss = metric_specs.MODELS[kind]
    x, y, kernel, bias = (ARRAYS[f"model_{kind}/{key}"] for key in ("x", "y", "kernel", "bias"))
    clear_session()
    model = Sequential([layers.Input((4,)), layers.Dense(units, activation=activation)])
    model.set_weights([kernel, bias])
    model.compile(optimizer="sgd", loss=loss, metrics=metric_specs.model_metrics(kind, metrics))
    logs = model.evaluate(x, y, batch_size=8, return_dict=True, verbose=0)
    assert sorted(logs) == sorted(expected["evaluate"])
    for key, value in expected["evaluate"].items():
        np.testing.assert_allclose(np.asarray(logs[key], dtype=np.float64), value, rtol=2e-6,
                                   atol=1e-6, err_msg=key)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False,
                        validation_data=(x, y))
    assert sorted(history.history) == sorted(expected["history_keys"])
    assert model.metrics_names == expected["metrics_names"]
