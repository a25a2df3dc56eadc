"""Lambda: a Python function as a layer, for models built and run in memory.

A file never carries code: a model holding a Lambda layer is refused by `model.save` (before
anything is written) and by `Lambda.from_config` given a serialized function, as `load_keras`
refuses Keras files with Lambda layers. Write a Layer subclass to save such a model.
"""

from __future__ import annotations

import inspect

from ..utils import tree
from .base import Layer, _shape

__all__ = ["Lambda"]


def _takes(function, name: str) -> bool:
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def _no_code(where: str, what: str) -> str:
    return (f"Lambda layer {where!r}: its {what} is Python code, and a file never carries "
            "code; write a Layer subclass with get_config() to save or load this model.")


class Lambda(Layer):
    """`function(inputs, **arguments)` as a layer, as Keras's Lambda: the function also gets
    `mask=` and `training=` when its signature names them.

    Args:
        function: takes the input tensor (or list of tensors) first, returns tensors.
        output_shape: the output shape without the batch axis (the input's batch size is
            prepended), or a function of the input shape giving the whole output shape; None
            works it out by running the function on zeros.
        mask: None (the output has no mask), a function `mask(inputs, input_mask)` giving the
            output mask, or a tensor used as the output mask whatever the input.
        arguments: keyword arguments for `function`.

    >>> Lambda(lambda x: x * 2)(torch.ones(1, 2))
    tensor([[2., 2.]])
    """

    _keras_mask_argument = "mask"  # (Keras passes it; the function takes it if it asks)

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise (ValueError(_no_code(self.name, "function")) if isinstance(function, dict)
                   else TypeError(f"{self.name}: expected function to be callable, got "
                                  f"{function!r} ({type(function).__name__})."))
        for what, value in (("output_shape", output_shape), ("mask", mask)):
            if isinstance(value, dict):  # a serialized function, from a file
                raise ValueError(_no_code(self.name, what))
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"{self.name}: expected arguments as a dict of keyword arguments, "
                            f"got {type(arguments).__name__}.")
        self.function, self.arguments = function, dict(arguments or {})
        self._output_shape = (output_shape if output_shape is None or callable(output_shape)
                              else self._check_shape(output_shape))
        self.mask = mask
        self.supports_masking = mask is not None
        self._function_takes_mask = _takes(function, "mask")
        self._function_takes_training = _takes(function, "training")
        self.built = True

    def _check_shape(self, shape):
        """A shape without the batch axis, or a list of them (a function of several outputs)."""
        if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
            return [self._check_shape(s) for s in shape]
        if not isinstance(shape, (list, tuple)) or not all(d is None or isinstance(d, int)
                                                          for d in shape):
            raise TypeError(f"{self.name}: expected output_shape as a tuple of sizes without the "
                            f"batch axis (None for any size), or a function, got {shape!r}.")
        return _shape(shape)

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._function_takes_mask:
            kwargs["mask"] = mask
        if self._function_takes_training:
            kwargs["training"] = self._is_training(training)
        return self.function(inputs, **kwargs)

    def _has_output_shape_rule(self) -> bool:
        # Without output_shape, the base class runs the function on zeros (Keras traces it).
        return self._output_shape is not None

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = tree.flatten(input_shape)[0] if input_shape else None
        if isinstance(self._output_shape, list):
            return [(batch, *shape) for shape in self._output_shape]
        return (batch, *self._output_shape)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def saving_refusal(self) -> str:
        """Why no model file can hold this layer (models/saving.py asks every layer)."""
        return _no_code(self.name, "function")

    def get_config(self):
        """The config with the function objects themselves: `from_config` rebuilds the layer
        in this process (a copy of a model in memory), never from a file."""
        config = {**super().get_config(), "function": self.function}
        if self._output_shape is not None:
            config["output_shape"] = self._output_shape
        if self.mask is not None:
            config["mask"] = self.mask
        return {**config, "arguments": dict(self.arguments)}
