"""Optimizers and learning-rate schedules against real Keras 3 (tests/data/keras_optimizers.json,
made by tests/data/make_keras_optimizers.py) and against independent references (torch.optim,
float64 formulas)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from rnnkit import layers, optimizers
from rnnkit.models import Sequential, load_model
from rnnkit.optimizers import schedules
from helpers import DATA

KERAS = json.loads((DATA / "keras_optimizers.json").read_text())
RTOL, ATOL = 2e-6, 1e-7  # float32 rounding, compounded over 5 steps of different op orders


def _params():
    return [torch.nn.Parameter(torch.tensor(w, dtype=torch.float32)) for w in KERAS["weights"]]


def _run(opt, params, steps=None):
    """Weights after each step under Keras's gradient sequence, and the rate read before it."""
    trace, rates = [], []
    for step in (steps or KERAS["grads"]):
        rates.append(getattr(opt, "learning_rate", None))
        for p, g in zip(params, step):
            p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        trace.append([p.detach().numpy().copy() for p in params])
    return trace, rates


def _assert_trace(got, want, key):
    for i, (got_step, want_step) in enumerate(zip(got, want)):
        for got_w, want_w in zip(got_step, want_step):
            np.testing.assert_allclose(got_w, np.asarray(want_w, dtype=np.float32), rtol=RTOL,
                                       atol=ATOL, err_msg=f"{key}, step {i + 1}")


# -- schedules -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(KERAS["schedules"]))
def test_schedule_rates_match_keras(key):
    case = KERAS["schedules"][key]
    schedule = getattr(schedules, case["class_name"])(**case["config"])
    got = [float(schedule(step)) for step in range(50)]
    np.testing.assert_allclose(got, case["rates"], rtol=1e-6, atol=1e-9, err_msg=key)


@pytest.mark.parametrize("key", sorted(KERAS["schedules"]))
def test_schedule_config_and_serialization_match_keras(key):
    case = KERAS["schedules"][key]
    schedule = getattr(schedules, case["class_name"])(**case["config"])
    assert schedule.get_config() == case["get_config"]
    assert schedules.serialize(schedule) == case["serialized"]
    again = schedules.deserialize(case["serialized"])
    assert type(again) is type(schedule) and again.get_config() == case["get_config"]


def test_schedules_against_float64_formulas():
    steps = np.arange(50, dtype=np.float64)
    exp = schedules.ExponentialDecay(0.1, 7, 0.9, staircase=True)
    np.testing.assert_allclose([float(exp(s)) for s in range(50)],
                               0.1 * 0.9 ** np.floor(steps / 7), rtol=1e-6)
    cos = schedules.CosineDecay(0.1, 30, alpha=0.2)
    want = 0.1 * (0.8 * 0.5 * (1 + np.cos(np.pi * np.minimum(steps, 30) / 30)) + 0.2)
    np.testing.assert_allclose([float(cos(s)) for s in range(50)], want, rtol=1e-6)
    # SGDR with t_mul=2: periods of 5, 10, 20 steps, each starting again at the full rate
    sgdr = schedules.CosineDecayRestarts(0.1, 5)
    assert [round(float(sgdr(s)), 6) for s in (0, 5, 15, 35)] == [0.1] * 4


def test_schedule_errors_name_the_class():
    with pytest.raises(ValueError, match="CosineDecayRestarts: `first_decay_steps` must be > 0"):
        schedules.CosineDecayRestarts(0.1, 0)
    with pytest.raises(ValueError, match="PiecewiseConstantDecay: expected one fewer boundary"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1])
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'CosineDecy'"):
        schedules.deserialize({"class_name": "CosineDecy", "config": {}})


# -- optimizer steps -----------------------------------------------------------------------------

STEP_CASES = sorted(k for k in KERAS["steps"] if not k.startswith("scheduled/"))


@pytest.mark.parametrize("key", STEP_CASES)
def test_steps_match_keras(key):
    case = KERAS["steps"][key]
    params = _params()
    opt = getattr(optimizers, case["class_name"])(params, **case["config"])
    trace, _ = _run(opt, params)
    _assert_trace(trace, case["weights"], key)
    assert opt.iterations == len(KERAS["grads"])


