"""Sequential: a linear stack of layers, itself a torch.nn.Module."""

from __future__ import annotations

import torch

from ..layers import serialize
from ..layers.base import Layer
from ..layers.core import InputLayer
from ..layers.symbolic import KerasTensor
from ..utils.naming import unique_name
from .model import Model
from .training import Trainer


class Sequential(Model):
    """A stack of layers, each feeding the next.

    >>> model = Sequential()
    >>> model.add(LSTM(8, input_shape=(None, 1)))
    >>> model.add(Dense(1))
    >>> model(torch.zeros(2, 5, 1)).shape
    torch.Size([2, 1])
    """

    def __init__(self, layers=None, trainable=True, name=None):
        Layer.__init__(self, name=name or unique_name("sequential"))
        Trainer.__init__(self)
        self._stack = torch.nn.ModuleList()
        self._input_layer: InputLayer | None = None
        self._output_mask = None
        for layer in layers or []:
            self.add(layer)
        if not trainable:
            for layer in self.layers:
                layer.trainable = False
        self.train(False)

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    def add(self, layer) -> None:
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]  # Sequential([Input(shape), ...]), as in Keras
        if isinstance(layer, InputLayer):
            if len(self._stack) or self._input_layer is not None:
                raise ValueError(f"{self.name}: an Input can only be the first layer of a Sequential "
                                 "model.")
            self._input_layer = layer
            self.build(layer.shape)
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"{self.name}: expected an rnnkit layer, got {type(layer).__name__}.")
        if getattr(layer, "return_state", False):
            raise ValueError(f"{self.name}: layer {layer.name} returns its states "
                             "(return_state=True), but a Sequential model passes one tensor from "
                             "layer to layer; use return_state only when calling the layer yourself.")
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f"{self.name}: a layer named {layer.name!r} is already in the model; "
                             "layer names must be unique.")
        self._stack.append(layer)
        if len(self._stack) == 1 and self._batch_input_shape is None:
            if layer._batch_input_shape is not None:
                self.build(layer._batch_input_shape)
        elif self.built:
            self.build(self._batch_input_shape)

    @property
    def input_shape(self):
        """The input shape the model is built for, batch axis first (None where any size
        goes), as Keras's `model.input_shape`; None until it is known."""
        return self._batch_input_shape

    def pop(self) -> Layer:
        layer = self._stack[-1]
        del self._stack[-1]
        return layer

    def build(self, input_shape, *, device=None) -> None:
        """Build every layer for inputs of `input_shape` (batch axis included, may be None);
        weights go to `device` unless .to() chose one for a layer before."""
        shape = tuple(input_shape)
        self._batch_input_shape = shape
        for layer in self._stack:
            if not layer.built:
                layer.build_on(shape, device)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def build_on(self, input_shape, device=None) -> None:
        """Built by its first input: any batch size goes, as in Keras."""
        self.build((None,) + tuple(input_shape[1:]), device=device)

    def forward(self, *args, **kwargs):
        if not self._stack:
            raise ValueError(f"{self.name}: the model has no layers; add some with model.add().")
        return super().forward(*args, **kwargs)

    def call(self, x, training=None, mask=None):
        for layer in self._stack:
            x, mask = layer.call_masked(x, mask, training=training)
        self._output_mask = mask  # Keras weights the loss with it (see Trainer._total_loss)
        return x

    def reset_states(self) -> None:
        """Zero the states of every stateful layer (Keras 2's model.reset_states)."""
        for layer in self._stack:
            if getattr(layer, "stateful", False):
                layer.reset_states()

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "layers": []}
        if self._input_layer is not None:
            config["layers"].append(serialize(self._input_layer))
        config["layers"] += [serialize(layer) for layer in self._stack]
        if self._batch_input_shape is not None:
            config["build_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "Sequential":
        from .functional_config import deserialize_layer

        model = cls(name=config.get("name"))
        for record in config["layers"]:
            model.add(deserialize_layer(record, custom_objects))
        if not model.built and config.get("build_input_shape") is not None:
            model.build(config["build_input_shape"])
        return model

