"""Keras 3's metric base (`keras/src/metrics/metric.py`, `reduction_metrics.py`): a Metric keeps
state between `update_state` calls until `reset_state`; Mean, Sum and MeanMetricWrapper reduce
per-sample values, weighted by `sample_weight` and by the mask of the predictions."""

from __future__ import annotations

import numpy as np
import torch

from ..utils.naming import snake_case, unique_name

_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
           "float64": torch.float64}


def as_tensor(value, dtype: torch.dtype, device=None) -> torch.Tensor:
    """`value` (a tensor, array or number) as a detached tensor of `dtype`."""
    if torch.is_tensor(value):
        return value.detach().to(dtype=dtype, device=device or value.device)
    return torch.as_tensor(np.asarray(value), dtype=dtype, device=device)


def same_rank(x1, x2, expand_rank_1: bool = True):
    """Keras's squeeze_or_expand_to_same_rank: where ranks differ by one and the longer has a
    last axis of 1, squeeze it (or expand a rank-1 partner)."""
    if x1.dim() == x2.dim() + 1 and x1.shape[-1] == 1:
        if x2.dim() == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if x2.dim() == x1.dim() + 1 and x2.shape[-1] == 1:
        if x1.dim() == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def masked_weight(sample_weight, mask, dtype):
    """Keras's apply_mask(reduction="sum"): the mask (of the predictions) as a weight, times
    `sample_weight` when there is one."""
    if mask is None:
        return sample_weight
    weight = as_tensor(mask, dtype)
    if sample_weight is None:
        return weight
    weight, sample_weight = same_rank(weight, as_tensor(sample_weight, dtype, weight.device))
    while 0 < sample_weight.dim() < weight.dim():
        # a weight per sample covers all its steps (Keras's own product would not broadcast)
        sample_weight = sample_weight.unsqueeze(-1)
    return sample_weight * weight


def to_result(value: torch.Tensor):
    """What `result()` returns: a float for one value, a float32 array for several (as Keras's
    float32 variables give them)."""
    value = value.detach().cpu()
    return float(value) if value.dim() == 0 else value.to(torch.float32).numpy()


class Metric:
    """The base of every metric: state kept between `update_state` calls.

    Subclasses add state with `add_state` and implement `update_state` and `result`.
    `direction` ("up", "down" or None) says which way a better model moves the value; callbacks
    monitoring it in mode "auto" follow it, as Keras's `_direction`.

    Args:
        dtype: the dtype of the metric's computations (default "float32", Keras's floatx).
        name: the name logged for it (default: the snake_case class name, numbered per session).

    >>> m = Mean()
    >>> m.update_state([1.0, 3.0]); m.result()
    2.0
    """

    direction: str | None = None

    def __init__(self, dtype=None, name=None, direction=None):
        self._legacy = None
        if callable(dtype) and not isinstance(dtype, (str, torch.dtype)):
            # rnnkit's earlier Metric(fn, name, direction): the mean of fn, kept for old code.
            self._legacy = MeanMetricWrapper(dtype, name=name)
            self.direction = direction or self._legacy.direction
            dtype = None
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._dtype = _check_dtype(type(self).__name__, dtype)
        self._states: dict[str, torch.Tensor] = {}

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self._dtype]

    def add_state(self, name: str, shape=()) -> None:
        """A zero tensor of `shape` kept in float64 (exact counts, sums of float32 values)."""
        self._states[name] = torch.zeros(shape, dtype=torch.float64)

    def accumulate(self, name: str, value: torch.Tensor) -> None:
        state = self._states[name]
        self._states[name] = state.to(value.device) + value.to(torch.float64)

    def state(self, name: str) -> torch.Tensor:
        return self._states[name]

    @property
    def variables(self) -> list[torch.Tensor]:
        """The state tensors, in the order they were added."""
        return list(self._states.values())

    def reset_state(self) -> None:
        for name, value in self._states.items():
            self._states[name] = torch.zeros_like(value)
        if self._legacy is not None:
            self._legacy.reset_state()

    def update_state(self, *args, **kwargs):
        if self._legacy is not None:
            return self._legacy.update_state(*args, **kwargs)
        raise NotImplementedError(f"{type(self).__name__}: a Metric subclass implements "
                                  "update_state.")

    def result(self):
        if self._legacy is not None:
            return self._legacy.result()
        raise NotImplementedError(f"{type(self).__name__}: a Metric subclass implements result.")

    @torch.no_grad()
    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _check_dtype(owner: str, dtype) -> str:
    if dtype is None:
        return "float32"
    if isinstance(dtype, torch.dtype):
        dtype = str(dtype).removeprefix("torch.")
    if dtype not in _DTYPES:
        raise ValueError(f"{owner}: expected dtype one of {sorted(_DTYPES)}, got {dtype!r}.")
    return dtype