@pytest.mark.parametrize("key", sorted(k for k in KERAS["steps"] if k.startswith("scheduled/")))
def test_schedule_driven_steps_match_keras(key):
    case = KERAS["steps"][key]
    s_cls, s_config = case["schedule"]
    params = _params()
    opt = getattr(optimizers, case["class_name"])(
        params, learning_rate=getattr(schedules, s_cls)(**s_config), **case["config"])
    trace, rates = _run(opt, params)
    np.testing.assert_allclose(rates, case["rates"], rtol=1e-6)
    _assert_trace(trace, case["weights"], key)
    ours, theirs = optimizers.serialize(opt), dict(case["serialized"])
    theirs["config"] = {**theirs["config"], "name": opt.name}
    assert ours == theirs


def test_defaults_match_keras():
    for cls, config in KERAS["defaults"].items():
        ours = getattr(optimizers, cls)().get_config()
        ours.pop("name")
        assert list(ours) == list(config), cls
        for name, value in config.items():
            if isinstance(value, float):
                assert ours[name] == pytest.approx(value, rel=1e-6), (cls, name)
            else:
                assert ours[name] == value, (cls, name)


@pytest.mark.parametrize("key", sorted(KERAS["refusals"]))
def test_refuses_what_keras_refuses(key):
    case = KERAS["refusals"][key]
    factory = getattr(optimizers, case["class_name"], None) or getattr(schedules,
                                                                       case["class_name"])
    assert case["error"] == "ValueError"
    with pytest.raises(ValueError, match=case["class_name"]):
        factory(**case["config"])


def test_features_keras_has_outside_the_optimizer_are_refused_not_ignored():
    for extra in (dict(use_ema=True), dict(loss_scale_factor=128.0),
                  dict(gradient_accumulation_steps=4)):
        with pytest.raises(NotImplementedError, match="Adam: .* not supported"):
            optimizers.Adam(**extra)
    with pytest.raises(ValueError, match="SGD: argument `decay`"):
        optimizers.SGD(decay=0.01)
    with pytest.raises(TypeError, match="SGD: got the learning rate twice"):
        optimizers.SGD(0.1, 0.2)


# -- independent references ----------------------------------------------------------------------

@pytest.mark.parametrize("torch_cls, ours, kwargs", [
    (torch.optim.SGD, optimizers.SGD, dict(momentum=0.9, nesterov=True)),
    (torch.optim.SGD, optimizers.SGD, dict(momentum=0.5)),
    (torch.optim.Adadelta, optimizers.Adadelta, dict(rho=0.9, eps=1e-6)),
    (torch.optim.Adagrad, optimizers.Adagrad, dict(initial_accumulator_value=0.1, eps=0.0)),
])
def test_against_torch_optim(torch_cls, ours, kwargs):
    """Where torch's rule is the same function (SGD's velocity is -lr times torch's buffer at a
    constant rate; Adagrad with eps folded the other way is compared at eps=0)."""
    ref_params, our_params = _params(), _params()
    ref = torch_cls(ref_params, lr=0.1, **kwargs)
    rename = {"eps": "epsilon"}
    mine = ours(our_params, learning_rate=0.1, **{rename.get(k, k): v for k, v in kwargs.items()})
    _run(ref, ref_params)
    trace, _ = _run(mine, our_params)
    for got, want in zip(trace[-1], ref_params):
        np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_new_optimizers_against_float64_formulas():
    w0, grads = np.asarray(KERAS["weights"][1], np.float64), [np.asarray(s[1], np.float64)
                                                             for s in KERAS["grads"]]
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-7
    w, m, u, prod = w0.copy(), 0 * w0, 0 * w0, 1.0
    wl, ml = w0.copy(), 0 * w0
    wn, mn, vn = w0.copy(), 0 * w0, 0 * w0
    for t, g in enumerate(grads, start=1):
        m, u = b1 * m + (1 - b1) * g, np.maximum(b2 * u, np.abs(g))
        w = w - lr * m / ((1 - b1 ** t) * (u + eps))
        wl, ml = wl - lr * np.sign(b1 * ml + (1 - b1) * g), 0.99 * ml + 0.01 * g
        mu, mu_next = (b1 * (1 - 0.5 * 0.96 ** s) for s in (t, t + 1))
        prod *= mu
        mn, vn = b1 * mn + (1 - b1) * g, b2 * vn + (1 - b2) * g * g
        m_hat = mu_next * mn / (1 - prod * mu_next) + (1 - mu) * g / (1 - prod)
        wn = wn - lr * m_hat / (np.sqrt(vn / (1 - b2 ** t)) + eps)
    for cls, want in ((optimizers.Adamax, w), (optimizers.Lion, wl), (optimizers.Nadam, wn)):
        params = _params()
        trace, _ = _run(cls(params, learning_rate=lr), params)
        np.testing.assert_allclose(trace[-1][1], want, rtol=1e-5, atol=1e-6, err_msg=cls.__name__)


