"""Record Keras 3's optimizers and learning-rate schedules for tests/test_optimizers_keras.py.

What it records (tests/data/keras_optimizers.json):
- schedules: every schedule's learning rate at steps 0..49 for several configs (staircase,
  cycle, warmup, restarts with t_mul = 1 and != 1, float boundaries), with its get_config and
  keras.optimizers.schedules.serialize output;
- steps: for each optimizer (SGD plain/momentum/Nesterov, Adam, AMSGrad, AdamW, RMSprop plain and
  centered with momentum, Adagrad, Nadam, Adamax, Adadelta, Lion), without clipping and with each
  of clipnorm, clipvalue, global_clipnorm (and weight decay together with clipping for some),
  the two weights after each of 5 `apply_gradients` calls on `keras.Variable`s under a fixed
  sequence of gradients; and schedule-driven optimizers with `optimizer.learning_rate` per step;
- defaults: each optimizer class's default get_config;
- refusals: argument combinations Keras refuses, with the exception's type.

Run from the repository root (Keras 3 on JAX, no torch needed):
    KERAS_BACKEND=jax ../kerasenv/bin/python tests/data/make_keras_optimizers.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_fixture_common import case_rng, jsonable  # noqa: E402

S = keras.optimizers.schedules
HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 5
SCHEDULES = {
    "exponential": ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=10,
                                             decay_rate=0.5)),
    "exponential_staircase": ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7,
                                                       decay_rate=0.9, staircase=True)),
    "piecewise": ("PiecewiseConstantDecay", dict(boundaries=[10, 20, 35],
                                                 values=[1.0, 0.5, 0.1, 0.01])),
    "piecewise_float_bounds": ("PiecewiseConstantDecay", dict(boundaries=[2.5, 7.5],
                                                              values=[0.3, 0.2, 0.1])),
    "inverse_time": ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5,
                                              decay_rate=0.5)),
    "inverse_time_staircase": ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=4,
                                                        decay_rate=1.5, staircase=True)),
    "polynomial": ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=20)),
    "polynomial_power_cycle": ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=12,
                                                       end_learning_rate=0.01, power=2.0,
                                                       cycle=True)),
    "polynomial_sqrt": ("PolynomialDecay", dict(initial_learning_rate=0.5, decay_steps=30,
                                                end_learning_rate=0.05, power=0.5)),
    "cosine": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=30)),
    "cosine_alpha": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=25, alpha=0.2)),
    "cosine_warmup": ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=30,
                                          warmup_target=0.2, warmup_steps=10)),
    "cosine_warmup_alpha": ("CosineDecay", dict(initial_learning_rate=0.05, decay_steps=20,
                                                alpha=0.1, warmup_target=0.1, warmup_steps=7)),
    "restarts": ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=5)),
    "restarts_t1": ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=8,
                                                t_mul=1.0, m_mul=0.5)),
    "restarts_alpha": ("CosineDecayRestarts", dict(initial_learning_rate=0.2,
                                                   first_decay_steps=4, t_mul=1.5, m_mul=0.8,
                                                   alpha=0.1)),
}
OPTIMIZERS = {
    "sgd": ("SGD", dict(learning_rate=0.1)),
    "sgd_momentum": ("SGD", dict(learning_rate=0.1, momentum=0.9)),
    "sgd_nesterov": ("SGD", dict(learning_rate=0.05, momentum=0.8, nesterov=True)),
    "adam": ("Adam", dict(learning_rate=0.1)),
    "adam_amsgrad": ("Adam", dict(learning_rate=0.05, amsgrad=True, beta_2=0.9)),
    "adamw": ("AdamW", dict(learning_rate=0.1, weight_decay=0.1)),
    "rmsprop": ("RMSprop", dict(learning_rate=0.05)),
    "rmsprop_centered": ("RMSprop", dict(learning_rate=0.02, centered=True, momentum=0.5)),
    "adagrad": ("Adagrad", dict(learning_rate=0.1)),
    "nadam": ("Nadam", dict(learning_rate=0.1)),
    "adamax": ("Adamax", dict(learning_rate=0.1)),
    "adadelta": ("Adadelta", dict(learning_rate=1.0)),
    "lion": ("Lion", dict(learning_rate=0.05)),
}
CLIPPING = {"none": {}, "clipnorm": dict(clipnorm=0.5), "clipvalue": dict(clipvalue=0.1),
            "global_clipnorm": dict(global_clipnorm=1.0)}
WEIGHT_DECAY = {  # clipping first, then decay with the same rate, then the update
    "sgd_momentum": dict(weight_decay=0.2, clipnorm=0.5),
    "adam": dict(weight_decay=0.05, global_clipnorm=1.0),
    "lion": dict(weight_decay=0.3, clipvalue=0.1),
    "nadam": dict(weight_decay=0.1),
}
SCHEDULED = {
    "adam_exponential": ("Adam", dict(), ("ExponentialDecay", dict(
        initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5))),
    "sgd_momentum_piecewise": ("SGD", dict(momentum=0.9, weight_decay=0.1), (
        "PiecewiseConstantDecay", dict(boundaries=[1, 3], values=[0.1, 0.05, 0.01]))),
    "nadam_cosine_warmup": ("Nadam", dict(clipnorm=0.5), ("CosineDecay", dict(
        initial_learning_rate=0.0, decay_steps=3, warmup_target=0.1, warmup_steps=2))),
}
REFUSED = {
    "sgd_momentum_above_1": ("SGD", dict(momentum=1.5)),
    "sgd_momentum_negative": ("SGD", dict(momentum=-0.1)),
    "lion_beta_1_zero": ("Lion", dict(beta_1=0.0)),
    "lion_beta_1_above_1": ("Lion", dict(beta_1=1.5)),
    "adamw_no_weight_decay": ("AdamW", dict(weight_decay=None)),
    "unknown_argument": ("Adam", dict(momentum=0.9)),
    "clipnorm_and_clipvalue": ("Adam", dict(clipnorm=1.0, clipvalue=1.0)),
    "clipnorm_and_global": ("SGD", dict(clipnorm=1.0, global_clipnorm=1.0)),
    "learning_rate_string": ("Adam", dict(learning_rate="fast")),
    "accumulation_steps_1": ("Adam", dict(gradient_accumulation_steps=1)),
    "ema_momentum_above_1": ("Adam", dict(use_ema=True, ema_momentum=1.5)),
    "schedule_decay_steps_0": ("ExponentialDecay", dict(initial_learning_rate=0.1,
                                                        decay_steps=0, decay_rate=0.5)),
    "piecewise_lengths": ("PiecewiseConstantDecay", dict(boundaries=[1, 2], values=[0.1])),
}


def _weights_and_grads():
    rng = case_rng("optimizers")
    weights = [rng.standard_normal((3, 4)).astype("float32"),
               rng.standard_normal((5,)).astype("float32")]
    # Scales that make every clipping option act on some steps and not on others.
    scales = [1.5, 0.05, 0.8, 0.02, 0.3]
    grads = [[(rng.standard_normal(w.shape) * s).astype("float32") for w in weights]
             for s in scales]
    return weights, grads


def _run(optimizer, weights, grads):
    variables = [keras.Variable(w) for w in weights]
    trace, rates = [], []
    for step in grads:
        rates.append(float(np.asarray(optimizer.learning_rate)))
        optimizer.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in step], variables))
        trace.append([np.asarray(v.numpy()) for v in variables])
    return trace, rates


def _schedule(cls, config):
    return getattr(S, cls)(**config)


def record_schedules():
    out = {}
    for key, (cls, config) in SCHEDULES.items():
        schedule = _schedule(cls, config)
        out[key] = {"class_name": cls, "config": config,
                    "rates": [float(np.asarray(schedule(step))) for step in range(50)],
                    "get_config": schedule.get_config(),
                    "serialized": S.serialize(schedule)}
    return out


def record_steps(weights, grads):
    out = {}
    cases = [(f"{k}/{c}", cls, {**cfg, **clip}) for k, (cls, cfg) in OPTIMIZERS.items()
             for c, clip in CLIPPING.items()]
    cases += [(f"{k}/weight_decay", OPTIMIZERS[k][0], {**OPTIMIZERS[k][1], **extra})
              for k, extra in WEIGHT_DECAY.items()]
    for key, cls, config in cases:
        trace, _ = _run(getattr(keras.optimizers, cls)(**config), weights, grads)
        out[key] = {"class_name": cls, "config": config, "weights": trace}
    for key, (cls, config, (s_cls, s_config)) in SCHEDULED.items():
        optimizer = getattr(keras.optimizers, cls)(learning_rate=_schedule(s_cls, s_config),
                                                   **config)
        trace, rates = _run(optimizer, weights, grads)
        out[f"scheduled/{key}"] = {"class_name": cls, "config": config,
                                   "schedule": [s_cls, s_config], "weights": trace,
                                   "rates": rates, "serialized": keras.optimizers.serialize(
                                       optimizer)}
    return out


def record_refusals():
    out = {}
    for key, (cls, config) in REFUSED.items():
        factory = getattr(keras.optimizers, cls, None) or getattr(S, cls)
        try:
            factory(**config)
            out[key] = {"class_name": cls, "config": config, "error": None}
        except Exception as err:  # noqa: BLE001 - the type is what is recorded
            out[key] = {"class_name": cls, "config": config, "error": type(err).__name__,
                        "message": str(err)}
    return out


def main():
    weights, grads = _weights_and_grads()
    defaults = {}
    for cls in sorted({c for c, _ in OPTIMIZERS.values()}):
        config = getattr(keras.optimizers, cls)().get_config()
        config.pop("name")
        defaults[cls] = config
    data = {"keras_version": keras.__version__, "weights": weights, "grads": grads,
            "schedules": record_schedules(), "steps": record_steps(weights, grads),
            "defaults": defaults, "refusals": record_refusals()}
    with open(os.path.join(HERE, "keras_optimizers.json"), "w") as f:
        json.dump(jsonable(data), f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
