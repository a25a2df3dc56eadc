"""Keras 3 weight constraints: a projection applied to a weight after every optimizer update.

    MaxNorm(max_value=2, axis=0):   w · clip(‖w‖, 0, max) / (ε + ‖w‖)
    MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0):
                                    w · (rate · clip(‖w‖, min, max) + (1 − rate) ‖w‖) / (ε + ‖w‖)
    UnitNorm(axis=0):               w / (ε + ‖w‖)
    NonNeg():                       max(w, 0)

‖w‖ is the Euclidean norm along `axis` (axis 0: over each column, i.e. each unit's incoming
weights), ε = 1e-7. On a layer: `kernel_constraint`, `recurrent_constraint`, `bias_constraint`
(and `embeddings_constraint`); rnnkit's optimizers apply it to the parameter after each step, as
Keras's do.
"""

from __future__ import annotations

import torch

from . import _registry

EPSILON = 1e-7


class Constraint:
    """Base class: subclasses implement `__call__(w) -> projected w` and `get_config()`."""

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    return torch.sqrt(torch.sum(torch.square(w), dim=axis, keepdim=True))


class MaxNorm(Constraint):
    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        return w * (torch.clamp(norms, 0, self.max_value) / (EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * torch.clamp(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return torch.clamp(w, min=0)


_CLASSES = {c.__name__: c for c in (MaxNorm, MinMaxNorm, UnitNorm, NonNeg)}
_NAMES = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "unit_norm": UnitNorm, "non_neg": NonNeg}


def get(identifier, where: str | None = None) -> Constraint | None:
    """None, an instance or callable, a name ('max_norm', 'non_neg', 'unit_norm',
    'min_max_norm'), a class name or a config dict."""
    if identifier is None:
        return None
    return _registry.resolve("constraint", identifier, Constraint, _CLASSES, _NAMES, where)


def serialize(constraint) -> str | dict | None:
    return None if constraint is None else _registry.serialize(constraint, Constraint, _NAMES)
