"""Losses, metrics, activations and initializers against real Keras 3."""

import numpy as np
import pytest
import torch

from rnnkit import activations, initializers, layers, losses
from rnnkit.models import Sequential
from helpers import Golden, assert_close

META = Golden().meta["functions"]


def _array(golden, name):
    if name in ("zeros", "ones"):
        return getattr(np, name)((4, 3), dtype=np.float32)
    return golden[f"functions/{name}"]


@pytest.mark.parametrize("case", sorted(META["losses"]))
def test_loss_values_match_keras(golden, case):
    meta = META["losses"][case]
    kwargs = {k: v for k, v in meta["config"].items() if k in ("from_logits", "delta")}
    loss = getattr(losses, meta["class"])(**kwargs)
    y_true = torch.from_numpy(_array(golden, meta["y_true"]))
    y_pred = torch.from_numpy(_array(golden, meta["y_pred"]))
    assert float(loss(y_true, y_pred)) == pytest.approx(meta["value"], rel=2e-6)


@pytest.mark.parametrize("case", sorted(META["accuracy"]))
def test_accuracy_is_resolved_like_keras(golden, case):
    meta = META["accuracy"][case]
    model = Sequential([layers.Input((3,)), layers.Dense(meta["dense_units"],
                                                         activation=meta["dense_activation"])])
    model.set_weights(golden.seq(f"functions/accuracy/{case}/w", 2))
    model.compile(optimizer="sgd", loss=meta["loss"], metrics=["accuracy"])
    x, y = golden["functions/accuracy/x"], golden[f"functions/accuracy/{case}/y"]
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert result == pytest.approx(meta["evaluate"], rel=2e-6)
    assert type(model.metrics[1]).__name__ == meta["resolved_metric_classes"][0]
    assert_close(model.predict(x, verbose=0), golden[f"functions/accuracy/{case}/pred"])


@pytest.mark.parametrize("name", sorted(k for k in META["activations"] if k != "softmax_x"))
def test_activation_values_match_keras(golden, name):
    fn = activations.get(name)
    x = golden["functions/activations/softmax_x" if name == "softmax" else "functions/activations/x"]
    assert_close(fn(torch.from_numpy(x)), golden[f"functions/activations/{name}"], tol=1e-6)


def test_hard_sigmoid_is_keras3_definition():
    x = torch.tensor([-4.0, -3.0, 0.0, 1.5, 3.0, 4.0])
    assert activations.hard_sigmoid(x).tolist() == [0.0, 0.0, 0.5, 0.75, 1.0, 1.0]


INIT_STATS = Golden().meta["initializers"]


@pytest.mark.parametrize("name", sorted(INIT_STATS))
def test_initializer_distribution_matches_keras(name):
    """Same family, same scale: min/max bound and standard deviation agree with Keras's draw."""
    keras = INIT_STATS[name]["stats"]["64x64" if name == "identity" else "64x256"]
    shape = (64, 64) if name == "identity" else (64, 256)
    ours = initializers.get(name)(shape)
    assert tuple(ours.shape) == shape
    std = float(ours.std())
    assert std == pytest.approx(keras["std"], rel=0.05, abs=1e-7)
    # the largest magnitude marks the family: ±limit (uniform), 2σ (truncated), ~4σ (normal)
    ours_extreme = float(ours.abs().max())
    keras_extreme = max(abs(keras["min"]), abs(keras["max"]))
    assert ours_extreme == pytest.approx(keras_extreme, rel=0.2, abs=1e-7)
    assert float(ours.mean()) == pytest.approx(keras["mean"], abs=0.01 + 3 * keras["std"] / 128)


def test_orthogonal_rows_are_orthonormal_for_wide_kernels():
    u = initializers.get("orthogonal")((16, 64)).double()
    assert_close(u @ u.T, np.eye(16), tol=1e-6)


def test_glorot_uniform_limit_uses_fan_avg():
    w = initializers.get("glorot_uniform")((1, 512))
    limit = (6 / (1 + 512)) ** 0.5
    assert float(w.abs().max()) <= limit
    assert float(w.abs().max()) > 0.9 * limit


def test_seeded_initializer_is_reproducible():
    a = initializers.GlorotUniform(seed=3)((4, 5))
    b = initializers.GlorotUniform(seed=3)((4, 5))
    assert torch.equal(a, b)
