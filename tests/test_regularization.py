"""Regularizers and constraints against real Keras 3 (tests/data/make_keras_fixtures.py):
names and configs, model.losses after a call, and training steps whose loss includes the
penalties and whose weights are projected by the constraints after each update."""

import numpy as np
import pytest
import torch

from rnnkit import constraints, layers, optimizers, regularizers
from rnnkit.models import Sequential, load_model
from helpers import assert_close


def _model(golden):
    meta = golden.meta["regularization"]
    stack = [layers.Input((5, 2))]
    for cls, kwargs in meta["layers"]:
        stack.append(getattr(layers, cls)(**kwargs))
    model = Sequential(stack)
    n = len(model.get_weights())
    model.set_weights(golden.seq("regularization/w_init", n))
    return model, meta, n


@pytest.mark.parametrize("kind,module", [("regularizers", regularizers), ("constraints", constraints)])
def test_names_give_keras_classes_and_configs(golden, kind, module):
    for name, want in golden.meta["regularization"][kind].items():
        obj = module.get(name)
        assert type(obj).__name__ == want["class_name"]
        assert obj.get_config() == pytest.approx(want["config"])


def test_model_losses_after_a_call_match_keras(golden):
    model, meta, _ = _model(golden)
    model(torch.as_tensor(golden["regularization/x"]))
    got = [float(v.detach()) for v in model.losses]
    np.testing.assert_allclose(got, meta["losses_after_call"], rtol=2e-5)


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_training_with_penalties_and_constraints_matches_keras(golden, opt):
    model, meta, n = _model(golden)
    model.compile(optimizer=optimizers.SGD(0.1) if opt == "sgd" else optimizers.Adam(0.01),
                  loss="mean_squared_error")
    x, y = golden["regularization/x"], golden["regularization/y"]
    losses = [model.train_on_batch(x, y) for _ in range(3)]
    np.testing.assert_allclose(losses, meta["runs"][opt]["losses"], rtol=2e-5)
    for got, want in zip(model.get_weights(), golden.seq(f"regularization/{opt}/step3_w", n)):
        assert_close(got, want)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), meta["runs"][opt]["evaluate"],
                               rtol=2e-5)


def test_penalties_and_projections_by_their_formulas():
    """Independent of Keras: the documented formulas in numpy."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    t = torch.as_tensor(w)
    assert float(regularizers.L1(0.3)(t)) == pytest.approx(0.3 * np.abs(w).sum(), rel=1e-6)
    assert float(regularizers.L2(0.2)(t)) == pytest.approx(0.2 * (w ** 2).sum(), rel=1e-6)
    assert float(regularizers.L1L2(0.1, 0.2)(t)) == pytest.approx(
        0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum(), rel=1e-6)
    norms = np.sqrt((w ** 2).sum(axis=0, keepdims=True))
    np.testing.assert_allclose(constraints.MaxNorm(1.0)(t), w * np.clip(norms, 0, 1) / (1e-7 + norms),
                               rtol=1e-6)
    np.testing.assert_allclose(constraints.UnitNorm()(t), w / (1e-7 + norms), rtol=1e-6)
    np.testing.assert_allclose(constraints.NonNeg()(t), np.maximum(w, 0))
    np.testing.assert_allclose(constraints.MinMaxNorm(0.5, 1.5, rate=0.5)(t),
                               w * (0.5 * np.clip(norms, 0.5, 1.5) + 0.5 * norms) / (1e-7 + norms),
                               rtol=1e-6)


def test_config_and_saving_keep_regularizers_and_constraints(golden, tmp_path):
    model, _, _ = _model(golden)
    model.compile(optimizer="adam", loss="mean_squared_error")
    x = golden["regularization/x"]
    path = tmp_path / "model.zip"
    model.save(path)
    loaded = load_model(path)
    for a, b in zip(model.layers, loaded.layers):
        assert a.get_config() == b.get_config()
    model(torch.as_tensor(x)), loaded(torch.as_tensor(x))
    np.testing.assert_allclose([float(v.detach()) for v in loaded.losses],
                               [float(v.detach()) for v in model.losses],
                               rtol=1e-6)


def test_unknown_names_are_refused_with_a_suggestion():
    with pytest.raises(ValueError, match="lstm.*unknown regularizer 'l3'"):
        layers.LSTM(2, kernel_regularizer="l3", name="lstm")
    with pytest.raises(ValueError, match="unknown constraint 'max_nrom'.*max_norm"):
        layers.Dense(2, kernel_constraint="max_nrom")


def test_activity_penalty_of_an_empty_batch_is_zero():
    layer = layers.Dense(2, activity_regularizer="l2", input_shape=(3,))
    layer(torch.zeros(0, 3))
    assert [float(v) for v in layer.losses] == [0.0]
