"""The Keras 3 `Loss` base class and how a loss is reduced: per-sample values, weighted by
`sample_weight` and the model's output mask, then summed or averaged (`reduction`)."""

from __future__ import annotations

import torch

from ..utils.naming import snake_case, unique_name

EPSILON = 1e-7  # Keras's backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON]
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def check_reduction(owner: str, reduction):
    """`reduction` when Keras knows it, else a ValueError naming `owner`."""
    if not any(reduction == known and type(reduction) is type(known) for known in REDUCTIONS):
        raise ValueError(f"{owner}: expected reduction to be one of {list(REDUCTIONS)}, got "
                         f"{reduction!r}.")
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras's rank rule: when the ranks differ by one and the longer tensor's last axis is 1,
    squeeze that axis, or expand the rank-1 tensor instead (targets (n,) meet predictions (n, 1)).

    >>> [tuple(t.shape) for t in squeeze_or_expand_to_same_rank(torch.ones(4, 3), torch.ones(4, 3, 1))]
    [(4, 3), (4, 3)]
    """
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def align(y_true, y_pred):
    """Targets (batch,) meet predictions (batch, 1), and float targets take the predictions'
    dtype (what rnnkit's metrics read; losses follow `squeeze_or_expand_to_same_rank`)."""
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
    there is no mask or it does not fit the values.

    >>> float(masked_mean(torch.tensor([[1.0, 3.0]]), torch.tensor([[True, False]])))
    1.0
    """
    if mask is None or tuple(mask.shape) != tuple(values.shape):
        return torch.mean(values)
    weight = mask.to(values.dtype)
    return (values * weight).sum() / weight.sum().clamp_min(1.0)


def _mask_weight(mask, dtype, reduction):
    """The mask as weights: 1 per kept value, or total/kept for the averaging reductions, so
    that dividing by the number of values averages over the kept ones (Keras's apply_mask)."""
    mask = mask.to(torch.bool)
    if reduction in ("mean", "sum_over_batch_size"):
        kept = mask.sum().to(dtype)
        scale = torch.where(kept > 0, mask.numel() / kept.clamp_min(1), 0).to(dtype)
        return torch.where(mask, scale, torch.zeros((), dtype=dtype, device=mask.device))
    return mask.to(dtype)


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", owner="reduce_weighted_values"):
    """Per-sample `values` weighted by `sample_weight` and `mask`, then reduced as Keras reduces
    them: "sum"; "sum_over_batch_size"/"mean" (the sum over the number of values);
    "mean_with_sample_weight" (the sum over the sum of the weights); "none"/None (no reduction).

    >>> float(reduce_weighted_values(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 0.0]), reduction="sum"))
    1.0
    """
    check_reduction(owner, reduction)
    if mask is not None:
        weight = _mask_weight(mask, values.dtype, reduction)
        if sample_weight is not None:
            weight, sample_weight = squeeze_or_expand_to_same_rank(weight, sample_weight)
            weight = _broadcast_product(owner, "the mask", weight, sample_weight)
        sample_weight = weight
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = _broadcast_product(owner, "the losses", values, sample_weight)
    if reduction in (None, "none") or values.dim() == 0 or tuple(values.shape) == (0,):
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum()
    else:
        divisor = torch.tensor(float(values.numel()), dtype=total.dtype, device=total.device)
    return torch.where(divisor != 0, total / torch.where(divisor != 0, divisor, 1), 0)


def _broadcast_product(owner, what, values, weight):
    try:
        return values * weight
    except RuntimeError as err:
        raise ValueError(f"{owner}: expected sample_weight to broadcast against {what} of shape "
                         f"{tuple(values.shape)}, got sample_weight of shape "
                         f"{tuple(weight.shape)}.") from err


def as_float(x, dtype=None, like=None):
    """`x` as a floating tensor: `dtype` when given, else `like`'s dtype, else x's own float
    dtype (integers and booleans become torch's default float)."""
    x = torch.as_tensor(x, device=None if like is None else like.device)
    if dtype is None and like is not None and torch.is_floating_point(like):
        dtype = like.dtype
    if dtype is None and not torch.is_floating_point(x):
        dtype = torch.get_default_dtype()
    return x if dtype is None or x.dtype == dtype else x.to(dtype)


def torch_dtype(owner: str, dtype):
    """A Keras dtype name (or a torch dtype, or None) as a torch floating dtype or None."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, str(dtype), None) if isinstance(dtype, str) else None
    if not isinstance(resolved, torch.dtype) or not resolved.is_floating_point:
        raise ValueError(f"{owner}: expected dtype to be a floating dtype name such as "
                         f"'float32', got {dtype!r}.")
    return resolved


class Loss:
    """Base class of losses (Keras 3's `keras.losses.Loss`): subclasses define
    `call(y_true, y_pred)` returning per-sample values, which `__call__` weights and reduces.

    Args:
        name: the loss's name; by default the snake_case class name, made unique.
        reduction: "sum_over_batch_size" (default), "sum", "mean", "mean_with_sample_weight",
            "none" or None.
        dtype: the dtype the inputs are cast to (a name such as "float32"); None keeps the
            predictions' floating dtype (Keras uses `floatx()`, rnnkit follows the model).

    >>> class MeanSquared(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return ((y_pred - y_true) ** 2).mean(dim=-1)
    >>> float(MeanSquared()(torch.zeros(2, 2), torch.ones(2, 2)))
    1.0
    """

    fn = None       # the per-sample function of a built-in loss (None: the loss reads targets itself)
    sparse = False  # targets are class ids: keep their dtype and rank

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        owner = type(self).__name__
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{owner}: expected name to be a string or None, got {name!r}.")
        self.name = name or unique_name(snake_case(owner))
        self.reduction = check_reduction(owner, reduction)
        self._dtype = dtype
        self._torch_dtype = torch_dtype(owner, dtype)

    @property
    def dtype(self) -> str:
        """The computation dtype's name: the one given, else torch's default float."""
        return str(self._torch_dtype or torch.get_default_dtype()).removeprefix("torch.")

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        """The reduced loss. `mask` (the model's output mask, batch by time) leaves masked values
        out, as Keras does with the `_keras_mask` its predictions carry."""
        y_pred = as_float(y_pred, self._torch_dtype)
        y_true = (torch.as_tensor(y_true, device=y_pred.device) if self.sparse
                  else as_float(y_true, like=y_pred))
        values, out_mask = self.call_with_mask(y_true, y_pred)
        if mask is not None and out_mask is not None and mask.shape == out_mask.shape:
            mask = mask.to(torch.bool) & out_mask
        elif mask is None or tuple(mask.shape) != tuple(values.shape):
            mask = out_mask  # a model mask that does not fit these values is not the loss's
        if sample_weight is not None:
            sample_weight = as_float(sample_weight, like=values)
        return reduce_weighted_values(values, sample_weight, mask, self.reduction,
                                      owner=type(self).__name__)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__}: a Loss subclass defines "
                                  "call(y_true, y_pred), returning per-sample losses.")

    def call_with_mask(self, y_true, y_pred):
        """`call`'s values and the mask of the values they leave out (None: none)."""
        return self.call(y_true, y_pred), None

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A loss from a function `fn(y_true, y_pred, **kwargs)` returning per-sample values
    (Keras 3's `keras.losses.LossFunctionWrapper`); targets and predictions first meet by
    `squeeze_or_expand_to_same_rank`.

    >>> loss = LossFunctionWrapper(lambda t, p: (p - t).abs().mean(dim=-1), name="l1")
    >>> float(loss(torch.zeros(2, 1), torch.ones(2, 1)))
    1.0
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"{type(self).__name__}: expected fn to be a function "
                            f"(y_true, y_pred) -> losses, got {fn!r}.")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    @property
    def fn_kwargs(self) -> dict:
        return dict(self._fn_kwargs)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn)),
                **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        if cls is LossFunctionWrapper:
            raise ValueError("LossFunctionWrapper.from_config: a function cannot be rebuilt from "
                             f"its name ({config.get('fn')!r}); construct the wrapper yourself.")
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"
