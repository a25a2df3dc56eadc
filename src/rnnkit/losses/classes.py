"""Keras 3's loss classes: each wraps its per-sample function with its settings, reduces as
`Loss` does, and round-trips through get_config/from_config."""

from __future__ import annotations

import torch  # noqa: F401 - the examples in the docstrings use it

from . import probabilistic as P
from . import regression as R
from . import similarity as S
from .base import Loss, LossFunctionWrapper

SUM = "sum_over_batch_size"


def _builtin(fn, default_name, doc_example):
    """A Loss class without settings of its own, over the per-sample `fn`."""

    def __init__(self, reduction=SUM, name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

    doc = (f"`{fn.__name__}` averaged by `reduction` (Keras 3's class of that name).\n\n"
           f"    Args:\n        reduction: see `Loss`.\n        name: defaults to "
           f"\"{default_name}\".\n        dtype: see `Loss`.\n\n    {doc_example}\n    ")
    return {"fn": staticmethod(fn), "__init__": __init__, "get_config": get_config,
            "__doc__": doc}


def _make(name, fn, default_name, example):
    return type(name, (LossFunctionWrapper,), _builtin(fn, default_name, example))


MeanSquaredError = _make("MeanSquaredError", R.mean_squared_error, "mean_squared_error",
                         ">>> float(MeanSquaredError()(torch.zeros(2, 2), torch.ones(2, 2)))\n    1.0")
MeanAbsoluteError = _make("MeanAbsoluteError", R.mean_absolute_error, "mean_absolute_error",
                          ">>> float(MeanAbsoluteError()(torch.zeros(2, 2), torch.ones(2, 2)))\n    1.0")
MeanAbsolutePercentageError = _make(
    "MeanAbsolutePercentageError", R.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    ">>> float(MeanAbsolutePercentageError()(torch.ones(2, 2), torch.zeros(2, 2)))\n    100.0")
MeanSquaredLogarithmicError = _make(
    "MeanSquaredLogarithmicError", R.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    ">>> float(MeanSquaredLogarithmicError()(torch.zeros(1, 1), torch.zeros(1, 1)))\n    0.0")
LogCosh = _make("LogCosh", R.log_cosh, "log_cosh",
                ">>> float(LogCosh()(torch.zeros(1, 1), torch.zeros(1, 1)))\n    0.0")
Hinge = _make("Hinge", R.hinge, "hinge",
              ">>> float(Hinge()(torch.ones(1, 1), torch.ones(1, 1)))\n    0.0")
SquaredHinge = _make("SquaredHinge", R.squared_hinge, "squared_hinge",
                     ">>> float(SquaredHinge()(torch.ones(1, 1), torch.zeros(1, 1)))\n    1.0")
CategoricalHinge = _make("CategoricalHinge", R.categorical_hinge, "categorical_hinge",
                         ">>> float(CategoricalHinge()(torch.eye(2), torch.eye(2)))\n    0.0")
KLDivergence = _make("KLDivergence", R.kl_divergence, "kl_divergence",
                     ">>> float(KLDivergence()(torch.eye(2), torch.eye(2)))\n    0.0")
Poisson = _make("Poisson", R.poisson, "poisson",
                ">>> float(Poisson()(torch.zeros(1, 1), torch.ones(1, 1)))\n    1.0")


class _Configured(LossFunctionWrapper):
    """A wrapper whose keyword settings are also its config (and attributes, as in Keras)."""

    config_keys: tuple = ()

    def __init__(self, fn, reduction, name, dtype, **settings):
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **settings)
        for key, value in settings.items():
            setattr(self, key, value)

    def get_config(self):
        return {**Loss.get_config(self), **{k: getattr(self, k) for k in self.config_keys}}


