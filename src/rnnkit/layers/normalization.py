"""BatchNormalization and LayerNormalization, as Keras 3 defines them.

Both compute `y = x * inv + (beta - mean * inv)` with `inv = gamma / sqrt(variance + epsilon)`,
Keras's order of operations (ops.batch_normalization), and take the biased variance of the
statistics they normalize with.
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch
import torch.nn.functional as F

from ._checks import as_tensor
from .base import Layer
from ._keras_objects import objects_config, set_objects

__all__ = ["BatchNormalization", "LayerNormalization"]

# Keras's backend.epsilon(): what a masked batch's step count is padded with before dividing.
_COUNT_EPSILON = 1e-7
_RENORM_KEYS = ("rmax", "rmin", "dmax")


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    """Keras normalizes in at least float32 (half precision overflows in the statistics)."""
    return torch.promote_types(x.dtype, torch.float32) if x.is_floating_point() else torch.float32


def _check_number(where, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{where}: expected {name} to be a real number, got {value!r}.")
    return value


def _normalize(x, mean, variance, gamma, beta, epsilon):
    """Keras's ops.batch_normalization on broadcastable statistics."""
    inv = torch.rsqrt(variance + epsilon)
    if gamma is not None:
        inv = inv * gamma
    shift = -mean * inv
    if beta is not None:
        shift = shift + beta
    return x * inv + shift


def _positive_axis(where, axis, rank):
    if not -rank <= axis < rank:
        raise ValueError(f"{where}: axis {axis} is out of bounds for an input of rank {rank}.")
    return axis % rank


def _out_of_bounds(where, axes, input_shape, axis):
    for a in axes:
        if a >= len(input_shape) or a < -len(input_shape):
            raise ValueError(f"{where}: axis {a} is out of bounds for input shape "
                             f"{tuple(input_shape)} (axis={axis!r}).")


