"""Keras 3's losses on PyTorch: per-sample functions (`mean_squared_error`, ...), the classes
that reduce them (`MeanSquaredError`, ...), the `Loss` base class, and `get`/`serialize`/
`deserialize` with Keras's names and aliases ("mse", "mae", "mape", "msle", "kld", "bce")."""

from __future__ import annotations

from .._errors import unknown_name
from .base import (EPSILON, Loss, LossFunctionWrapper, align, masked_mean,
                   reduce_weighted_values, squeeze_or_expand_to_same_rank)
from .classes import (BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
                      CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy,
                      CategoricalHinge, Circle, CosineSimilarity, Dice, Hinge, Huber, KLDivergence,
                      LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                      MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy,
                      SquaredHinge, Tversky)
from .probabilistic import (binary_crossentropy, binary_focal_crossentropy,
                            categorical_crossentropy, categorical_focal_crossentropy,
                            categorical_generalized_cross_entropy,
                            sparse_categorical_crossentropy)
from .regression import (categorical_hinge, cosine_similarity, dice, hinge, huber,
                         kl_divergence, log_cosh, mean_absolute_error,
                         mean_absolute_percentage_error, mean_squared_error,
                         mean_squared_logarithmic_error, poisson, squared_hinge, tversky)
from .similarity import circle

# Each built-in function and the class that reduces it, in the order serialize prefers names.
_PAIRS = (
    (mean_squared_error, MeanSquaredError), (mean_absolute_error, MeanAbsoluteError),
    (mean_absolute_percentage_error, MeanAbsolutePercentageError),
    (mean_squared_logarithmic_error, MeanSquaredLogarithmicError),
    (cosine_similarity, CosineSimilarity), (huber, Huber), (log_cosh, LogCosh),
    (hinge, Hinge), (squared_hinge, SquaredHinge), (categorical_hinge, CategoricalHinge),
    (kl_divergence, KLDivergence), (poisson, Poisson),
    (binary_crossentropy, BinaryCrossentropy),
    (binary_focal_crossentropy, BinaryFocalCrossentropy),
    (categorical_crossentropy, CategoricalCrossentropy),
    (categorical_focal_crossentropy, CategoricalFocalCrossentropy),
    (sparse_categorical_crossentropy, SparseCategoricalCrossentropy),
    (categorical_generalized_cross_entropy, CategoricalGeneralizedCrossEntropy),
    (dice, Dice), (tversky, Tversky), (circle, Circle),
)
_FUNCTIONS = {fn.__name__: fn for fn, _ in _PAIRS}
_CLASSES = {cls.__name__: cls for _, cls in _PAIRS}
# Keras 3's aliases, then Keras 2's names that Keras 3 dropped (read in older files).
_ALIASES = {
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "kld": kl_divergence, "KLD": kl_divergence,
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "logcosh": log_cosh, "kullback_leibler_divergence": kl_divergence,
}
# A name (function, alias or class) -> the class `get` builds for it.
_NAMES = {**{name: cls for fn, cls in _PAIRS for name in [fn.__name__]},
          **{alias: dict(_PAIRS)[fn] for alias, fn in _ALIASES.items()}}


class _FunctionLoss(LossFunctionWrapper):
    """A function returning per-sample losses, reduced like Keras's wrapper of it."""

    def __init__(self, fn):
        super().__init__(fn, name=getattr(fn, "__name__", None) or "loss")

    def get_config(self):
        # As the class `get` gives for a built-in function's name: saved and reloaded alike.
        return Loss.get_config(self)


def get(identifier, where: str | None = None):
    """A loss object `loss(y_true, y_pred, sample_weight=None) -> scalar` for compile.

    Args:
        identifier: a name ("mse", "mean_squared_error", "MeanSquaredError", ...), a
            `{"class_name", "config"}` dict (what `serialize` gives), a Loss class or instance,
            or a function returning per-sample losses (wrapped, averaged as Keras averages it).
            Keras's `get` returns the function for a function's name; rnnkit returns its
            class, which gives the same values under the default reduction.
        where: who asks, for the error message.

    >>> get("mse").name
    'mean_squared_error'
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is not None:
            return cls.from_config(dict(identifier.get("config") or {}))
        identifier = identifier.get("class_name")
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier) or _CLASSES.get(identifier)
        if cls is not None:
            return cls()
    elif callable(identifier) and not isinstance(identifier, type):
        return _FunctionLoss(identifier)
    raise unknown_name("loss", identifier, list(_NAMES) + list(_CLASSES), where)


def deserialize(name, custom_objects=None):
    """What Keras's `losses.deserialize` gives: the function for a function's name or alias,
    a loss object for a class name or a `{"class_name", "config"}` dict.

    Args:
        name: the name or dict.
        custom_objects: names of the user's own loss classes and functions.

    >>> deserialize("mae") is mean_absolute_error
    True
    """
    custom = dict(custom_objects or {})
    key = name.get("class_name") if isinstance(name, dict) else name
    found = custom.get(key) if isinstance(key, str) else None
    if found is None and isinstance(name, str):
        found = _FUNCTIONS.get(name) or _ALIASES.get(name)
    if found is None and isinstance(key, str):
        found = _CLASSES.get(key)
    if found is None:
        raise unknown_name("loss", key, list(_FUNCTIONS) + list(_ALIASES) + list(_CLASSES),
                           "losses.deserialize")
    if isinstance(found, type):
        config = dict(name.get("config") or {}) if isinstance(name, dict) else {}
        return found.from_config(config)
    return found


def serialize(loss) -> str | dict | None:
    """What `get` turns back into the same loss: a Keras name when the loss is one of rnnkit's
    with its default settings, else `{"class_name", "config"}`; None for a user's function.

    >>> serialize(Huber(delta=2.0))["config"]["delta"]
    2.0
    """
    if isinstance(loss, _FunctionLoss):
        name = getattr(loss.fn, "__name__", None)
        return name if _FUNCTIONS.get(name) is loss.fn else None
    if callable(loss) and not isinstance(loss, (Loss, type)):
        name = getattr(loss, "__name__", None)
        return name if _FUNCTIONS.get(name) is loss else None
    cls = type(loss)
    if _CLASSES.get(cls.__name__) is not cls:
        return None
    if loss.get_config() == cls().get_config():
        return next(name for name, known in _NAMES.items() if known is cls)
    return {"class_name": cls.__name__, "config": loss.get_config()}


__all__ = ["EPSILON", "Loss", "LossFunctionWrapper", "align", "masked_mean",
           "reduce_weighted_values", "squeeze_or_expand_to_same_rank", "get", "serialize",
           "deserialize", *_CLASSES, *_FUNCTIONS]
