"""Keras 3 learning-rate schedules (`keras.optimizers.schedules`).

A schedule maps the optimizer's iteration count (the number of steps already taken) to a learning
rate. Give one as any optimizer's `learning_rate`: the optimizer calls it with its `iterations`
before every step, as Keras does. Every formula runs in float32, like Keras's (the rate a Keras
optimizer reads is a float32 tensor), and returns a 0-d float32 tensor.
"""

from __future__ import annotations

import math

import torch

from .._errors import unknown_name

_F32 = torch.float32


def _f32(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=_F32)


# log and pow go through float64 and are rounded once, as XLA's float32 results are: torch's
# float32 log and pow can be an ulp off, which a floor (the restart index) turns into a step.
def _log32(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x.double()).float()


def _pow32(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.pow(x.double(), y.double()).float()


def _positive(cls_name: str, arg: str, value) -> None:
    if value <= 0:
        raise ValueError(f"{cls_name}: `{arg}` must be > 0, got {arg}={value!r}.")


class LearningRateSchedule:
    """Base class: subclasses define `__call__(step)` and `get_config()`.

    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 * 0.5 ** int(step)
    ...     def get_config(self):
    ...         return {}
    >>> Halving()(2)
    0.025
    """

    def __call__(self, step):
        raise NotImplementedError(f"learning-rate schedule {type(self).__name__!r} must "
                                  "override `__call__(self, step)`.")

    def get_config(self) -> dict:
        raise NotImplementedError(f"learning-rate schedule {type(self).__name__!r} must "
                                  "override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class _RateDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments, config, and the
    progress `step / decay_steps` (floored with `staircase`)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase = decay_rate, staircase
        self.name = type(self).__name__ if name is None else name

    def _progress(self, step) -> torch.Tensor:
        p = _f32(step) / _f32(self.decay_steps)
        return torch.floor(p) if self.staircase else p

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`; with `staircase` the
    exponent is floored, so the rate drops in steps.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps per factor of `decay_rate`; must be > 0.
        decay_rate: The factor.
        staircase: Floor `step / decay_steps`.
        name: Kept in the config.

    >>> float(ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(10))
    0.05000000074505806
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        p = self._progress(step)
        return _f32(self.initial_learning_rate) * _pow32(_f32(self.decay_rate), p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while `step <= boundaries[0]`, `values[i]` while
    `boundaries[i-1] < step <= boundaries[i]`, `values[-1]` after the last boundary.

    Args:
        boundaries: Increasing step numbers, one fewer than `values`.
        values: The rates.
        name: Kept in the config.

    >>> float(PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])(11))
    0.5
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: expected one fewer boundary than values, got "
                f"boundaries={boundaries} (length {len(boundaries)}) and values={values} "
                f"(length {len(values)}).")
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        # Keras compares in the step's own type (an integer iteration count), so a boundary of
        # 2.5 acts as 2 for integer steps.
        step = torch.as_tensor(step)
        bounds = [torch.as_tensor(b).to(step.dtype) for b in self.boundaries]
        edges = [None, *bounds, None]
        for low, high, value in zip(edges[:-1], edges[1:], self.values):
            if (low is None or step > low) and (high is None or step <= high):
                return _f32(value)
        return _f32(0.0)  # a NaN step falls in no interval, as in Keras

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From `initial_learning_rate` to `end_learning_rate` over `decay_steps` along
    `(1 - step / decay_steps) ** power`, then constant; with `cycle`, `decay_steps` grows to the
    next multiple of itself past `step`, so the decay restarts from a lower height.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Length of the decay; must be > 0.
        end_learning_rate: The final rate.
        power: The polynomial's power.
        cycle: Restart past `decay_steps` instead of staying at the end.
        name: Kept in the config.

    >>> round(float(PolynomialDecay(0.1, 10, end_learning_rate=0.0)(5)), 6)
    0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        _positive("PolynomialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = (
            end_learning_rate, power, cycle, name)

    def __call__(self, step):
        step, steps = _f32(step), _f32(self.decay_steps)
        if self.cycle:
            multiplier = torch.where(step == 0, _f32(1.0), torch.ceil(step / steps))
            steps = steps * multiplier
        else:
            step = torch.minimum(step, steps)
        p = step / steps
        initial, end = _f32(self.initial_learning_rate), _f32(self.end_learning_rate)
        return (initial - end) * _pow32(1 - p, _f32(self.power)) + end

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(_RateDecay):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)` (the quotient floored
    with `staircase`).

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps per unit of `decay_rate`; must be > 0.
        decay_rate: The decay rate.
        staircase: Floor `step / decay_steps`.
        name: Kept in the config.

    >>> float(InverseTimeDecay(0.1, decay_steps=1, decay_rate=1.0)(1))
    0.05000000074505806
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        p = self._progress(step)
        return _f32(self.initial_learning_rate) / (_f32(1.0) + _f32(self.decay_rate) * p)


def _cosine(fraction, alpha):
    """(1 - alpha) * (1 + cos(pi * fraction)) / 2 + alpha, Keras's order of operations."""
    return (1 - alpha) * (0.5 * (1.0 + torch.cos(_f32(math.pi) * fraction))) + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay from a rate to `alpha` times it over `decay_steps`, then constant; with
    `warmup_target`, first a linear rise from `initial_learning_rate` to `warmup_target` over
    `warmup_steps`, and the decay starts from `warmup_target`.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Length of the decay; must be > 0.
        alpha: The final rate as a fraction of the decay's start.
        name: Kept in the config.
        warmup_target: The rate the warmup reaches; None for no warmup.
        warmup_steps: Length of the warmup.

    >>> round(float(CosineDecay(0.1, decay_steps=10)(5)), 6)
    0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _positive("CosineDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha = (
            initial_learning_rate, decay_steps, alpha)
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def __call__(self, step):
        initial, steps, step = (_f32(self.initial_learning_rate), _f32(self.decay_steps),
                                _f32(step))
        if self.warmup_target is None:
            return initial * _cosine(torch.minimum(step, steps) / steps, self.alpha)
        target, warmup = _f32(self.warmup_target), _f32(self.warmup_steps)
        step = torch.minimum(step, steps + warmup)
        if step < warmup:
            return (target - initial) * (step / warmup) + initial
        return target * _cosine((step - warmup) / steps, self.alpha)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): the i-th period lasts
    `first_decay_steps * t_mul**i` steps and starts at `initial_learning_rate * m_mul**i`.

    Args:
        initial_learning_rate: The rate at step 0.
        first_decay_steps: Length of the first period; must be > 0.
        t_mul: Factor of each period's length over the previous one.
        m_mul: Factor of each period's starting rate over the previous one.
        alpha: The rate at the end of a period, as a fraction of its start.
        name: Kept in the config.

    >>> round(float(CosineDecayRestarts(0.1, first_decay_steps=10)(10)), 6)
    0.1
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        _positive("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        self.initial_learning_rate, self.first_decay_steps = (initial_learning_rate,
                                                              first_decay_steps)
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        fraction = _f32(step) / _f32(self.first_decay_steps)
        t_mul = _f32(self._t_mul)
        if self._t_mul == 1.0:
            i_restart = torch.floor(fraction)
            fraction = fraction - i_restart
        else:
            # Periods 1, t, t², ...: the restart index solves the geometric sum for the step.
            # (log(2.25) / log(1.5) in torch's float32 floors to 1 where Keras restarts at 2.)
            i_restart = torch.floor(_log32(1.0 - fraction * (1.0 - t_mul)) / _log32(t_mul))
            done = (1.0 - _pow32(t_mul, i_restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / _pow32(t_mul, i_restart)
        m_fac = _pow32(_f32(self._m_mul), i_restart)
        alpha = _f32(self.alpha)
        cosine = 0.5 * m_fac * (1.0 + torch.cos(_f32(math.pi) * fraction))
        return _f32(self.initial_learning_rate) * ((1 - alpha) * cosine + alpha)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_CLASSES = {cls.__name__: cls for cls in (
    ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay,
    CosineDecayRestarts)}


def serialize(learning_rate_schedule) -> dict:
    """The schedule as Keras writes it: `{"module", "class_name", "config", "registered_name"}`.

    Args:
        learning_rate_schedule: A `LearningRateSchedule`.

    >>> serialize(ExponentialDecay(0.1, 10, 0.5))["class_name"]
    'ExponentialDecay'
    """
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError("schedules.serialize: expected a LearningRateSchedule, got "
                        f"{type(learning_rate_schedule).__name__}.")
    cls = type(learning_rate_schedule)
    builtin = _CLASSES.get(cls.__name__) is cls
    return {"module": "keras.optimizers.schedules" if builtin else cls.__module__,
            "class_name": cls.__name__, "config": learning_rate_schedule.get_config(),
            "registered_name": None if builtin else cls.__name__}


def deserialize(config, custom_objects=None) -> LearningRateSchedule:
    """A schedule from `serialize`'s dict (or a bare `{"class_name", "config"}`).

    Args:
        config: The dict.
        custom_objects: Optional `{name: class}` for schedules of your own.

    >>> deserialize(serialize(CosineDecay(0.1, 100))).decay_steps
    100
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("schedules.deserialize: expected a dict with 'class_name' and "
                         f"'config', got {config!r}.")
    classes = {**_CLASSES, **(custom_objects or {})}
    name = config["class_name"]
    cls = classes.get(name) or classes.get(config.get("registered_name") or "")
    if cls is None:
        raise unknown_name("learning-rate schedule", name, list(classes), "schedules.deserialize")
    return cls.from_config(dict(config.get("config") or {}))
