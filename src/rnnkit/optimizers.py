"""Keras 3 optimizers as `torch.optim.Optimizer`s.

The update rules are Keras's, not torch's (they differ: e.g. Keras's Adam adds epsilon to sqrt(v)
before bias correction, torch after), so a model trained here follows the same path as in Keras.
Parameters may be given at construction (torch style) or later by `compile`/`fit` (Keras style):
`Adam(learning_rate=1e-3)` builds itself on the model's weights at the first step.
"""

from __future__ import annotations

import math

import torch

from ._errors import unknown_name
from .utils.naming import snake_case, unique_name


class Optimizer(torch.optim.Optimizer):
    """Shared parts: lazy building, gradient clipping, weight decay, `iterations`."""

    def __init__(self, params=None, *, learning_rate, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, lr=None, **hyper):
        if isinstance(params, (int, float)):  # Keras style: Adam(0.01)
            params, learning_rate = None, float(params)
        if lr is not None:  # torch style: Adam(model.parameters(), lr=0.01)
            learning_rate = lr
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{type(self).__name__}: give at most one of clipnorm, clipvalue and "
                             "global_clipnorm.")
        self._config = {"name": name or unique_name(snake_case(type(self).__name__)),
                        "learning_rate": learning_rate,
                        "weight_decay": weight_decay, "clipnorm": clipnorm, "clipvalue": clipvalue,
                        "global_clipnorm": global_clipnorm, **hyper}
        self.name = self._config["name"]
        self.iterations = 0
        self.built = False
        if params is not None:
            self.build(params)

    def build(self, params) -> None:
        defaults = {"lr": self._config["learning_rate"]}
        torch.optim.Optimizer.__init__(self, params, defaults)
        self.built = True

    @property
    def learning_rate(self):
        return self.param_groups[0]["lr"] if self.built else self._config["learning_rate"]

    @learning_rate.setter
    def learning_rate(self, value):
        self._config["learning_rate"] = value
        for group in getattr(self, "param_groups", []):
            group["lr"] = value

    def get_config(self) -> dict:
        return {**self._config, "learning_rate": self.learning_rate}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

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
        for group, params in groups:
            lr = group["lr"](self.iterations) if callable(group["lr"]) else group["lr"]
            if wd:
                torch._foreach_sub_(params, torch._foreach_mul(params, wd * lr))
            self._update_all(params, [next(grads) for _ in params], [self.state[p] for p in params], lr)
            for p in params:  # Keras: each updated weight projected by its constraint
                if getattr(p, "constraint", None) is not None:
                    p.copy_(p.constraint(p))
        self.iterations += 1
        return loss

    def _update_all(self, params, grads, states, lr):
        """One parameter group's update; optimizers with a multi-tensor form override it."""
        for p, g, state in zip(params, grads, states):
            self._update(p, g, state, lr)

    def _update(self, p, g, state, lr):
        raise NotImplementedError


def _slot(state: dict, name: str, make):
    """state[name], made on first use (dict.setdefault would build a new tensor every step)."""
    if name not in state:
        state[name] = make()
    return state[name]


