"""The parts every Keras optimizer shares, on `torch.optim.Optimizer`: the arguments Keras's base
optimizer takes (and its checks), the learning rate (a float, a schedule or a callable), gradient
clipping, weight decay, constraints and the iteration count.

One Keras step, in Keras's order: clip the gradients (`clipnorm` per weight, `global_clipnorm`
over all, `clipvalue` elementwise; at most one), decay the weights (`w -= w * weight_decay *
lr`), run the optimizer's own update with the same `lr`, project each weight by its constraint,
count the iteration. A schedule is read with the iteration count before that step.
"""

from __future__ import annotations

import inspect
import math
import numbers

import torch

from ..utils.naming import snake_case, unique_name
from .schedules import LearningRateSchedule, deserialize as deserialize_schedule
from .schedules import serialize as serialize_schedule

_NOT_SUPPORTED = "is not supported by rnnkit (its effect lives in Keras's training loop)"


class Optimizer(torch.optim.Optimizer):
    """Base class of rnnkit's Keras optimizers; subclasses define `_update` or `_update_all`.

    Parameters may be given at construction (torch style: `Adam(model.parameters(), lr=0.01)`)
    or later by `compile`/`fit` (Keras style: `Adam(learning_rate=0.01)` builds itself on the
    model's weights at the first step). A number (or a schedule) given first is the learning
    rate, as in Keras: `SGD(0.1)`.

    Args:
        params: The parameters (or torch parameter groups); None to build later.
        hyper: The subclass's own settings, as its config lists them.
        learning_rate: A float, a `schedules.LearningRateSchedule` (called with `iterations`)
            or a callable of no arguments.
        weight_decay: If set, `w -= w * weight_decay * lr` before each update.
        clipnorm: Clip each gradient to this L2 norm.
        clipvalue: Clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: Clip all gradients together to this global L2 norm.
        use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
            gradient_accumulation_steps: Keras's; accepted only at their defaults (their effect
            lives in Keras's fit loop), any other value is refused.
        name: The optimizer's name.
        lr: torch's name for `learning_rate`.

    >>> import torch
    >>> from rnnkit.optimizers import SGD
    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> opt = SGD([w], learning_rate=0.5)
    >>> w.grad = torch.ones(2); opt.step(); w.tolist()
    [0.5, 0.5]
    """

    def __init__(self, params=None, hyper: dict | None = None, *, learning_rate,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, lr=None,
                 decay=None, **unknown):
        cls = type(self).__name__
        if unknown:
            raise ValueError(f"{cls}: argument(s) not recognized: {unknown}.")
        if _is_rate(params):  # Keras style: Adam(0.01)
            if learning_rate != _default_rate(type(self)):
                raise TypeError(f"{cls}: got the learning rate twice ({params!r} first and "
                                f"learning_rate={learning_rate!r}); give other settings by "
                                "keyword.")
            params, learning_rate = None, params
        if lr is not None:  # torch style: Adam(model.parameters(), lr=0.01)
            learning_rate = lr
        _check_base(cls, decay, use_ema, ema_momentum, loss_scale_factor,
                    gradient_accumulation_steps, clipnorm, clipvalue, global_clipnorm)
        self._learning_rate = _checked_rate(cls, learning_rate)
        self._config = {
            "name": name or unique_name(snake_case(cls)), "learning_rate": self._learning_rate,
            "weight_decay": weight_decay, "clipnorm": clipnorm, "global_clipnorm": global_clipnorm,
            "clipvalue": clipvalue, "use_ema": use_ema, "ema_momentum": ema_momentum,
            "ema_overwrite_frequency": ema_overwrite_frequency,
            "loss_scale_factor": loss_scale_factor,
            "gradient_accumulation_steps": gradient_accumulation_steps, **(hyper or {})}
        self.name = self._config["name"]
        self.iterations = 0
        self.built = False
        if params is not None:
            self.build(params)

    def build(self, params) -> None:
        torch.optim.Optimizer.__init__(self, params, {"lr": self._learning_rate})
        self.built = True

    # -- learning rate ---------------------------------------------------------------------------
    def _rate(self, value) -> float:
        """The rate `value` (a group's "lr") stands for at this step."""
        if isinstance(value, LearningRateSchedule):
            return float(value(self.iterations))
        if callable(value):
            return float(value())
        return float(value)

    @property
    def learning_rate(self) -> float:
        """The current rate (a schedule's value at `iterations`). Settable, as in Keras: to a
        float (refused when the optimizer was made with a schedule), a schedule or a callable."""
        return self._rate(self.param_groups[0]["lr"] if self.built else self._learning_rate)

    @learning_rate.setter
    def learning_rate(self, value):
        cls = type(self).__name__
        if (isinstance(self._learning_rate, LearningRateSchedule)
                and not isinstance(value, LearningRateSchedule) and not callable(value)):
            raise TypeError(f"{cls}: this optimizer was made with a LearningRateSchedule as its "
                            "learning_rate, so the rate is not settable to a number; make it "
                            "with a float learning_rate to set it later.")
        self._learning_rate = _checked_rate(cls, value)
        self._config["learning_rate"] = self._learning_rate
        for group in getattr(self, "param_groups", []):
            group["lr"] = self._learning_rate

    # -- config ----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = serialize_schedule(lr)
        elif not callable(lr):
            lr = self.learning_rate
        return {**self._config, "learning_rate": lr}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"], custom_objects)
        return cls(**config)

    # -- the step --------------------------------------------------------------------------------
    def _clip(self, grads):
        """Keras's clipping; a limit of 0 or None means none. global_clipnorm takes the norm
        over every gradient the step updates, in all parameter groups."""
        c = self._config
        if c["clipnorm"] and c["clipnorm"] > 0:
            limit = c["clipnorm"]
            return [g * limit / torch.clamp(torch.linalg.vector_norm(g), min=limit) for g in grads]
        if c["global_clipnorm"] and c["global_clipnorm"] > 0 and grads:
            limit = c["global_clipnorm"]
            norm = torch.sqrt(sum(torch.sum(g * g) for g in grads))
            # (norm - norm) turns the scale into NaN when the norm is not finite, as in Keras.
            scale = limit * torch.clamp(1.0 / norm, max=1.0 / limit) + (norm - norm)
            return [g * scale for g in grads]
        if c["clipvalue"] and c["clipvalue"] > 0:
            return [g.clamp(-c["clipvalue"], c["clipvalue"]) for g in grads]
        return grads

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        groups = [(group, [p for p in group["params"] if p.grad is not None])
                  for group in self.param_groups]
        grads = iter(self._clip([p.grad for _, params in groups for p in params]))
        wd = self._config["weight_decay"]
        self._before_updates()
        for group, params in groups:
            lr = float(f32(self._rate(group["lr"])))  # Keras's rate is a float32 variable
            if wd:  # w - w * wd * lr, in Keras's order
                decay = torch._foreach_mul(params, wd)
                torch._foreach_mul_(decay, lr)
                torch._foreach_sub_(params, decay)
            self._update_all(params, [next(grads) for _ in params], [self.state[p] for p in params], lr)
            for p in params:  # Keras: each updated weight projected by its constraint
                if getattr(p, "constraint", None) is not None:
                    p.copy_(p.constraint(p))
        self.iterations += 1
        return loss

    def _before_updates(self) -> None:
        """Once per step, before any weight's update (Nadam advances its momentum product)."""

    def _update_all(self, params, grads, states, lr):
        """One parameter group's update; optimizers with a multi-tensor form override it."""
        for p, g, state in zip(params, grads, states):
            self._update(p, g, state, lr)

    def _update(self, p, g, state, lr):
        raise NotImplementedError


