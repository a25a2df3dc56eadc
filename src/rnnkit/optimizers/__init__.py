"""Keras 3 optimizers as `torch.optim.Optimizer`s, and Keras's learning-rate schedules
(`rnnkit.optimizers.schedules`).

Every optimizer takes model.parameters() (torch style) or builds itself at the first step of
`fit` (Keras style), takes a float, a schedule or a callable as `learning_rate`, and clips
(`clipnorm`, `clipvalue`, `global_clipnorm`) and decays weights (`weight_decay`) as Keras does.
"""

from __future__ import annotations

import torch

from .._errors import unknown_name
from . import schedules
from .adam import Adam, Adamax, AdamW, Nadam
from .adaptive import Adadelta, Adagrad, RMSprop
from .base import Optimizer
from .gradient_descent import SGD, Lion

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Nadam", "Adamax", "RMSprop", "Adagrad",
           "Adadelta", "Lion", "schedules", "get", "serialize", "deserialize"]

_NAMES = {cls.__name__.lower(): cls for cls in (
    SGD, Adam, AdamW, Nadam, Adamax, RMSprop, Adagrad, Adadelta, Lion)}


def serialize(optimizer) -> dict:
    """The optimizer's settings as Keras writes them: `{"module", "class_name", "config",
    "registered_name"}` (a schedule nested in the config the same way). Its state (slots,
    iterations) is not part of it.

    Args:
        optimizer: One of rnnkit's optimizers.

    >>> serialize(Adam(0.01))["config"]["learning_rate"]
    0.01
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError("optimizers.serialize: expected one of rnnkit's optimizers, got "
                        f"{type(optimizer).__name__}.")
    cls = type(optimizer)
    builtin = _NAMES.get(cls.__name__.lower()) is cls
    return {"module": "keras.optimizers" if builtin else cls.__module__,
            "class_name": cls.__name__, "config": optimizer.get_config(),
            "registered_name": None if builtin else cls.__name__}


def deserialize(config, custom_objects=None) -> Optimizer:
    """An optimizer from `serialize`'s dict (or a bare `{"class_name", "config"}`); built-in
    class names in any case, as in Keras.

    Args:
        config: The dict.
        custom_objects: Optional `{name: class}` for optimizers or schedules of your own.

    >>> type(deserialize({"class_name": "adam", "config": {}})).__name__
    'Adam'
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("optimizers.deserialize: expected a dict with 'class_name' and "
                         f"'config', got {config!r}.")
    name = str(config["class_name"])
    cls = (custom_objects or {}).get(name) or _NAMES.get(name.lower())
    if cls is None:
        raise unknown_name("optimizer", name, list(_NAMES), "optimizers.deserialize")
    return cls.from_config(dict(config.get("config") or {}), custom_objects)


def get(identifier, where: str | None = None):
    """An optimizer from a name ("adam"), a class, a `{"class_name", "config"}` dict or an
    instance (rnnkit's or any `torch.optim.Optimizer`, returned as it is).

    Args:
        identifier: What to resolve.
        where: Prefix of the error message (the model's name).

    >>> type(get("nadam")).__name__
    'Nadam'
    """
    if isinstance(identifier, torch.optim.Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict):
        cls = _NAMES.get(str(identifier.get("class_name", "")).lower())
        if cls is not None:
            return cls.from_config(dict(identifier.get("config") or {}))
        identifier = identifier.get("class_name")
    if isinstance(identifier, str) and identifier.lower() in _NAMES:
        return _NAMES[identifier.lower()]()
    raise unknown_name("optimizer", identifier, list(_NAMES), where)
