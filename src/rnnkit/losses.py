"""Keras 3 losses: per-sample functions averaged over the last axis, reduced by the mean over
samples ("sum_over_batch_size")."""

from __future__ import annotations

import torch

from ._errors import unknown_name

EPSILON = 1e-7  # Keras's backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON]


def mean_squared_error(y_true, y_pred):
    return torch.mean((y_pred - y_true) ** 2, dim=-1)


def mean_absolute_error(y_true, y_pred):
    return torch.mean(torch.abs(y_pred - y_true), dim=-1)


def huber(y_true, y_pred, delta=1.0):
    err = torch.abs(y_pred - y_true)
    quadratic = torch.clamp(err, max=delta)
    return torch.mean(0.5 * quadratic**2 + delta * (err - quadratic), dim=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    if from_logits:
        per = torch.nn.functional.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
        per = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))
    return torch.mean(per, dim=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    if from_logits:
        return -torch.sum(y_true * torch.log_softmax(y_pred, dim=-1), dim=-1)
    p = y_pred / torch.sum(y_pred, dim=-1, keepdim=True)
    p = torch.clamp(p, EPSILON, 1.0 - EPSILON)
    return -torch.sum(y_true * torch.log(p), dim=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    labels = y_true.long()
    if from_logits:
        log_p = torch.log_softmax(y_pred, dim=-1)
    else:
        p = y_pred / torch.sum(y_pred, dim=-1, keepdim=True)
        log_p = torch.log(torch.clamp(p, EPSILON, 1.0 - EPSILON))
    return -torch.gather(log_p, -1, labels.unsqueeze(-1)).squeeze(-1)


def align(y_true, y_pred):
    """Keras's squeeze_or_expand_to_same_rank: targets (batch,) meet predictions (batch, 1)."""
    if y_true.dim() == y_pred.dim() - 1 and y_pred.shape[-1] == 1:
        y_true = y_true.unsqueeze(-1)
    elif y_true.dim() == y_pred.dim() + 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    if torch.is_floating_point(y_pred) and y_true.dtype != y_pred.dtype:
        y_true = y_true.to(y_pred.dtype)
    return y_true, y_pred


def masked_mean(values, mask=None):
    """The mean of per-step values over the steps a (batch, time) mask keeps (Keras's
    apply_mask: sum(values · mask) / sum(mask), 0 when nothing is kept); the plain mean when
    there is no mask or it does not fit the values."""
    if mask is None or tuple(mask.shape) != tuple(values.shape):
        return torch.mean(values)
    weight = mask.to(values.dtype)
    return (values * weight).sum() / weight.sum().clamp_min(1.0)


class Loss:
    """A loss object: `loss(y_true, y_pred)` gives the mean over samples of `fn(y_true, y_pred)`;
    `mask=` (the model's output mask) leaves the masked time steps out of that mean."""

    fn = None
    sparse = False  # targets are class ids: keep their dtype and rank

    def __init__(self, name=None, **fn_kwargs):
        self.name = name or _DEFAULT_NAMES[type(self).__name__]
        self.fn_kwargs = fn_kwargs

    def __call__(self, y_true, y_pred, mask=None):
        if not self.sparse:
            y_true, y_pred = align(y_true, y_pred)
        return masked_mean(type(self).fn(y_true, y_pred, **self.fn_kwargs), mask)

    def get_config(self):
        return {"name": self.name, **self.fn_kwargs}


class MeanSquaredError(Loss):
    fn = staticmethod(mean_squared_error)


class MeanAbsoluteError(Loss):
    fn = staticmethod(mean_absolute_error)


class Huber(Loss):
    fn = staticmethod(huber)

    def __init__(self, delta=1.0, name=None):
        super().__init__(name, delta=delta)


class _Probabilistic(Loss):
    def __init__(self, from_logits=False, name=None):
        super().__init__(name, from_logits=from_logits)


class BinaryCrossentropy(_Probabilistic):
    fn = staticmethod(binary_crossentropy)


class CategoricalCrossentropy(_Probabilistic):
    fn = staticmethod(categorical_crossentropy)


class SparseCategoricalCrossentropy(_Probabilistic):
    fn = staticmethod(sparse_categorical_crossentropy)
    sparse = True


_DEFAULT_NAMES = {
    "MeanSquaredError": "mean_squared_error", "MeanAbsoluteError": "mean_absolute_error",
    "Huber": "huber_loss", "BinaryCrossentropy": "binary_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
}
_NAMES = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "huber": Huber,
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_CLASSES = {cls.__name__: cls for cls in set(_NAMES.values())}


_FUNCTIONS = {fn.__name__: fn for fn in (mean_squared_error, mean_absolute_error, huber,
                                          binary_crossentropy, categorical_crossentropy,
                                          sparse_categorical_crossentropy)}


def get(identifier, where: str | None = None):
    """A callable `loss(y_true, y_pred) -> scalar` from a name, a `{"class_name", "config"}`
    dict (what `serialize` gives), a Loss class or instance, or a function returning per-sample
    losses (averaged like Keras)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is not None:
            return cls(**identifier.get("config", {}))
        identifier = identifier.get("class_name")
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier) or _CLASSES.get(identifier)
        if cls is not None:
            return cls()
    elif callable(identifier):
        return _FunctionLoss(identifier)
    raise unknown_name("loss", identifier, list(_NAMES), where)


class _FunctionLoss(Loss):
    def __init__(self, fn):
        self.name, self.fn_kwargs, self._fn = getattr(fn, "__name__", "loss"), {}, fn

    def __call__(self, y_true, y_pred, mask=None):
        return masked_mean(self._fn(*align(y_true, y_pred)), mask)


def serialize(loss) -> str | dict | None:
    """What `get` turns back into the same loss: a Keras name when the loss is one of rnnkit's
    with its default settings, else `{"class_name", "config"}`; None for a user's function."""
    if isinstance(loss, _FunctionLoss):
        name = getattr(loss._fn, "__name__", None)
        return name if _FUNCTIONS.get(name) is loss._fn else None
    cls = type(loss)
    if _CLASSES.get(cls.__name__) is not cls:
        return None
    if loss.get_config() == cls().get_config():
        return next(name for name, known in _NAMES.items() if known is cls)
    return {"class_name": cls.__name__, "config": loss.get_config()}