def slot(state: dict, name: str, make):
    """state[name], made on first use (dict.setdefault would build a new tensor every step)."""
    if name not in state:
        state[name] = make()
    return state[name]


def zeros(p):
    return lambda: torch.zeros_like(p, memory_format=torch.preserve_format)


def f32(x) -> torch.Tensor:
    """A float32 scalar: Keras computes an optimizer's scalars (rates, bias corrections) in the
    weights' float32, and 1 - beta_2**t loses digits there that float64 would keep."""
    return torch.as_tensor(x, dtype=torch.float32)


def power32(beta: float, t: int) -> torch.Tensor:
    """beta**t for float32 beta, correctly rounded to float32 as XLA gives it (torch's float32
    pow can be an ulp off, which 1 - beta_2**t magnifies a thousandfold)."""
    return f32(float(f32(beta)) ** t)


# -- argument checks -----------------------------------------------------------------------------
def _is_rate(value) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            or isinstance(value, LearningRateSchedule))


def _default_rate(cls) -> object:
    return inspect.signature(cls.__init__).parameters["learning_rate"].default


def _checked_rate(cls: str, value):
    if isinstance(value, LearningRateSchedule) or callable(value):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValueError(f"{cls}: `learning_rate` must be a float, a LearningRateSchedule or a "
                     "callable of no arguments returning the rate; got "
                     f"learning_rate={value!r}.")


def _check_base(cls, decay, use_ema, ema_momentum, loss_scale_factor,
                gradient_accumulation_steps, clipnorm, clipvalue, global_clipnorm) -> None:
    if decay:
        raise ValueError(f"{cls}: argument `decay` is no longer supported (Keras 3 ignores it "
                         f"with a warning); got decay={decay!r}. Use a learning-rate schedule.")
    if gradient_accumulation_steps is not None:
        if not gradient_accumulation_steps >= 2:
            raise ValueError(f"{cls}: `gradient_accumulation_steps` must be an integer >= 2, "
                             f"got gradient_accumulation_steps={gradient_accumulation_steps!r}.")
        raise NotImplementedError(f"{cls}: gradient_accumulation_steps {_NOT_SUPPORTED}.")
    if use_ema:
        if not 0 <= ema_momentum <= 1:
            raise ValueError(f"{cls}: `ema_momentum` must be in the range [0, 1], got "
                             f"ema_momentum={ema_momentum!r}.")
        raise NotImplementedError(f"{cls}: use_ema=True {_NOT_SUPPORTED}.")
    if loss_scale_factor is not None:
        raise NotImplementedError(f"{cls}: loss_scale_factor {_NOT_SUPPORTED}.")
    if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError(f"{cls}: give at most one of clipnorm, clipvalue and global_clipnorm; "
                         f"got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                         f"global_clipnorm={global_clipnorm}.")


def check_unit_interval(cls: str, arg: str, value, low_open: bool = False) -> None:
    """Keras's range checks: value in [0, 1] (or (0, 1] with `low_open`)."""
    low_ok = value > 0 if low_open else value >= 0
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not (low_ok and value <= 1):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{cls}: `{arg}` must be a float in {interval}, got {arg}={value!r}.")
