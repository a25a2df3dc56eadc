"""Flatten, RepeatVector, Reshape and Permute: the reshaping layers users put between recurrent
layers."""

from __future__ import annotations

import math

from ._checks import as_tensor, check_int
from .base import Layer


class Flatten(Layer):
    """(batch, d1, d2, …) → (batch, d1·d2·…). With data_format="channels_first" the channel
    axis (axis 1) moves last first, as in Keras."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"{self.name}: expected data_format 'channels_last' or "
                             f"'channels_first', got {data_format!r}.")
        self.data_format = data_format or "channels_last"
        self.built = True

    def call(self, inputs, training=None):
        x = as_tensor(self, inputs)
        if self.data_format == "channels_first" and x.ndim > 2:
            x = x.permute(0, *range(2, x.ndim), 1)
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape[1:])
        return (input_shape[0], None if None in rest else math.prod(rest))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class RepeatVector(Layer):
    """(batch, features) → (batch, n, features): the input repeated n times."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_int(self.name, "n", n)
        self.built = True

    def call(self, inputs, training=None):
        x = as_tensor(self, inputs)
        if x.ndim != 2:
            raise ValueError(f"{self.name}: expected input of shape (batch, features), got shape "
                             f"{tuple(x.shape)}.")
        return x[:, None, :].expand(x.shape[0], self.n, x.shape[1])

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{self.name}: expected input of shape (batch, features), got "
                             f"{tuple(input_shape)}.")
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Reshape(Layer):
    """(batch, …) → (batch, *target_shape); one entry of target_shape may be -1, the size
    that keeps the number of elements. As in Keras 3, Reshape does not support masking: the
    mask is dropped.

    Args:
        target_shape: the shape of one sample (without the batch axis).

    >>> Reshape((2, -1))(torch.zeros(3, 4, 5)).shape
    torch.Size([3, 2, 10])
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, str)) or not hasattr(target_shape, "__iter__"):
            raise TypeError(f"{self.name}: expected target_shape as a tuple of sizes, like "
                            f"(5, -1), got {target_shape!r}.")
        self.target_shape = tuple(check_int(self.name, "each entry of target_shape", d, -1)
                                  for d in target_shape)
        if self.target_shape.count(-1) > 1:
            raise ValueError(f"{self.name}: expected at most one -1 in target_shape, got "
                             f"{self.target_shape}.")
        self.built = True

    def _resolved(self, sample_shape) -> tuple:
        """target_shape with its -1 worked out from one sample's shape (None if unknown)."""
        target = self.target_shape
        if None in sample_shape:
            return tuple(None if d == -1 else d for d in target)
        size, known = math.prod(sample_shape), math.prod(d for d in target if d != -1)
        if -1 not in target and size == known:
            return target
        if -1 in target and known and size % known == 0:
            return tuple(size // known if d == -1 else d for d in target)
        raise ValueError(f"{self.name}: cannot reshape a sample of shape {tuple(sample_shape)} "
                         f"({size} elements) to target_shape {target}.")

    def call(self, inputs):
        x = as_tensor(self, inputs)
        shape = self._resolved(tuple(x.shape[1:]))
        return x.reshape(x.shape[0], *shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._resolved(tuple(input_shape[1:])))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Reorders the axes of each sample: dims is a permutation of 1..rank-1 (the batch axis
    stays first); Permute((2, 1)) swaps steps and features. As in Keras 3, Permute does not
    support masking: the mask is dropped.

    Args:
        dims: the new order of the non-batch axes, numbered from 1.

    >>> Permute((2, 1))(torch.zeros(3, 4, 5)).shape
    torch.Size([3, 5, 4])
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        if isinstance(dims, (int, str)) or not hasattr(dims, "__iter__"):
            raise TypeError(f"{self.name}: expected dims as a tuple of axes, like (2, 1), got "
                            f"{dims!r}.")
        self.dims = tuple(check_int(self.name, "each entry of dims", d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"{self.name}: expected dims to be a permutation of 1.."
                             f"{len(self.dims)} (the batch axis 0 stays first), got {self.dims}.")
        self.built = True

    def _check_rank(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(f"{self.name}: expected input of rank {len(self.dims) + 1} for dims="
                             f"{self.dims}, got shape {tuple(shape)} (rank {len(shape)}).")

    def call(self, inputs):
        x = as_tensor(self, inputs)
        self._check_rank(x.shape)
        return x.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}