class SGD(Optimizer):
    """v ← momentum·v − lr·g; w ← w + v (nesterov: w ← w + momentum·v − lr·g)."""

    def __init__(self, params=None, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(params, learning_rate=learning_rate, momentum=momentum,
                         nesterov=nesterov, **kwargs)

    def _update(self, p, g, state, lr):
        momentum = self._config["momentum"]
        if not momentum:
            p.sub_(lr * g)
            return
        v = _slot(state, "momentum", lambda: torch.zeros_like(p))
        v.mul_(momentum).sub_(lr * g)
        p.add_(momentum * v - lr * g if self._config["nesterov"] else v)


class Adam(Optimizer):
    """m ← m + (g − m)(1 − β1); v ← v + (g² − v)(1 − β2);
    w ← w − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε)."""

    def __init__(self, params=None, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(params, learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, **kwargs)

    def _update_all(self, params, grads, states, lr):
        # The same operations as Keras, in the same order, on all the group's tensors at once
        # (one multi-tensor op per line: a few dozen small ops cost more than the arithmetic).
        if not params:
            return
        c = self._config
        t = self.iterations + 1
        alpha = lr * math.sqrt(1.0 - c["beta_2"] ** t) / (1.0 - c["beta_1"] ** t)
        m = [_slot(state, "m", lambda: torch.zeros_like(p)) for p, state in zip(params, states)]
        v = [_slot(state, "v", lambda: torch.zeros_like(p)) for p, state in zip(params, states)]
        dm = torch._foreach_sub(grads, m)
        torch._foreach_mul_(dm, 1.0 - c["beta_1"])
        torch._foreach_add_(m, dm)
        dv = torch._foreach_mul(grads, grads)
        torch._foreach_sub_(dv, v)
        torch._foreach_mul_(dv, 1.0 - c["beta_2"])
        torch._foreach_add_(v, dv)
        if c["amsgrad"]:
            v_hat = [_slot(state, "v_hat", lambda: torch.zeros_like(p)) for p, state in zip(params, states)]
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        denom = torch._foreach_sqrt(v)
        torch._foreach_add_(denom, c["epsilon"])
        step = torch._foreach_mul(m, alpha)
        torch._foreach_div_(step, denom)
        torch._foreach_sub_(params, step)


class AdamW(Adam):
    """Adam with decoupled weight decay: w ← w − lr·wd·w before each update."""

    def __init__(self, params=None, learning_rate=0.001, weight_decay=0.004, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(params, learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """v ← ρv + (1 − ρ)g²; w ← w − lr·g / √(v − ḡ² + ε) (ḡ only when centered)."""

    def __init__(self, params=None, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(params, learning_rate=learning_rate, rho=rho, momentum=momentum,
                         epsilon=epsilon, centered=centered, **kwargs)

    def _update(self, p, g, state, lr):
        c = self._config
        v = _slot(state, "velocity", lambda: torch.zeros_like(p))
        v.mul_(c["rho"]).add_((1.0 - c["rho"]) * g * g)
        denominator = v + c["epsilon"]
        if c["centered"]:
            g_avg = _slot(state, "average_gradient", lambda: torch.zeros_like(p))
            g_avg.mul_(c["rho"]).add_((1.0 - c["rho"]) * g)
            denominator = denominator - g_avg * g_avg
        increment = lr * g / torch.sqrt(denominator)
        if c["momentum"]:
            buf = _slot(state, "momentum", lambda: torch.zeros_like(p))
            buf.mul_(c["momentum"]).add_(increment)
            increment = buf
        p.sub_(increment)


class Adagrad(Optimizer):
    """a ← a + g²; w ← w − lr·g / √(a + ε), a starting at initial_accumulator_value."""

    def __init__(self, params=None, learning_rate=0.001, initial_accumulator_value=0.1,
                 epsilon=1e-7, **kwargs):
        super().__init__(params, learning_rate=learning_rate,
                         initial_accumulator_value=initial_accumulator_value, epsilon=epsilon,
                         **kwargs)

    def _update(self, p, g, state, lr):
        c = self._config
        a = _slot(state, "accumulator", lambda: torch.full_like(p, c["initial_accumulator_value"]))
        a.add_(g * g)
        p.sub_(lr * g / torch.sqrt(a + c["epsilon"]))


_NAMES = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier, where: str | None = None):
    """An optimizer from a name ("adam"), a class, a `{"class_name", "config"}` dict or an
    instance (rnnkit's or any `torch.optim.Optimizer`)."""
    if isinstance(identifier, torch.optim.Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict):
        cls = _NAMES.get(str(identifier.get("class_name", "")).lower())
        if cls is not None:
            return cls.from_config(identifier.get("config", {}))
        identifier = identifier.get("class_name")
    if isinstance(identifier, str) and identifier.lower() in _NAMES:
        return _NAMES[identifier.lower()]()
    raise unknown_name("optimizer", identifier, list(_NAMES), where)
