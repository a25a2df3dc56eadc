"""Conv1D: the 1D convolution put in front of (or between) recurrent layers."""

from __future__ import annotations

import torch.nn.functional as F

from ._checks import check_int
from .base import Layer
from .pooling import (check_padding, check_rank3, int_tuple, output_length, real_input,
                      same_padding, standardize_data_format)
from ._keras_objects import objects_config, set_objects

__all__ = ["Conv1D", "Convolution1D"]


class Conv1D(Layer):
    """y[t] = activation(Σ_k x[t·strides + k·dilation_rate] W[k] + b), a cross-correlation over
    the steps, computed by torch.nn.functional.conv1d.

    Weights: kernel (kernel_size, features // groups, filters), bias (filters,). With groups, the
    features and the filters split into `groups` blocks, block j of filters seeing only block j
    of features.

    Padding: "valid" (no padding), "same" (ceil(steps / strides) outputs, padded as Keras pads:
    the odd element on the right), "causal" (dilation_rate·(kernel_size − 1) zeros on the left,
    so output t sees no input after t). As in Keras 3, Conv1D does not support masking: padded
    steps take part in the convolution and the mask is dropped.

    Args:
        filters: number of output features.
        kernel_size: window length.
        strides: step between windows (strides > 1 excludes dilation_rate > 1, as in Keras).
        padding: "valid", "same" or "causal".
        data_format: "channels_last" (batch, steps, features) or "channels_first"
            (batch, features, steps).
        dilation_rate: spacing between the window's taps.
        groups: number of feature groups; features and filters must both divide by it.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as Dense.

    >>> Conv1D(4, 3, padding="causal")(torch.zeros(2, 10, 5)).shape
    torch.Size([2, 10, 4])
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        if kwargs.pop("lora_rank", None) is not None:
            raise NotImplementedError("Conv1D: lora_rank is not supported yet.")
        kwargs.pop("lora_alpha", None)  # meaningful only with lora_rank
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = self.name
        self.filters = check_int(name, "filters", filters)
        self.kernel_size = int_tuple(name, "kernel_size", kernel_size)
        self.strides = int_tuple(name, "strides", strides)
        self.padding = check_padding(name, padding, ("valid", "same", "causal"))
        self.data_format = standardize_data_format(name, data_format)
        self.dilation_rate = int_tuple(name, "dilation_rate", dilation_rate)
        self.groups = check_int(name, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(f"{name}: expected filters divisible by groups, got filters="
                             f"{self.filters} and groups={self.groups}.")
        if self.strides[0] > 1 and self.dilation_rate[0] > 1:
            raise ValueError(f"{name}: strides > 1 cannot be combined with dilation_rate > 1 "
                             f"(as in Keras), got strides={self.strides} and dilation_rate="
                             f"{self.dilation_rate}.")
        set_objects(self, activation=activation)
        self.use_bias = bool(use_bias)
        set_objects(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                    kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                    kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self._build_now_if_shape_known()

    @property
    def _window(self) -> int:
        """The span of the dilated kernel, in steps."""
        return self.dilation_rate[0] * (self.kernel_size[0] - 1) + 1

    def _axes(self) -> tuple[int, int]:
        """(steps axis, features axis) of the input."""
        return (1, 2) if self.data_format == "channels_last" else (2, 1)

    def build(self, input_shape):
        check_rank3(self, input_shape)
        channels = input_shape[self._axes()[1]]
        if channels is None:
            raise ValueError(f"{self.name}: expected a known number of input features, got "
                             f"shape {tuple(input_shape)}.")
        if channels % self.groups:
            raise ValueError(f"{self.name}: expected input features divisible by groups="
                             f"{self.groups}, got {channels} (input shape "
                             f"{tuple(input_shape)}).")
        self.compute_output_shape(input_shape)  # the window must fit
        self.add_weight(name="kernel", shape=(*self.kernel_size, channels // self.groups,
                                              self.filters),
                        initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def compute_output_shape(self, input_shape):
        check_rank3(self, input_shape)
        steps_axis, features_axis = self._axes()
        shape = list(input_shape)
        shape[steps_axis] = output_length(self.name, input_shape[steps_axis], self._window,
                                          self.strides[0], self.padding)
        shape[features_axis] = self.filters
        return tuple(shape)

    def _padding(self, steps: int) -> tuple[int, int]:
        if self.padding == "causal":
            return self._window - 1, 0
        if self.padding == "same":
            return same_padding(steps, self._window, self.strides[0])
        return 0, 0

    def call(self, inputs):
        x = real_input(self, inputs).to(self.kernel.dtype)
        channels_last = self.data_format == "channels_last"
        if channels_last:
            x = x.transpose(1, 2)  # torch convolves (batch, features, steps)
        expected = self.kernel.shape[1] * self.groups
        if x.shape[1] != expected:
            raise ValueError(f"{self.name}: expected {expected} input features (the layer was "
                             f"built for that), got shape {tuple(inputs.shape)}.")
        output_length(self.name, x.shape[2], self._window, self.strides[0], self.padding)
        left, right = self._padding(x.shape[2])
        if left != right:  # conv1d pads both sides alike
            x, left = F.pad(x, (left, right)), 0
        y = F.conv1d(x, self.kernel.permute(2, 1, 0), self.bias if self.use_bias else None,
                     stride=self.strides[0], padding=left, dilation=self.dilation_rate[0],
                     groups=self.groups)
        return self.activation(y.transpose(1, 2) if channels_last else y)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                **objects_config(self, "activation"), "use_bias": self.use_bias,
                **objects_config(self, "kernel_initializer", "bias_initializer",
                                 "kernel_regularizer", "bias_regularizer",
                                 "activity_regularizer", "kernel_constraint",
                                 "bias_constraint")}


Convolution1D = Conv1D