def samplewise(values, sample_weight, reduce, dtype):
    """Keras's reduce_to_samplewise_values: values reduced (by `reduce`) to the rank of the
    weights, weighted, then to one value per sample; the weights reduced alike."""
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype, values.device)
        values, sample_weight = same_rank(values, sample_weight)
        if values.dim() > sample_weight.dim():
            values = reduce(values, dim=tuple(range(sample_weight.dim(), values.dim())))
        try:
            sample_weight = torch.broadcast_to(sample_weight, values.shape)
        except RuntimeError:
            raise ValueError(f"expected sample_weight (or mask) of a shape that broadcasts to the "
                             f"values {tuple(values.shape)}, got {tuple(sample_weight.shape)}."
                             ) from None
        values = values * sample_weight
        if sample_weight.dim() > 1:
            sample_weight = reduce(sample_weight, dim=tuple(range(1, sample_weight.dim())))
    if values.dim() > 1:
        values = reduce(values, dim=tuple(range(1, values.dim())))
    return values, sample_weight


class Sum(Metric):
    """The weighted sum of every value seen.

    Args:
        name: the logged name.
        dtype: the dtype of the computations.

    >>> m = Sum()
    >>> m.update_state([1.0, 3.0, 5.0], sample_weight=[1, 0, 1]); m.result()
    6.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.total = 0.0

    def reset_state(self) -> None:
        self.total = 0.0

    @torch.no_grad()
    def update_state(self, values, sample_weight=None):
        values = as_tensor(values, self.torch_dtype)
        values, _ = samplewise(values, sample_weight, torch.sum, self.torch_dtype)
        self.total += float(values.double().sum())

    def result(self) -> float:
        return self.total


class Mean(Metric):
    """The weighted mean of every value seen: sum(values · w) / sum(w), 0 before any.

    `total` and `count` are plain floats (float64), which a data-parallel run sums over ranks.
    Values of rank > 1 count once per sample (their mean over the other axes).

    Args:
        name: the logged name.
        dtype: the dtype of the computations.

    >>> m = Mean()
    >>> m.update_state([1.0, 3.0, 5.0], sample_weight=[1, 0, 1]); m.result()
    3.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.total, self.count = 0.0, 0.0

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    @torch.no_grad()
    def update_state(self, values, sample_weight=None):
        if _is_number(values) and (sample_weight is None or _is_number(sample_weight)):
            weight = 1.0 if sample_weight is None else float(sample_weight)
            self.total += float(values) * weight  # the loss tracker's path: no tensors
            self.count += weight
            return
        values = as_tensor(values, self.torch_dtype)
        values, weight = samplewise(values, sample_weight, torch.mean, self.torch_dtype)
        self.total += float(values.double().sum())
        if weight is not None:
            self.count += float(weight.double().sum())
        else:
            self.count += values.shape[0] if values.dim() >= 1 else 1

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


class MeanMetricWrapper(Mean):
    """The mean of `fn(y_true, y_pred, **kwargs)` over every sample seen.

    A mask (the `mask=` argument, or the `_keras_mask` the predictions carry) weighs the values
    as Keras's apply_mask does: masked steps are left out, times any `sample_weight`.

    Args:
        fn: a function of (y_true, y_pred) giving per-sample (or per-element) values.
        name: the logged name.
        dtype: the dtype of the computations.
        **kwargs: passed on to `fn`.

    >>> m = MeanMetricWrapper(lambda t, p: (t - p).abs(), name="gap")
    >>> m.update_state([[0.0], [1.0]], [[1.0], [1.0]]); m.result()
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: expected fn to be callable, got {fn!r}.")
        super().__init__(name=name or unique_name("mean_metric_wrapper"), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs
        from .functions import direction_of
        self.direction = direction_of(fn)

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        if mask is None:
            mask = getattr(y_pred, "_keras_mask", None)
        dtype = self.torch_dtype
        floating = torch.is_tensor(y_pred) and torch.is_floating_point(y_pred)
        y_pred = as_tensor(y_pred, y_pred.dtype if floating else dtype)
        y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        weight = masked_weight(sample_weight, mask, dtype)
        super().update_state(as_tensor(values, dtype), sample_weight=weight)

    def get_config(self) -> dict:
        config = {**super().get_config(), "fn": getattr(self._fn, "__name__", repr(self._fn))}
        return {**config, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        fn = config.get("fn")
        if isinstance(fn, str):  # subclasses' configs have no fn: their class knows it
            from .functions import FUNCTIONS
            if fn not in FUNCTIONS:
                raise ValueError(f"MeanMetricWrapper.from_config: unknown function {fn!r}; "
                                 f"expected one of {sorted(FUNCTIONS)}.")
            config["fn"] = FUNCTIONS[fn]
        return cls(**config)
