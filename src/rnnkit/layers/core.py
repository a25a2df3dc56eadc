"""Dense, Embedding, Masking, Dropout, Activation and Input."""

from __future__ import annotations

import torch

from ._checks import as_tensor, check_int, check_rate, check_units, weight_dtype
from . import symbolic
from .base import Layer
from ._keras_objects import objects_config, set_objects
from . import mask_ops


class Dense(Layer):
    """y = activation(x W + b) on the last axis.

    Weights: kernel (features, units), bias (units,).

    >>> Dense(3)(torch.zeros(2, 5)).shape
    torch.Size([2, 3])
    """

    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        if kwargs.pop("lora_rank", None) is not None:
            raise NotImplementedError("Dense: lora_rank is not supported yet.")
        super().__init__(**kwargs)
        self.units = check_units(self.name, units)
        self.use_bias = bool(use_bias)
        set_objects(self, activation=activation, kernel_initializer=kernel_initializer,
                    bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                    bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                    bias_constraint=bias_constraint)
        self._build_now_if_shape_known()

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"{self.name}: expected input of shape (batch, ..., features) with a "
                             f"known feature axis, got {tuple(input_shape)}.")
        self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                        initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs, training=None):
        x = as_tensor(self, inputs)
        if x.dim() < 2 or x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name}: expected input with last axis {self.kernel.shape[0]}, "
                             f"got shape {tuple(x.shape)}.")
        if not torch.is_floating_point(x):
            x = x.to(weight_dtype(self))
        y = x.to(self.kernel.dtype) @ self.kernel
        if self.use_bias:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                **objects_config(self, "activation"), "use_bias": self.use_bias,
                **objects_config(self, "kernel_initializer", "bias_initializer",
                                 "kernel_regularizer", "bias_regularizer", "kernel_constraint",
                                 "bias_constraint")}


class Embedding(Layer):
    """Maps integer ids in [0, input_dim) to rows of an (input_dim, output_dim) matrix.

    >>> Embedding(10, 4)(torch.tensor([[1, 2, 3]])).shape
    torch.Size([1, 3, 4])
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", mask_zero=False,
                 embeddings_regularizer=None, embeddings_constraint=None, **kwargs):
        for key in ("lora_rank", "weights"):
            if kwargs.pop(key, None) is not None:
                raise NotImplementedError(f"Embedding: {key} is not supported yet.")
        kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        self.input_dim = check_int(self.name, "input_dim", input_dim)
        self.output_dim = check_int(self.name, "output_dim", output_dim)
        self.mask_zero = bool(mask_zero)
        set_objects(self, embeddings_initializer=embeddings_initializer,
                    embeddings_regularizer=embeddings_regularizer,
                    embeddings_constraint=embeddings_constraint)
        self._build_now_if_shape_known()

    def build(self, input_shape=None):
        self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                        initializer=self.embeddings_initializer,
                        regularizer=self.embeddings_regularizer,
                        constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs, training=None):
        ids = as_tensor(self, inputs)
        if torch.is_floating_point(ids):
            ids = ids.long()
        # (a check on the values: eager only, torch.compile cannot branch on data)
        if (not torch.compiler.is_compiling() and ids.numel()
                and (int(ids.min()) < 0 or int(ids.max()) >= self.input_dim)):
            raise IndexError(f"{self.name}: expected ids in [0, {self.input_dim}), got values from "
                             f"{int(ids.min())} to {int(ids.max())}.")
        return torch.nn.functional.embedding(ids.long(), self.embeddings)

    def _keras_mask_ops(self, inputs, masks):
        return mask_ops.ops(1, inputs) if self.mask_zero else None  # NotEqual

    def compute_mask(self, inputs, mask=None):
        """mask_zero=True: id 0 is padding, so the mask is ids != 0."""
        if not self.mask_zero:
            return None
        return as_tensor(self, inputs) != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                **objects_config(self, "embeddings_initializer", "embeddings_regularizer",
                                 "embeddings_constraint"),
                "mask_zero": self.mask_zero}


class Masking(Layer):
    """Marks the time steps whose features all equal `mask_value` as padding: the layers after
    it (recurrent layers, and Dense, Dropout, Activation, which pass it on) skip them. The
    output is the input with those steps set to zero, as in Keras.

    >>> Masking()(torch.tensor([[[1.0], [0.0]]])).shape
    torch.Size([1, 2, 1])
    """

    supports_masking = True
    _keeps_shape = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self.built = True

    def _keep(self, x):
        return (x != self.mask_value).any(dim=-1)

    def call(self, inputs, training=None):
        x = as_tensor(self, inputs)
        return x * self._keep(x).unsqueeze(-1).to(x.dtype)

    def compute_mask(self, inputs, mask=None):
        return self._keep(as_tensor(self, inputs))

    def _keras_mask_ops(self, inputs, masks):
        return mask_ops.ops(2, inputs)  # NotEqual, then Any

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs during training and scales the rest by 1/(1-rate).
    As in Keras, `rate` is in [0, 1]; a rate of 1 zeroes everything."""

    supports_masking = True
    _keeps_shape = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.noise_shape = check_rate(self.name, "rate", rate), noise_shape
        self._seed_generator(seed)
        self.built = True

    def call(self, inputs, training=None):
        x = as_tensor(self, inputs)
        if not self._is_training(training) or self.rate == 0.0:
            return x
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        keep = self._uniform(shape, x) >= self.rate
        scale = 1.0 / (1.0 - self.rate) if self.rate < 1.0 else 0.0
        return x * (keep.to(x.dtype) * scale)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}


