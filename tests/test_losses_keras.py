"""rnnkit's losses against Keras 3's recorded numbers (tests/data/make_keras_losses.py) and
against independent references (torch.nn.functional, numpy formulas)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit import losses

DATA = Path(__file__).parent / "data"
FIXTURE = json.loads((DATA / "keras_losses.json").read_text())
ARRAYS = np.load(DATA / "keras_losses.npz")
CASES = FIXTURE["cases"]
# Settings Keras's get_config leaves out (so its round trip loses them); rnnkit keeps them.
EXTRA_CONFIG = {"Huber": {"delta"}, "CosineSimilarity": {"axis"},
                "SparseCategoricalCrossentropy": {"axis"}}
# Names Keras 3's `get` refuses that rnnkit's knows: Keras 2's (older files use them), and the
# generalized cross-entropy that Keras exports but left out of its lookup table.
LEGACY_NAMES = {"logcosh", "kullback_leibler_divergence", "CategoricalGeneralizedCrossEntropy",
                "categorical_generalized_cross_entropy"}


def _inputs(data):
    return (torch.from_numpy(ARRAYS[f"{data}/y_true"]),
            torch.from_numpy(ARRAYS[f"{data}/y_pred"]))


def _weight(data, name):
    return None if name == "none" else torch.from_numpy(ARRAYS[f"{data}/w/{name}"])


def _close(got, want):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("key", sorted(CASES))
def test_class_values_match_keras_under_every_reduction_and_weight(key):
    case = CASES[key]
    y_true, y_pred = _inputs(case["data"])
    cls = getattr(losses, case["class"])
    for row in case["rows"]:
        loss = cls(reduction=row["reduction"], **case["settings"])
        weight = _weight(case["data"], row["weight"])
        where = f"{key} reduction={row['reduction']} weight={row['weight']}"
        if "error" in row:
            with pytest.raises((ValueError, TypeError, RuntimeError)):
                loss(y_true, y_pred, sample_weight=weight)
            continue
        got = loss(y_true, y_pred, sample_weight=weight)
        assert got.dtype == torch.float32, where
        assert tuple(got.shape) == np.shape(row["value"]), where
        _close(got.detach(), row["value"])


@pytest.mark.parametrize("key", sorted(CASES))
def test_function_per_sample_values_match_keras(key):
    case = CASES[key]
    y_true, y_pred = _inputs(case["data"])
    loss = getattr(losses, case["class"])(**case["settings"])
    fn = getattr(losses, case["function"])
    want = case["per_sample"]
    if "error" in want:
        with pytest.raises((ValueError, TypeError, RuntimeError)):
            fn(y_true, y_pred, **loss.fn_kwargs)
        return
    got = fn(y_true, y_pred, **loss.fn_kwargs)
    assert tuple(got.shape) == np.shape(want["value"])
    _close(got, want["value"])


@pytest.mark.parametrize("key", sorted(CASES))
def test_config_matches_keras_and_round_trips(key):
    case = CASES[key]
    loss = getattr(losses, case["class"])(**case["settings"])
    config = loss.get_config()
    extra = EXTRA_CONFIG.get(case["class"], set())
    assert {k: v for k, v in config.items() if k not in extra} == case["config"]
    again = type(loss).from_config(config)
    assert again.get_config() == config
    y_true, y_pred = _inputs(case["data"])
    _close(again(y_true, y_pred), loss(y_true, y_pred))


@pytest.mark.parametrize("name", sorted(FIXTURE["defaults"]))
def test_default_configs_match_keras(name):
    config = getattr(losses, name)().get_config()
    extra = EXTRA_CONFIG.get(name, set())
    assert {k: v for k, v in config.items() if k not in extra} == FIXTURE["defaults"][name]


@pytest.mark.parametrize("name", sorted(FIXTURE["names"]))
def test_get_knows_the_names_keras_knows(name):
    want = FIXTURE["names"][name]
    if "error" in want and name not in LEGACY_NAMES:
        with pytest.raises(ValueError, match="unknown loss"):
            losses.get(name)
        return
    loss = losses.get(name)
    assert isinstance(loss, losses.Loss)
    if "error" in want:
        return
    if want["kind"] == "function":
        assert losses.deserialize(name) is getattr(losses, want["name"])
        assert type(loss).fn is getattr(losses, want["name"])
    else:
        assert type(loss).__name__ == want["name"]


@pytest.mark.parametrize("key", sorted(FIXTURE["refusals"]))
def test_refusals_match_keras(key):
    assert "error" in FIXTURE["refusals"][key]
    eye = torch.eye(3)
    calls = {
        "reduction_bad": lambda: losses.MeanSquaredError(reduction="avg"),
        "reduction_auto": lambda: losses.MeanSquaredError(reduction="auto"),
        "gce_q_one": lambda: losses.CategoricalGeneralizedCrossEntropy(q=1.0),
        "gce_q_zero": lambda: losses.CategoricalGeneralizedCrossEntropy(q=0.0),
        "cce_axis_bool": lambda: losses.categorical_crossentropy(eye, eye, axis=True),
        "cce_shapes": lambda: losses.categorical_crossentropy(eye[:, :2], eye),
        "bce_shapes": lambda: losses.binary_crossentropy(torch.ones(2, 3), torch.ones(3, 2)),
        "scce_shapes": lambda: losses.sparse_categorical_crossentropy(torch.zeros(3).long(),
                                                                      torch.ones(2, 4)),
        "weight_mismatch": lambda: losses.MeanSquaredError()(
            torch.ones(2, 3, 4), torch.zeros(2, 3, 4), sample_weight=torch.ones(4)),
    }
    with pytest.raises(ValueError):
        calls[key]()


def test_errors_name_the_class_and_what_was_expected():
    with pytest.raises(ValueError, match=r"Huber: expected reduction to be one of .*got 'avg'"):
        losses.Huber(reduction="avg")
    with pytest.raises(ValueError, match=r"MeanSquaredError: expected sample_weight to broadcast "
                                         r"against the losses of shape \(2, 3\), got .*\(4,\)"):
        losses.MeanSquaredError()(torch.ones(2, 3, 4), torch.zeros(2, 3, 4),
                                  sample_weight=torch.ones(4))
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: expected y_true of "
                                         r"shape \(2,\)"):
        losses.sparse_categorical_crossentropy(torch.zeros(3).long(), torch.ones(2, 4))
    with pytest.raises(ValueError, match="Poisson: expected dtype"):
        losses.Poisson(dtype="int32")


# -- independent references -----------------------------------------------------------------
def _rand(*shape, seed=0, low=None, high=None):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(*shape, generator=g, dtype=torch.float64)
    return x * (high - low) + low if low is not None else torch.randn(*shape, generator=g,
                                                                       dtype=torch.float64)


def test_regression_losses_against_torch():
    t, p = _rand(5, 4, seed=1), _rand(5, 4, seed=2)
    torch.testing.assert_close(losses.MeanSquaredError()(t, p), F.mse_loss(p, t))
    torch.testing.assert_close(losses.MeanAbsoluteError()(t, p), F.l1_loss(p, t))
    torch.testing.assert_close(losses.Huber(delta=0.4)(t, p), F.huber_loss(p, t, delta=0.4))
    torch.testing.assert_close(losses.LogCosh()(t, p), torch.log(torch.cosh(p - t)).mean())
    torch.testing.assert_close(losses.CosineSimilarity()(t, p),
                               -F.cosine_similarity(t, p, dim=-1).mean())
    pos_t, pos_p = _rand(5, 4, seed=3, low=0.0, high=3.0), _rand(5, 4, seed=4, low=0.1, high=3.0)
    torch.testing.assert_close(losses.Poisson()(pos_t, pos_p),
                               F.poisson_nll_loss(pos_p, pos_t, log_input=False, eps=1e-7))
    torch.testing.assert_close(losses.MeanSquaredLogarithmicError()(pos_t, pos_p),
                               F.mse_loss(torch.log1p(pos_p), torch.log1p(pos_t)))
    torch.testing.assert_close(losses.MeanAbsolutePercentageError()(pos_t + 1, pos_p),
                               100 * ((pos_t + 1 - pos_p).abs() / (pos_t + 1)).mean())


def test_probabilistic_losses_against_torch():
    logits, labels = _rand(6, 5, seed=5), torch.tensor([0, 4, 2, 2, 1, 3])
    onehot = F.one_hot(labels, 5).double()
    torch.testing.assert_close(
        losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(onehot, logits),
        F.cross_entropy(logits, labels, label_smoothing=0.1))
    torch.testing.assert_close(losses.SparseCategoricalCrossentropy(from_logits=True)(
        labels, logits), F.cross_entropy(logits, labels))
    # ignore_class: the mean over the kept targets, as torch's ignore_index.
    torch.testing.assert_close(losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=2)(labels, logits),
        F.cross_entropy(logits, labels, ignore_index=2))
    bits = (_rand(6, 5, seed=6, low=0, high=1) > 0.5).double()
    torch.testing.assert_close(losses.BinaryCrossentropy(from_logits=True)(bits, logits),
                               F.binary_cross_entropy_with_logits(logits, bits))
    probs = torch.sigmoid(logits)
    torch.testing.assert_close(losses.BinaryCrossentropy()(bits, probs),
                               F.binary_cross_entropy(probs, bits))
    dist = torch.softmax(_rand(6, 5, seed=7), -1)
    torch.testing.assert_close(losses.KLDivergence()(dist, torch.softmax(logits, -1)),
                               F.kl_div(torch.log_softmax(logits, -1), dist,
                                        reduction="batchmean"))


def test_focal_and_overlap_losses_against_numpy_formulas():
    t = (np.random.RandomState(0).rand(4, 3) > 0.5).astype(np.float64)
    p = np.random.RandomState(1).uniform(0.05, 0.95, (4, 3))
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    p_t = t * p + (1 - t) * (1 - p)
    balance = t * 0.3 + (1 - t) * 0.7
    want = (balance * (1 - p_t) ** 1.5 * bce).mean()
    got = losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5)(
        torch.from_numpy(t), torch.from_numpy(p))
    assert float(got) == pytest.approx(want, rel=1e-12)
    q = p / p.sum(-1, keepdims=True)
    want = (0.25 * (1 - q) ** 2 * -t * np.log(q)).sum(-1).mean()
    got = losses.CategoricalFocalCrossentropy()(torch.from_numpy(t), torch.from_numpy(p))
    assert float(got) == pytest.approx(want, rel=1e-12)
    dice = 1 - 2 * (t * p).sum() / (t.sum() + p.sum() + 1e-7)
    assert float(losses.Dice()(torch.from_numpy(t), torch.from_numpy(p))) == pytest.approx(dice)
    tp, fp, fn = (t * p).sum(-1), (t * (1 - p)).sum(-1), ((1 - t) * p).sum(-1)
    want = (1 - tp / (tp + 0.2 * fp + 0.8 * fn + 1e-7)).mean()
    got = losses.Tversky(alpha=0.2, beta=0.8, axis=-1)(torch.from_numpy(t), torch.from_numpy(p))
    assert float(got) == pytest.approx(want, rel=1e-12)
    hinge_t = 2 * t - 1
    want = np.maximum(1 - hinge_t * (p - 0.5), 0).mean()
    assert float(losses.Hinge()(torch.from_numpy(t), torch.from_numpy(p - 0.5))) == pytest.approx(want)
    pos, neg = (t * p).sum(-1), ((1 - t) * p).max(-1)
    want = np.maximum(neg - pos + 1, 0).mean()
    assert float(losses.CategoricalHinge()(torch.from_numpy(t), torch.from_numpy(p))) == pytest.approx(want)


# -- masks, weights, dtypes, gradients -------------------------------------------------------
def test_a_model_mask_averages_over_the_kept_steps_with_weights():
    t, p = _rand(3, 4, 2, seed=8), _rand(3, 4, 2, seed=9)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], dtype=torch.bool)
    per_step = ((t - p) ** 2).mean(-1)
    want = (per_step * mask).sum() / mask.sum()
    torch.testing.assert_close(losses.MeanSquaredError()(t, p, mask=mask), want)
    weight = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64)
    want = (per_step * mask * weight[:, None]).sum() / mask.sum()
    torch.testing.assert_close(losses.MeanSquaredError()(t, p, sample_weight=weight[:, None],
                                                         mask=mask), want)
    want = (per_step * mask).sum()
    torch.testing.assert_close(losses.MeanSquaredError(reduction="sum")(t, p, mask=mask), want)
    nothing = torch.zeros(3, 4, dtype=torch.bool)
    assert float(losses.MeanSquaredError()(t, p, mask=nothing)) == 0.0
    # A mask that does not fit the per-sample values is not this loss's (a (batch, time) mask
    # reaching a loss of the last step's output).
    torch.testing.assert_close(losses.MeanSquaredError()(t[:, -1], p[:, -1], mask=mask),
                               per_step[:, -1].mean())


def test_ignore_class_and_a_model_mask_combine():
    labels = torch.tensor([[0, 1, 2], [2, 2, 1]])
    logits = _rand(2, 3, 3, seed=10)
    mask = torch.tensor([[True, True, False], [True, False, True]])
    keep = mask & (labels != 2)
    per = F.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1), reduction="none").view(2, 3)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    torch.testing.assert_close(loss(labels, logits, mask=mask), (per * keep).sum() / keep.sum())


def test_ignore_class_on_probabilities_has_finite_gradients():
    labels = torch.tensor([0, 3, 1])
    probs = torch.softmax(_rand(3, 4, seed=11), -1).requires_grad_()
    loss = losses.SparseCategoricalCrossentropy(ignore_class=3)(labels, probs)
    loss.backward()
    assert torch.isfinite(probs.grad).all() and probs.grad[1].abs().sum() == 0


def test_losses_are_differentiable_in_float64():
    t = _rand(2, 3, seed=12, low=0.05, high=0.95)
    p = _rand(2, 3, seed=13, low=0.1, high=0.9).requires_grad_()
    for loss in (losses.Huber(0.3), losses.LogCosh(), losses.BinaryFocalCrossentropy(),
                 losses.CategoricalCrossentropy(label_smoothing=0.1), losses.Tversky(),
                 losses.CosineSimilarity(), losses.KLDivergence(), losses.Poisson()):
        assert torch.autograd.gradcheck(lambda q: loss(t, q), (p,)), loss.name


def test_dtype_casts_inputs_and_none_keeps_the_predictions_dtype():
    t, p = torch.zeros(2, 2, dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64)
    assert losses.MeanSquaredError()(t, p).dtype == torch.float64
    assert losses.MeanSquaredError(dtype="float32")(t, p).dtype == torch.float32
    assert losses.MeanSquaredError(dtype="float32").dtype == "float32"
    assert losses.MeanSquaredError()(np.zeros((2, 2)), [[1, 1], [1, 1]]).dtype == torch.float32


def test_mean_with_sample_weight_divides_by_the_weights():
    t, p = torch.zeros(4, 2), torch.ones(4, 2) * torch.arange(4.0)[:, None]
    w = torch.tensor([1.0, 0.0, 2.0, 1.0])
    per = (p ** 2).mean(-1) * w
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    torch.testing.assert_close(loss(t, p, sample_weight=w), per.sum() / w.sum())
    torch.testing.assert_close(loss(t, p), (p ** 2).mean())
    torch.testing.assert_close(losses.MeanSquaredError(reduction=None)(t, p, sample_weight=w), per)


# -- the API around the classes --------------------------------------------------------------
def test_user_losses_keep_working():
    def my_mae(y_true, y_pred):
        return (y_true - y_pred).abs().mean(dim=-1)

    loss = losses.get(my_mae)
    assert loss.name == "my_mae" and losses.serialize(loss) is None
    assert float(loss(torch.zeros(2, 1), torch.ones(2))) == 1.0  # (n,) meets (n, 1)
    assert losses.serialize(losses.get(losses.mean_absolute_error)) == "mean_absolute_error"

    class Squared(losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_true - y_pred) ** 2).sum(dim=-1)

    a, b = Squared(), Squared()
    assert a.name == "squared" and b.name.startswith("squared_")
    weight = torch.tensor([1.0, 3.0])
    assert float(Squared(reduction="sum")(torch.zeros(2, 2), torch.ones(2, 2), weight)) == 8.0
    wrapped = losses.LossFunctionWrapper(my_mae, reduction="sum", name="w")
    assert float(wrapped(torch.zeros(3, 1), torch.ones(3, 1))) == 3.0
    assert wrapped.get_config() == {"name": "w", "reduction": "sum", "fn": "my_mae"}


def test_get_serialize_deserialize():
    assert isinstance(losses.get("MSE"), losses.MeanSquaredError)
    assert isinstance(losses.get("bce"), losses.BinaryCrossentropy)
    assert isinstance(losses.get(losses.Poisson), losses.Poisson)
    config = {"class_name": "Huber", "config": {"delta": 2.5, "reduction": "sum"}}
    huber = losses.get(config)
    assert huber.get_config()["delta"] == 2.5 and huber.reduction == "sum"
    assert losses.serialize(huber) == {"class_name": "Huber", "config": huber.get_config()}
    assert losses.serialize(losses.KLDivergence()) == "kl_divergence"
    assert losses.serialize(losses.get("logcosh")) == "log_cosh"
    assert isinstance(losses.deserialize(config), losses.Huber)
    assert losses.deserialize("MSLE") is losses.mean_squared_logarithmic_error
    assert losses.deserialize("Mine", custom_objects={"Mine": losses.mean_squared_error}) \
        is losses.mean_squared_error
    with pytest.raises(ValueError, match=r"unknown loss 'mean_sq_error'\. Did you mean "
                                         r"'mean_squared_error'\?"):
        losses.get("mean_sq_error")
    with pytest.raises(ValueError, match="losses.deserialize: unknown loss 'nope'"):
        losses.deserialize("nope")


def test_keras_names_are_all_exported():
    for name in list(FIXTURE["defaults"]) + [c["function"] for c in CASES.values()]:
        assert name in losses.__all__ and hasattr(losses, name)
    assert not math.isnan(float(losses.log_cosh(torch.tensor([[1e4]]), torch.tensor([[0.0]]))[0]))
