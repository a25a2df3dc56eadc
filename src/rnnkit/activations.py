"""Keras 3 activations as torch functions.

`get(identifier)` resolves a name, None (linear) or a callable; `serialize(fn)` gives back the name
that `get_config()` stores.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ._errors import unknown_name

Activation = Callable[[torch.Tensor], torch.Tensor]


def linear(x):
    return x


def relu(x):
    return torch.relu(x)


def relu6(x):
    return torch.clamp(x, 0.0, 6.0)


def tanh(x):
    return torch.tanh(x)


def sigmoid(x):
    return torch.sigmoid(x)


def hard_sigmoid(x):
    """Keras 3 definition: relu6(x + 3) / 6 (Keras 2 used 0.2 x + 0.5)."""
    return torch.clamp(x + 3.0, 0.0, 6.0) / 6.0


def hard_silu(x):
    return x * hard_sigmoid(x)


def elu(x):
    return F.elu(x)


def selu(x):
    return F.selu(x)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def silu(x):
    return x * torch.sigmoid(x)


def gelu(x):
    return F.gelu(x)


def exponential(x):
    return torch.exp(x)


def leaky_relu(x):
    return F.leaky_relu(x, negative_slope=0.2)


def mish(x):
    return x * torch.tanh(F.softplus(x))


def softmax(x):
    return torch.softmax(x, dim=-1)


def log_softmax(x):
    return torch.log_softmax(x, dim=-1)


_ALL: dict[str, Activation] = {
    f.__name__: f
    for f in (linear, relu, relu6, tanh, sigmoid, hard_sigmoid, hard_silu, elu, selu, softplus,
              softsign, silu, gelu, exponential, leaky_relu, mish, softmax, log_softmax)
}
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


def get(identifier: str | Activation | None, where: str | None = None) -> Activation:
    """Resolve an activation given by name, None (linear) or a callable."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        name = _ALIASES.get(identifier, identifier)
        if name in _ALL:
            return _ALL[name]
    raise unknown_name("activation", identifier, list(_ALL) + list(_ALIASES), where)


_NAMES = {f: name for name, f in _ALL.items()}


def registered_name(fn: Activation) -> str | None:
    """The name of one of these activations, or None for any other callable (even one with the
    same __name__: what it computes is unknown)."""
    try:
        return _NAMES.get(fn)
    except TypeError:  # an unhashable callable is no registered function
        return None


def serialize(fn: Activation) -> str:
    """The Keras name of an activation (what get_config stores)."""
    for name, f in _ALL.items():
        if f is fn:
            return name
    return getattr(fn, "__name__", repr(fn))
