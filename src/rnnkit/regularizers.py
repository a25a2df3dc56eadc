"""Keras 3 weight regularizers: a penalty `regularizer(w)` added to the training loss.

    L1(l1=0.01):          l1 · Σ|w|
    L2(l2=0.01):          l2 · Σ w²
    L1L2(l1=0.0, l2=0.0): l1 · Σ|w| + l2 · Σ w²

On a layer: `kernel_regularizer`, `recurrent_regularizer`, `bias_regularizer` (and
`embeddings_regularizer`) penalize the weight; `activity_regularizer` penalizes each output
tensor of a call, divided by its batch size, as Keras does. `layer.losses` / `model.losses` list
the current penalties, and `fit`/`train_on_batch` add them to the loss they report and minimize.
"""

from __future__ import annotations

import torch

from . import _registry


class Regularizer:
    """Base class: subclasses implement `__call__(w) -> scalar tensor` and `get_config()`."""

    def __call__(self, w):
        return w.new_zeros(())

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _factor(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name}: expected a non-negative number, got {value!r}.")
    return float(value)


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = _factor(l1, "L1 l1")

    def __call__(self, w):
        return self.l1 * torch.sum(torch.abs(w))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = _factor(l2, "L2 l2")

    def __call__(self, w):
        return self.l2 * torch.sum(torch.square(w))

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(l1, "L1L2 l1")
        self.l2 = _factor(l2, "L1L2 l2")

    def __call__(self, w):
        penalty = w.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * torch.sum(torch.abs(w))
        if self.l2:
            penalty = penalty + self.l2 * torch.sum(torch.square(w))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


_CLASSES = {c.__name__: c for c in (L1, L2, L1L2)}
_NAMES = {"l1": L1, "l2": L2, "l1l2": L1L2}  # Keras 3 has no "l1_l2" name, only the alias below


def get(identifier, where: str | None = None) -> Regularizer | None:
    """None, an instance or callable, a name ("l1", "l2", "l1l2"), a class name or a config dict."""
    if identifier is None:
        return None
    return _registry.resolve("regularizer", identifier, Regularizer, _CLASSES, _NAMES, where)


def serialize(regularizer) -> str | dict | None:
    return None if regularizer is None else _registry.serialize(regularizer, Regularizer, _NAMES)


l1, l2, l1_l2 = L1, L2, L1L2