class CosineSimilarity(_Configured):
    """The negative cosine similarity along `axis` (1 - ... is not added: -1 is a perfect match).

    Args:
        axis: the axis the vectors lie along.
        reduction, name, dtype: see `Loss`.

    >>> float(CosineSimilarity()(torch.tensor([[1.0, 0.0]]), torch.tensor([[3.0, 0.0]])))
    -1.0
    """

    fn = staticmethod(R.cosine_similarity)
    config_keys = ("axis",)  # Keras's config leaves axis out, so its round trip loses it

    def __init__(self, axis=-1, reduction=SUM, name="cosine_similarity", dtype=None):
        super().__init__(R.cosine_similarity, reduction, name, dtype, axis=axis)


class Huber(_Configured):
    """The Huber loss: quadratic for errors up to `delta`, linear beyond.

    Args:
        delta: where the quadratic part ends.
        reduction, name, dtype: see `Loss`.

    >>> float(Huber(delta=1.0)(torch.zeros(1, 2), torch.tensor([[0.5, 3.0]])))
    1.3125
    """

    fn = staticmethod(R.huber)
    config_keys = ("delta",)  # Keras's config leaves delta out, so its round trip loses it

    def __init__(self, delta=1.0, reduction=SUM, name="huber_loss", dtype=None):
        super().__init__(R.huber, reduction, name, dtype, delta=delta)


class Dice(_Configured):
    """1 - the Dice coefficient, summed over `axis` (None: all axes, one value per batch).

    Args:
        reduction, name, dtype: see `Loss`.
        axis: the axes summed over.

    >>> round(float(Dice()(torch.eye(2), torch.eye(2))), 6)
    0.0
    """

    fn = staticmethod(R.dice)
    config_keys = ("axis",)

    def __init__(self, reduction=SUM, name="dice", axis=None, dtype=None):
        super().__init__(R.dice, reduction, name, dtype, axis=axis)


class Tversky(_Configured):
    """1 - the Tversky index, with `alpha` weighing false positives and `beta` false negatives.

    Args:
        alpha, beta: the weights of the two error terms (0.5 each: the Dice loss).
        reduction, name, dtype: see `Loss`.
        axis: the axes summed over.

    >>> round(float(Tversky()(torch.eye(2), torch.eye(2))), 6)
    0.0
    """

    fn = staticmethod(R.tversky)
    config_keys = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction=SUM, name="tversky", axis=None,
                 dtype=None):
        super().__init__(R.tversky, reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)


