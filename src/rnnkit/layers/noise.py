"""SpatialDropout1D and GaussianNoise: regularizing noise, applied only in training mode."""

from __future__ import annotations

import math
import numbers

import torch

from ._checks import as_tensor
from .base import Layer
from .core import Dropout

__all__ = ["SpatialDropout1D", "GaussianNoise"]


class SpatialDropout1D(Dropout):
    """Dropout of whole channels: during training each (sample, channel) pair of a
    (batch, time, channels) input is zeroed at every step with probability `rate` (the noise
    shape is (batch, 1, channels)) and the kept ones are scaled by 1/(1-rate); inference passes
    the input through. Masks pass through.

    Args:
        rate: the fraction of channels dropped, in [0, 1].
        seed: seeds the layer's own generator, so its draws repeat.

    >>> SpatialDropout1D(0.5)(torch.ones(2, 4, 3)).shape
    torch.Size([2, 4, 3])
    """

    def __init__(self, rate, seed=None, name=None, dtype=None):
        # One draw per sample and channel, shared by every step (Dropout's None: the input's size).
        super().__init__(rate, noise_shape=(None, 1, None), seed=seed, name=name, dtype=dtype)

    def call(self, inputs, training=None, mask=None):
        x = as_tensor(self, inputs)
        if x.dim() != 3:
            raise ValueError(f"{self.name}: expected input of shape (batch, time, channels) "
                             f"(rank 3), got shape {tuple(x.shape)}.")
        return super().call(x, training=training)

    def get_config(self):
        """Keras's keys for this layer: rate, seed, name and dtype only."""
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype_name}


class GaussianNoise(Layer):
    """Adds zero-centred normal noise of standard deviation `stddev` during training;
    inference passes the input through. Masks pass through.

    Args:
        stddev: the noise's standard deviation, in [0, 1] (Keras's bounds).
        seed: seeds the layer's own generator, so its draws repeat.

    >>> GaussianNoise(0.1)(torch.ones(2, 3)).shape
    torch.Size([2, 3])
    """

    supports_masking = True
    _keeps_shape = True

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if (isinstance(stddev, bool) or not isinstance(stddev, numbers.Real)
                or math.isnan(stddev) or not 0 <= stddev <= 1):
            raise ValueError(f"{self.name}: expected stddev to be a number between 0 and 1, got "
                             f"{stddev!r}.")
        self.stddev = stddev
        self._seed_generator(seed)
        self.built = True

    def _normal(self, like: torch.Tensor) -> torch.Tensor:
        """N(0, 1) numbers shaped as `like`, from the layer's generator if seeded (eager mode;
        torch.compile cannot trace a generator, as in Layer._uniform)."""
        if self._generator is None or torch.compiler.is_compiling():
            return torch.randn(like.shape, dtype=like.dtype, device=like.device)
        return torch.randn(like.shape, generator=self._generator, dtype=like.dtype).to(like.device)

    def call(self, inputs, training=None, mask=None):
        x = as_tensor(self, inputs)
        if not self._is_training(training) or self.stddev == 0:
            return x
        if not x.is_floating_point():
            x = x.to(getattr(torch, self.dtype_name))
        return x + self._normal(x) * self.stddev

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}