# -- the learning rate as a setting --------------------------------------------------------------

def test_learning_rate_is_settable_as_in_keras():
    params = _params()
    opt = optimizers.Adam(params, learning_rate=0.1)
    opt.learning_rate = 0.01
    assert opt.learning_rate == 0.01 and opt.param_groups[0]["lr"] == 0.01
    opt.learning_rate = schedules.ExponentialDecay(0.1, 1, 0.5)
    opt.iterations = 2
    assert opt.learning_rate == pytest.approx(0.025)
    with pytest.raises(TypeError, match="Adam: this optimizer was made with a "
                                        "LearningRateSchedule"):
        opt.learning_rate = 0.1
    called = optimizers.SGD(learning_rate=lambda: 0.3)  # Keras calls a plain callable bare
    assert called.learning_rate == pytest.approx(0.3)
    with pytest.raises(ValueError, match="SGD: `learning_rate` must be a float"):
        optimizers.SGD(learning_rate=None)


def test_nadam_resumes_from_restored_state():
    """Nadam's momentum product depends on the step only, so a restored optimizer (its slots and
    iteration count copied in) continues exactly like the uninterrupted one."""
    straight_params = _params()
    straight = optimizers.Nadam(straight_params, learning_rate=0.1)
    want, _ = _run(straight, straight_params)
    params = _params()
    first = optimizers.Nadam(params, learning_rate=0.1)
    _run(first, params, KERAS["grads"][:3])
    resumed = optimizers.Nadam(params, learning_rate=0.1)
    resumed.iterations = first.iterations
    for p in params:
        resumed.state[p] = {k: v.clone() for k, v in first.state[p].items()}
    got, _ = _run(resumed, params, KERAS["grads"][3:])
    _assert_trace(got, want[3:], "nadam resumed")


def test_schedule_survives_compile_fit_and_save(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 5, 2)).astype("float32"), rng.standard_normal((8, 1))
    model = Sequential([layers.Input((None, 2)), layers.GRU(3), layers.Dense(1)])
    schedule = schedules.PiecewiseConstantDecay([1], [0.1, 0.01])
    model.compile(optimizer=optimizers.Nadam(learning_rate=schedule, clipnorm=1.0), loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert model.optimizer.iterations == 2 and model.optimizer.learning_rate == pytest.approx(0.01)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert isinstance(loaded.optimizer._learning_rate, schedules.PiecewiseConstantDecay)
    assert loaded.optimizer.iterations == 2
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for p, q in zip(model.parameters(), loaded.parameters()):
        for slot, value in model.optimizer.state[p].items():
            np.testing.assert_array_equal(loaded.optimizer.state[q][slot], value)


def test_get_serialize_deserialize():
    for name in ("nadam", "Adamax", "ADADELTA", "lion"):
        assert type(optimizers.get(name)).__name__.lower() == name.lower()
    opt = optimizers.Lion(learning_rate=0.01, weight_decay=0.1, global_clipnorm=2.0)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is optimizers.Lion and again.get_config() == opt.get_config()
    with pytest.raises(ValueError, match="unknown optimizer 'nadm'.*Did you mean 'nadam'"):
        optimizers.get("nadm")
    assert math.isclose(optimizers.get({"class_name": "SGD", "config": {"momentum": 0.5}})
                        .get_config()["momentum"], 0.5)
