"""Keras 3 metrics: stateful objects that accumulate over batches until `reset_state`, the
functions behind them, and the identifiers `compile(metrics=[...])` accepts.

>>> from rnnkit import metrics
>>> m = metrics.get("AUC")
>>> m.name, type(m).__name__
('AUC', 'AUC')
"""

from __future__ import annotations

import inspect

from .._errors import unknown_name
from ..utils.naming import snake_case
from .accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy)
from .auc import AUC
from .base import Mean, MeanMetricWrapper, Metric, Sum
from .confusion import FalseNegatives, FalsePositives, TrueNegatives, TruePositives
from .f_score import F1Score, FBetaScore
from .functions import (accuracy, binary_accuracy, categorical_accuracy,
                        mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                        sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                        top_k_categorical_accuracy)
from .precision_recall import Precision, Recall
from .regression import (BinaryCrossentropy, CategoricalCrossentropy, MeanAbsoluteError,
                         MeanAbsolutePercentageError, MeanSquaredError, RootMeanSquaredError,
                         SparseCategoricalCrossentropy)

_CLASSES = (Mean, Sum, MeanMetricWrapper, MeanSquaredError, RootMeanSquaredError,
            MeanAbsoluteError, MeanAbsolutePercentageError, AUC, FalseNegatives, FalsePositives,
            Precision, Recall, TrueNegatives, TruePositives, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy, Accuracy, BinaryAccuracy,
            CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
            SparseTopKCategoricalAccuracy, F1Score, FBetaScore)
# Keras's ALL_OBJECTS_DICT: class names, their snake_case names and a few short aliases.
_BY_NAME = {**{cls.__name__: cls for cls in _CLASSES},
            **{snake_case(cls.__name__): cls for cls in _CLASSES},
            "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
            "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
            "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError}
_ACCURACIES = ("accuracy", "acc")  # compared lowercased, as Keras's compile does


def _is_serialized(identifier) -> bool:
    return isinstance(identifier, dict) and "class_name" in identifier


def _accuracy_for(name: str, y_true_shape, y_pred_shape) -> Metric:
    """Keras's reading of "accuracy" in compile: binary for one output unit, sparse categorical
    when targets have one axis fewer (or a last axis of 1), categorical otherwise."""
    if y_pred_shape[-1] == 1:
        return BinaryAccuracy(name=name)
    if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def _known() -> list[str]:
    return sorted(set(_BY_NAME) | set(_ACCURACIES))


def check(identifier, where: str | None = None) -> None:
    """Fail at compile time on an identifier that `get` could not resolve later (creating
    nothing, so default names are numbered as Keras numbers them)."""
    if isinstance(identifier, Metric) or (inspect.isclass(identifier)
                                          and issubclass(identifier, Metric)):
        return
    if isinstance(identifier, str):
        if identifier.lower() in _ACCURACIES or identifier in _BY_NAME:
            return
        raise unknown_name("metric", identifier, _known(), where)
    if _is_serialized(identifier):
        if identifier["class_name"] not in _BY_NAME:
            raise unknown_name("metric class", identifier["class_name"], list(_BY_NAME), where)
        return
    if callable(identifier) and not inspect.isclass(identifier):
        return
    prefix = f"{where}: " if where else ""
    raise ValueError(f"{prefix}could not interpret metric identifier {identifier!r}; expected a "
                     "name, a Metric (class or instance), a function or a serialized metric.")


def get(identifier, y_true_shape=None, y_pred_shape=None, where: str | None = None) -> Metric:
    """A Metric from a Keras identifier, named as Keras's compile names it.

    Args:
        identifier: a name ("mae", "AUC", "precision", ...; "accuracy"/"acc" pick binary,
            sparse or categorical accuracy from the shapes), a Metric instance (used as is) or
            class, a function (averaged by MeanMetricWrapper) or a serialized metric.
        y_true_shape: the targets' shape (for "accuracy").
        y_pred_shape: the predictions' shape (for "accuracy").
        where: who asks, for error messages.

    Returns:
        A Metric; one made from a name is logged under that name.

    >>> get("mse").name, type(get("mse")).__name__
    ('mse', 'MeanSquaredError')
    """
    check(identifier, where)
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in _ACCURACIES and y_pred_shape is not None:
            return _accuracy_for(identifier, tuple(y_true_shape), tuple(y_pred_shape))
        if identifier not in _BY_NAME:  # "acc" is compile's word only, as in Keras
            raise unknown_name("metric", identifier, list(_BY_NAME), where)
        metric = _BY_NAME[identifier]()
        metric.name = identifier
        return metric
    if _is_serialized(identifier):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    name = getattr(identifier, "name", None) or snake_case(
        getattr(identifier, "__name__", type(identifier).__name__)).strip("_")
    return MeanMetricWrapper(identifier, name=_keras_snake(name))


def _keras_snake(name: str) -> str:
    """Keras's to_snake_case drops characters other than letters, digits and "_" first
    ("<lambda>" -> "lambda")."""
    return snake_case("".join(ch for ch in name if ch.isalnum() or ch == "_"))


def serialize(metric) -> dict | str:
    """{"class_name", "config"} of a Metric; a metric function's name.

    >>> serialize(Precision(name="p"))["config"]["name"]
    'p'
    """
    if isinstance(metric, Metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    if callable(metric) and hasattr(metric, "__name__"):
        return metric.__name__
    raise ValueError(f"serialize: expected a Metric or a metric function, got {metric!r}.")


def deserialize(config, custom_objects=None) -> Metric:
    """A Metric from `serialize`'s dict (or a name), classes looked up in Keras's names and in
    `custom_objects`.

    >>> deserialize({"class_name": "AUC", "config": {"curve": "PR"}}).curve
    'PR'
    """
    if isinstance(config, str):
        return get(config)
    if not _is_serialized(config):
        raise ValueError(f"deserialize: expected a name or a dict with 'class_name' and "
                         f"'config', got {config!r}.")
    known = {**_BY_NAME, **(custom_objects or {})}
    name = config["class_name"]
    if name not in known:
        raise unknown_name("metric class", name, list(known), "deserialize")
    return known[name].from_config(dict(config.get("config") or {}))


__all__ = [cls.__name__ for cls in _CLASSES] + [
    "Metric", "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "mean_squared_error",
    "mean_absolute_error", "mean_absolute_percentage_error", "get", "check", "serialize",
    "deserialize"]
