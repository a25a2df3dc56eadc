"""Every case of tests/data/keras_layers/<area>.json (written by real Keras 3 with
tests/data/make_keras_layers_<area>.py), rebuilt by rnnkit from the same spec with the same code
(tests/data/layer_specs.py): summary, names, weights, predictions, three Adam steps, Keras's saved
.keras and .h5 files, rnnkit's config round trip and its own file."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit
from rnnkit.interop import load_keras
from helpers import (LAYER_CASES, assert_close, fresh_names,  # noqa: F401
                     keras_table_rows, one_or_list, summary_of)

FOLDER = LAYER_CASES.folder
CASES = LAYER_CASES.all
SAVED = [(area, name, ext) for area, name in CASES
         if LAYER_CASES.meta(area, name)["spec"].get("files", True) for ext in ("keras", "h5")]
TRAINED = [(area, name) for area, name in CASES if "losses" in LAYER_CASES.meta(area, name)]
meta, arrays, model_of = LAYER_CASES.meta, LAYER_CASES.arrays, LAYER_CASES.model

pytestmark = pytest.mark.usefixtures("fresh_names")


def _ids(params):
    return ["/".join(p) for p in params]


def as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def assert_predicts_as_keras(model, area, name):
    x = one_or_list(arrays(area, name, "x"))
    got = as_list(model.predict(x, verbose=0))
    for ours, theirs in zip(got, arrays(area, name, "predict"), strict=True):
        assert_close(ours, theirs)


@pytest.mark.parametrize("area, name", CASES, ids=_ids(CASES))
def test_summary_matches_keras(area, name, monkeypatch, capsys):
    text = summary_of(model_of(area, name, weights=False), monkeypatch, capsys, "120")
    theirs = meta(area, name)["summary"]
    if "(NotEqual)" in theirs:  # Keras's mask ops (NotEqual, Any, LogicalOr, ...) have rows of
        layers = set(meta(area, name)["layer_names"])  # their own; its layers' rows are compared
        assert keras_table_rows(text) == [row for row in keras_table_rows(theirs, drop=())
                                          if row[0].rsplit(" (", 1)[0] in layers]
    else:
        assert text == theirs


@pytest.mark.parametrize("area, name", CASES, ids=_ids(CASES))
def test_names_and_weights_match_keras(area, name):
    model = model_of(area, name, weights=False)
    info = meta(area, name)
    assert [layer.name for layer in model.layers] == info["layer_names"]
    assert [type(layer).__name__ for layer in model.layers] == info["layer_classes"]
    assert [list(w.shape) for w in model.weights] == info["weight_shapes"]
    assert len(model.trainable_weights) == info["trainable_weights"]
    assert model.count_params() == info["total_params"]


@pytest.mark.parametrize("area, name", CASES, ids=_ids(CASES))
def test_predictions_match_keras(area, name):
    assert_predicts_as_keras(model_of(area, name), area, name)


@pytest.mark.parametrize("area, name", TRAINED, ids=_ids(TRAINED))
def test_three_adam_steps_match_keras(area, name):
    model = model_of(area, name)
    model.compile(optimizer=rnnkit.optimizers.Adam(0.01), loss="mean_squared_error")
    x, y = one_or_list(arrays(area, name, "x")), one_or_list(arrays(area, name, "y"))
    losses = [model.train_on_batch(x, y) for _ in range(3)]
    np.testing.assert_allclose(losses, meta(area, name)["losses"], rtol=2e-5, atol=1e-7)
    for ours, theirs in zip(model.get_weights(), arrays(area, name, "step3_w"), strict=True):
        assert_close(ours, theirs)


@pytest.mark.parametrize("area, name, ext", SAVED, ids=_ids(SAVED))
def test_keras_file_loads_and_predicts_as_keras(area, name, ext):
    model = load_keras(FOLDER / area / f"{name}.{ext}")
    assert [layer.name for layer in model.layers] == meta(area, name)["layer_names"]
    assert_predicts_as_keras(model, area, name)


@pytest.mark.parametrize("area, name", CASES, ids=_ids(CASES))
def test_config_round_trip_and_own_file(area, name, tmp_path):
    model = model_of(area, name)
    config = model.get_config()
    again = rnnkit.Model.from_config(config)
    assert again.get_config() == config
    again.set_weights(model.get_weights())
    assert_predicts_as_keras(again, area, name)
    if not meta(area, name)["spec"].get("files", True):
        return
    model.save(tmp_path / "model.rnnkit")
    assert_predicts_as_keras(rnnkit.models.load_model(tmp_path / "model.rnnkit"), area, name)