class Activation(Layer):
    """Applies an activation function, by name or callable."""

    supports_masking = True
    _keeps_shape = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        set_objects(self, activation=activation)
        self.built = True

    def call(self, inputs, training=None):
        return self.activation(as_tensor(self, inputs))

    def get_config(self):
        return {**super().get_config(), **objects_config(self, "activation")}


class InputLayer(Layer):
    """The layer behind `Input`: it holds the input's shape and dtype and makes the symbolic
    tensor a Functional model starts from (`output`); a Sequential model takes it as its first
    layer."""

    _keeps_shape = True

    def __init__(self, shape=None, batch_size=None, name=None, dtype=None, batch_shape=None,
                 **kwargs):
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input: expected shape=(...) without the batch axis, got None.")
            if isinstance(shape, int) or not isinstance(shape, (list, tuple)):
                raise TypeError(f"Input: expected shape as a tuple of sizes without the batch "
                                f"axis, like (None, 3), got {shape!r}.")
            batch_shape = (batch_size,) + tuple(shape)
        if dtype is None:
            dtype = "float32"
        strings = dtype == "string"  # text for a TextVectorization or StringLookup layer
        super().__init__(name=name, dtype=None if strings else dtype,
                         batch_input_shape=batch_shape, **kwargs)
        if strings:
            self.dtype_name = "string"
        self.built = True
        symbolic.Node(self, outputs=symbolic.KerasTensor(self._batch_input_shape,
                                                         self.dtype_name, self.name))

    @property
    def shape(self):
        return self._batch_input_shape

    @property
    def output(self) -> symbolic.KerasTensor:
        return self._inbound_nodes[0].outputs[0]

    def call(self, inputs, training=None):
        return inputs

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype_name,
                "batch_shape": list(self._batch_input_shape)}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input of `shape` (without the batch axis): what a Functional model starts
    from, `Model(inputs, outputs)`, and what a Sequential model may begin with.

    >>> x = Input((None, 3), name="series")
    >>> x.shape
    (None, None, 3)
    """
    for what, value in (("sparse", sparse), ("tensor", tensor)):
        if value:
            raise NotImplementedError(f"Input: {what}= is not supported.")
    if optional:
        raise NotImplementedError("Input: optional=True is not supported.")
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                      batch_shape=batch_shape).output