class BatchNormalization(Layer):
    """Normalizes each channel of `axis` with the batch's mean and variance during training,
    and with moving averages of them during inference.

    Training (`fit`, or `training=True` on a trainable layer) normalizes with the batch's
    moments over every axis but `axis` (only over the steps a mask keeps, when the input has
    one) and updates, outside autograd,
    `moving = moving * momentum + batch * (1 - momentum)` (the biased variance, as Keras).
    Inference, and any call of a layer with `trainable=False` (as in Keras 3), uses
    `moving_mean` and `moving_variance`. `renorm=True` is Batch Renormalization (Ioffe 2017):
    the batch's normalization corrected by `r = σ_B / σ_renorm`, `d = (μ_B − μ_renorm) / σ_renorm`
    (clipped by `renorm_clipping`, no gradient through them).

    Weights: gamma (if scale), beta (if center), moving_mean, moving_variance (non-trainable),
    and with renorm moving_stddev, renorm_mean, renorm_stddev (non-trainable), all of shape
    (channels,).

    Args:
        axis: the channel axis (an int).
        momentum, epsilon: of the moving averages, and added to the variance.
        center, scale: whether to add beta and multiply by gamma.
        *_initializer, *_regularizer, *_constraint: of the weights, as in Keras.
        synchronized: refused (cross-device statistics are Keras's TensorFlow-only feature).
        renorm, renorm_clipping, renorm_momentum: Batch Renormalization, as in Keras.

    >>> BatchNormalization()(torch.ones(4, 3)).shape
    torch.Size([4, 3])
    """

    supports_masking = True
    _keras_mask_argument = "mask"

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if synchronized:
            raise NotImplementedError(f"{self.name}: synchronized=True (batch statistics "
                                      "gathered across devices) is not supported; use False.")
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"{self.name}: expected axis to be an int, got {axis!r}.")
        self.axis, self.synchronized = int(axis), False
        self.momentum = float(_check_number(self.name, "momentum", momentum))
        self.epsilon = float(_check_number(self.name, "epsilon", epsilon))
        self.center, self.scale = center, scale
        set_objects(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                    moving_mean_initializer=moving_mean_initializer,
                    moving_variance_initializer=moving_variance_initializer,
                    beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                    beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
        self.renorm, self.renorm_momentum = renorm, renorm_momentum
        self.renorm_clipping = self._check_clipping(renorm_clipping) if renorm else renorm_clipping
        self._build_now_if_shape_known()

    def _check_clipping(self, clipping):
        clipping = {} if clipping is None else clipping
        if not isinstance(clipping, dict) or set(clipping) - set(_RENORM_KEYS):
            raise ValueError(f"{self.name}: expected renorm_clipping as a dict with keys among "
                             f"{list(_RENORM_KEYS)}, got {clipping!r}.")
        rmax, rmin, dmax = (clipping.get(k) for k in _RENORM_KEYS)
        if rmax is not None and rmin is not None and rmax < rmin:
            raise ValueError(f"{self.name}: expected renorm_clipping's rmax >= rmin, got "
                             f"rmax={rmax}, rmin={rmin}.")
        if dmax is not None and dmax < 0:
            raise ValueError(f"{self.name}: expected renorm_clipping's dmax >= 0, got {dmax}.")
        return clipping

    def build(self, input_shape):
        rank = len(input_shape)
        axis = _positive_axis(self.name, self.axis, rank)
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"{self.name}: expected a known size on axis {self.axis}, got input "
                             f"shape {tuple(input_shape)}.")
        shape = (channels,)
        if self.scale:
            self.add_weight(shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                            constraint=self.gamma_constraint, name="gamma")
        if self.center:
            self.add_weight(shape, self.beta_initializer, regularizer=self.beta_regularizer,
                            constraint=self.beta_constraint, name="beta")
        self.add_weight(shape, self.moving_mean_initializer, trainable=False, name="moving_mean")
        self.add_weight(shape, self.moving_variance_initializer, trainable=False,
                        name="moving_variance")
        if self.renorm:
            # Renorm tracks standard deviations, started at the variance initializer's root.
            def root_of_variance(shape, dtype=None):
                return torch.sqrt(torch.as_tensor(self.moving_variance_initializer(shape, dtype)))
            self.add_weight(shape, root_of_variance, trainable=False, name="moving_stddev")
            self.add_weight(shape, self.moving_mean_initializer, trainable=False,
                            name="renorm_mean")
            self.add_weight(shape, root_of_variance, trainable=False, name="renorm_stddev")
        self._built_rank, self._channel_axis = rank, axis
        self.built = True

    def compute_output_shape(self, input_shape):
        _out_of_bounds(self.name, [self.axis], input_shape, self.axis)
        return tuple(input_shape)

    def _check_input(self, x, mask):
        if x.dim() != self._built_rank or x.shape[self._channel_axis] != self.moving_mean.shape[0]:
            raise ValueError(f"{self.name}: expected input of rank {self._built_rank} with "
                             f"{self.moving_mean.shape[0]} channels on axis {self.axis} (the layer "
                             f"was built for that), got shape {tuple(x.shape)}.")
        if mask is not None and mask.dim() != x.dim() - 1:
            raise ValueError(f"{self.name}: expected a mask of one dimension less than the input "
                             f"{tuple(x.shape)}, got mask shape {tuple(mask.shape)}.")

    def call(self, inputs, training=None, mask=None):
        x = as_tensor(self, inputs)
        mask = None if mask is None else as_tensor(self, mask).to(x.device)
        self._check_input(x, mask)
        dtype = _compute_dtype(x)
        x = x.to(dtype)
        shape = [1] * x.dim()
        shape[self._channel_axis] = -1
        gamma = self.gamma.to(dtype) if self.scale else None
        beta = self.beta.to(dtype) if self.center else None
        if self._is_training(training) and self.trainable:
            mean, variance = self._moments(x, mask)
            if self.renorm:
                gamma, beta = self._renorm_transform(mean, variance, gamma, beta)
            self._update_moving(mean, variance)
        else:
            mean, variance = self.moving_mean.to(dtype), self.moving_variance.to(dtype)
        y = _normalize(x, mean.view(shape), variance.view(shape),
                       None if gamma is None else gamma.view(shape),
                       None if beta is None else beta.view(shape), self.epsilon)
        return y.to(getattr(torch, self.dtype_name))

    def _moments(self, x, mask):
        """The batch's mean and biased variance per channel; with a mask (one axis fewer than x,
        broadcast over the last axis as in Keras) only over the kept entries, each sum divided
        by (count + 1e-7) as Keras does."""
        axes = [a for a in range(x.dim()) if a != self._channel_axis]
        if mask is None:
            variance, mean = torch.var_mean(x, dim=axes, correction=0)
            return mean, variance
        keep = mask.to(torch.bool).unsqueeze(-1).expand(x.shape)
        count = keep.to(x.dtype).sum(dim=axes, keepdim=True) + _COUNT_EPSILON
        mean = torch.where(keep, x, 0).sum(dim=axes, keepdim=True) / count
        variance = torch.where(keep, x - mean, 0).square().sum(dim=axes, keepdim=True) / count
        return mean.flatten(), variance.flatten()

    @torch.no_grad()
    def _update_moving(self, mean, variance):
        """Keras's assign of the moving statistics: state, not a trained weight, so it stays
        out of autograd."""
        m = self.momentum
        if self.renorm:
            stddev = torch.sqrt(variance + self.epsilon)
            r = self.renorm_momentum
            self.renorm_mean.copy_(self.renorm_mean * r + mean * (1.0 - r))
            self.renorm_stddev.copy_(self.renorm_stddev * r + stddev * (1.0 - r))
            self.moving_mean.copy_(self.moving_mean * m + mean * (1.0 - m))
            self.moving_stddev.copy_(self.moving_stddev * m + stddev * (1.0 - m))
            # relu: rounding must not make the variance negative.
            self.moving_variance.copy_(torch.relu(self.moving_stddev.square() - self.epsilon))
            return
        self.moving_mean.copy_(self.moving_mean * m + mean * (1.0 - m))
        self.moving_variance.copy_(self.moving_variance * m + variance * (1.0 - m))

    def _renorm_transform(self, mean, variance, gamma, beta):
        """(x·r + d)·gamma + beta = x·(r·gamma) + (d·gamma + beta): the corrections folded into
        gamma and beta, from the renorm statistics before this batch's update."""
        with torch.no_grad():
            stddev = torch.sqrt(variance + self.epsilon)
            renorm_stddev = torch.clamp(self.renorm_stddev.to(mean.dtype),
                                        min=math.sqrt(self.epsilon))
            r = stddev / renorm_stddev
            d = (mean - self.renorm_mean.to(mean.dtype)) / renorm_stddev
            clip = self.renorm_clipping
            if clip.get("rmin") is not None:
                r = torch.clamp(r, min=clip["rmin"])
            if clip.get("rmax") is not None:
                r = torch.clamp(r, max=clip["rmax"])
            if clip.get("dmax") is not None:
                d = torch.clamp(d, -clip["dmax"], clip["dmax"])
        new_gamma = r if gamma is None else r * gamma
        new_beta = d if gamma is None else d * gamma
        return new_gamma, new_beta if beta is None else new_beta + beta

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **objects_config(self, "beta_initializer", "gamma_initializer",
                                 "moving_mean_initializer", "moving_variance_initializer",
                                 "beta_regularizer", "gamma_regularizer", "beta_constraint",
                                 "gamma_constraint"),
                "synchronized": self.synchronized, "renorm": self.renorm,
                "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum}


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (the last by default): `gamma * (x - mean) /
    sqrt(variance + epsilon) + beta`, the biased variance over those axes; masks pass through.

    Weights: gamma (if scale or rms_scaling), beta (if center and not rms_scaling), shaped as
    the input's sizes on `axis` (after building, `axis` is the sorted list, as in Keras).

    Args:
        axis: an int or a list of ints.
        epsilon: added to the variance.
        center, scale: whether to add beta and multiply by gamma.
        rms_scaling: Keras's deprecated option (it warns): `x / sqrt(variance + epsilon) *
            gamma` with no mean subtracted nor beta.
        *_initializer, *_regularizer, *_constraint: of the weights, as in Keras.

    >>> LayerNormalization()(torch.ones(2, 5, 3)).shape
    torch.Size([2, 5, 3])
    """

    supports_masking = True
    _keeps_shape = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, rms_scaling=False, **kwargs):
        if rms_scaling:
            warnings.warn("LayerNormalization: rms_scaling=True is deprecated in Keras (it scales "
                          "by the variance, not the root mean square).", stacklevel=2)
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(
                isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError(f"{self.name}: expected axis to be an int or a list of ints, got "
                            f"{axis!r}.")
        self.epsilon = _check_number(self.name, "epsilon", epsilon)
        self.center, self.scale, self.rms_scaling = center, scale, rms_scaling
        set_objects(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                    beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                    beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
        self._build_now_if_shape_known()

    def build(self, input_shape):
        rank = len(input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            _positive_axis(self.name, a, rank)
        shape = tuple(input_shape[a] for a in axes)
        if None in shape:
            raise ValueError(f"{self.name}: expected known sizes on axis {self.axis}, got input "
                             f"shape {tuple(input_shape)}.")
        self.axis, self._built_rank = axes, rank
        if self.scale or self.rms_scaling:
            self.add_weight(shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                            constraint=self.gamma_constraint, name="gamma")
        if self.center and not self.rms_scaling:
            self.add_weight(shape, self.beta_initializer, regularizer=self.beta_regularizer,
                            constraint=self.beta_constraint, name="beta")
        self._weight_shape = shape
        self.built = True

    def compute_output_shape(self, input_shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        _out_of_bounds(self.name, axes, input_shape, self.axis)
        return tuple(input_shape)

    def call(self, inputs, training=None, mask=None):
        """(`mask` is taken only to be passed on, as Keras passes it.)"""
        x = as_tensor(self, inputs)
        sizes = tuple(x.shape[a] for a in self.axis) if x.dim() == self._built_rank else None
        if sizes != self._weight_shape:
            raise ValueError(f"{self.name}: expected input of rank {self._built_rank} with sizes "
                             f"{self._weight_shape} on axis {self.axis} (the layer was built for "
                             f"that), got shape {tuple(x.shape)}.")
        dtype = _compute_dtype(x)
        x = x.to(dtype)
        gamma = getattr(self, "gamma", None) if self.scale or self.rms_scaling else None
        beta = getattr(self, "beta", None) if self.center and not self.rms_scaling else None
        gamma, beta = (None if w is None else w.to(dtype) for w in (gamma, beta))
        return self._normalized(x, gamma, beta).to(getattr(torch, self.dtype_name))

    def _normalized(self, x, gamma, beta):
        axes = sorted(a % x.dim() for a in self.axis)
        k = len(axes)
        trailing = axes == list(range(x.dim() - k, x.dim()))
        if trailing and not self.rms_scaling:
            # F.layer_norm is this formula on the last k axes; Keras reshapes gamma and beta
            # (not transposes) to the broadcast shape, so the same reshape gives its result.
            shape = tuple(x.shape[-k:])
            return F.layer_norm(x, shape, None if gamma is None else gamma.reshape(shape),
                                None if beta is None else beta.reshape(shape), self.epsilon)
        broadcast = [1] * x.dim()
        for a in self.axis:
            broadcast[a] = x.shape[a]
        gamma = None if gamma is None else gamma.reshape(broadcast)
        beta = None if beta is None else beta.reshape(broadcast)
        variance, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
        if self.rms_scaling:
            y = x * torch.rsqrt(variance + self.epsilon)
            return y if gamma is None else y * gamma
        return _normalize(x, mean, variance, gamma, beta, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                **objects_config(self, "beta_initializer", "gamma_initializer",
                                 "beta_regularizer", "gamma_regularizer", "beta_constraint",
                                 "gamma_constraint")}
