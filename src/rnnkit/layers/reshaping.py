"""Flatten and RepeatVector: the reshaping layers users put between recurrent layers."""

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