class BinaryCrossentropy(_Configured):
    """The binary cross-entropy, averaged over `axis`.

    Args:
        from_logits: y_pred holds logits rather than probabilities.
        label_smoothing: in [0, 1]; targets move toward 0.5 by this fraction.
        axis: the axis averaged over.
        reduction, name, dtype: see `Loss`.

    >>> round(float(BinaryCrossentropy(from_logits=True)(torch.ones(1, 1), torch.zeros(1, 1))), 4)
    0.6931
    """

    fn = staticmethod(P.binary_crossentropy)
    config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=SUM,
                 name="binary_crossentropy", dtype=None):
        super().__init__(P.binary_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(_Configured):
    """The binary focal cross-entropy: easy examples weigh less by (1 - p_t)^gamma.

    Args:
        apply_class_balancing: weigh positives by alpha and negatives by 1 - alpha.
        alpha, gamma: the balancing weight and the focusing exponent.
        from_logits, label_smoothing, axis: as in BinaryCrossentropy.
        reduction, name, dtype: see `Loss`.

    >>> round(float(BinaryFocalCrossentropy()(torch.ones(1, 1), torch.full((1, 1), 0.5))), 4)
    0.1733
    """

    fn = staticmethod(P.binary_focal_crossentropy)
    config_keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha",
                   "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction=SUM, name="binary_focal_crossentropy",
                 dtype=None):
        super().__init__(P.binary_focal_crossentropy, reduction, name, dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_Configured):
    """The categorical cross-entropy over one-hot (or soft) targets along `axis`.

    Args:
        from_logits: y_pred holds logits rather than probabilities.
        label_smoothing: in [0, 1]; targets move toward 1 / num_classes by this fraction.
        axis: the class axis.
        reduction, name, dtype: see `Loss`.

    >>> round(float(CategoricalCrossentropy()(torch.tensor([[0.0, 1.0]]), torch.full((1, 2), 0.5))), 4)
    0.6931
    """

    fn = staticmethod(P.categorical_crossentropy)
    config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=SUM,
                 name="categorical_crossentropy", dtype=None):
        super().__init__(P.categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(_Configured):
    """The categorical focal cross-entropy: alpha · (1 - p)^gamma times the cross-entropy.

    Args:
        alpha, gamma: the weight and the focusing exponent.
        from_logits, label_smoothing, axis: as in CategoricalCrossentropy.
        reduction, name, dtype: see `Loss`.

    >>> round(float(CategoricalFocalCrossentropy()(torch.tensor([[0.0, 1.0]]), torch.full((1, 2), 0.5))), 4)
    0.0433
    """

    fn = staticmethod(P.categorical_focal_crossentropy)
    config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=SUM, name="categorical_focal_crossentropy", dtype=None):
        super().__init__(P.categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class SparseCategoricalCrossentropy(_Configured):
    """The categorical cross-entropy with class ids as targets.

    Args:
        from_logits: y_pred holds logits rather than probabilities.
        ignore_class: a class id whose targets are left out (padding); None keeps all.
        reduction: see `Loss`.
        axis: the class axis of y_pred.
        name, dtype: see `Loss`.

    >>> round(float(SparseCategoricalCrossentropy()(torch.tensor([1]), torch.full((1, 2), 0.5))), 4)
    0.6931
    """

    fn = staticmethod(P.sparse_categorical_crossentropy)
    sparse = True
    # Keras's config leaves axis out, so its round trip loses it; rnnkit's keeps it.
    config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, from_logits=False, ignore_class=None, reduction=SUM, axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(P.sparse_categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def call_with_mask(self, y_true, y_pred):
        from .base import squeeze_or_expand_to_same_rank
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return P.sparse_with_mask(y_true, y_pred, **self._fn_kwargs)


class CategoricalGeneralizedCrossEntropy(_Configured):
    """The generalized cross-entropy (1 - p^q) / q over class-id targets, q in (0, 1).

    Args:
        q: between the cross-entropy (q → 0) and the mean absolute error (q = 1).
        reduction, name, dtype: see `Loss`.

    >>> float(CategoricalGeneralizedCrossEntropy()(torch.tensor([0]), torch.tensor([[1.0, 0.0]])))
    0.0
    """

    fn = staticmethod(P.categorical_generalized_cross_entropy)
    sparse = True
    config_keys = ("q",)

    def __init__(self, q=0.5, reduction=SUM, name="categorical_generalized_cross_entropy",
                 dtype=None):
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: expected q in the interval "
                             f"(0, 1), got {q!r}.")
        super().__init__(P.categorical_generalized_cross_entropy, reduction, name, dtype, q=q)


class Circle(_Configured):
    """The Circle loss of L2-normalized embeddings (y_pred, batch by dim) against integer labels
    (y_true, batch); samples whose loss is 0 are left out of the mean, as in Keras.

    Args:
        gamma: the scale of the similarities.
        margin: the relaxation margin m (optima 1 + m and -m, decision margins 1 - m and m).
        remove_diagonal: leave each sample's pair with itself out of the positives.
        reduction, name, dtype: see `Loss`.

    >>> e = torch.nn.functional.normalize(torch.tensor([[1.0, 0.1], [0.9, 0.2], [0.0, 1.0]]))
    >>> Circle()(torch.tensor([0, 0, 1]), e).shape
    torch.Size([])
    """

    fn = staticmethod(S.circle)
    sparse = True
    config_keys = ("gamma", "margin", "remove_diagonal")

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction=SUM,
                 name="circle", dtype=None):
        super().__init__(S.circle, reduction, name, dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)

    def call_with_mask(self, y_true, y_pred):
        return S.circle_with_mask(y_true, y_pred, **self._fn_kwargs)
