"""Model: a Layer with Keras's training API. `Model(inputs, outputs)` is a Functional graph;
a subclass with layers as attributes and a `call` is a subclassed model."""

from __future__ import annotations

import torch

from ..layers.base import Layer
from .summary import print_summary
from .training import Trainer
from .weights import get_weights, layer_keys, set_weights


class Model(Trainer, Layer):
    """A model: `Model(inputs, outputs, name=None)` from symbolic tensors (the Functional
    API), or a subclass that creates its layers in `__init__` and uses them in
    `call(inputs, training=None, mask=None)`.

    >>> inputs = Input((None, 3))
    >>> model = Model(inputs, Dense(1)(LSTM(8)(inputs)))
    >>> model(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 1])
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional
            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, name=None, trainable=True, dtype=None, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(f"{type(self).__name__}: a subclassed Model takes no inputs or "
                            "outputs; create its layers in __init__ and use them in call(). "
                            "For a graph of layers use Model(inputs, outputs).")
        Layer.__init__(self, name=name, trainable=trainable, dtype=dtype, **kwargs)
        Trainer.__init__(self)
        self._output_mask = None

    def __setattr__(self, name, value):
        """Keras tracks layers kept in a list attribute; torch registers them as a ModuleList."""
        if (isinstance(value, (list, tuple)) and value
                and all(isinstance(v, torch.nn.Module) for v in value)):
            value = torch.nn.ModuleList(value)
        super().__setattr__(name, value)

    # -- layers and weights ---------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The layers the model holds, in the order they were assigned (Keras's tracking)."""
        found = []

        def visit(module):
            for child in module.children():
                if isinstance(child, Layer):
                    found.append(child)
                elif isinstance(child, (torch.nn.ModuleList, torch.nn.ModuleDict)):
                    visit(child)

        visit(self)
        return found

    def _sublayers(self) -> list[Layer]:
        return self.layers

    @property
    def weights(self) -> list[torch.nn.Parameter]:
        own = [getattr(self, n) for n in self._weight_names]
        seen, result = set(), []
        for w in [w for layer in self.layers for w in layer.weights] + own:
            if id(w) not in seen:
                seen.add(id(w))
                result.append(w)
        return result

    @property
    def weight_names(self) -> list[str]:
        """"<layer key>/<weight name>" for each of `weights` (layer keys as in saved files)."""
        return ([f"{key}/{name}" for key, layer in zip(layer_keys(self.layers), self.layers)
                 for name in layer.weight_names] + list(self._weight_names))

    @property
    def losses(self) -> list:
        """The layers' regularization penalties, in Keras's order: the activity penalties of
        the last call, then the weights' penalties."""
        layers = self.layers
        return ([loss for layer in [self, *layers] for loss in layer._activity_losses]
                + [loss for layer in layers for loss in layer._weight_penalties()])

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"{self.name}: the model is not built yet, so it has no weights to "
                             "count; call it on data or build(input_shape) first.")
        return int(sum(w.numel() for w in self.weights))

    def get_weights(self):
        return get_weights(self.layers) + [getattr(self, n).detach().cpu().numpy().copy()
                                           for n in self._weight_names]

    def set_weights(self, weights) -> None:
        if self._weight_names:
            return Layer.set_weights(self, weights)
        set_weights(self.name, self.layers, weights)

    def get_layer(self, name=None, index=None) -> Layer:
        """A layer by name or by position in `layers`, as Keras's get_layer."""
        layers = self.layers
        if index is not None:
            if name is not None:
                raise ValueError(f"{self.name}: get_layer takes name or index, not both.")
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"{self.name}: get_layer index {index} is out of range; the "
                                 f"model has {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{self.name}: no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in layers]}.")

    # -- building and calling -------------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Build every layer by running `call` once on zeros of `input_shape` (unknown sizes
        as 1), as Keras builds a subclassed model."""
        self._build_shape = input_shape
        device = self._device or torch.get_default_device()

        def zeros(shape):
            return torch.zeros([1 if d is None else d for d in shape], device=device,
                               dtype=getattr(torch, self.dtype_name))

        shapes = input_shape
        inputs = (zeros(shapes) if not (shapes and isinstance(shapes[0], (list, tuple)))
                  else [zeros(s) for s in shapes])
        was_training = self.training
        self.train(False)
        self.built = True
        try:
            with torch.no_grad():
                self.call(inputs, **self._call_arguments(inputs, {}))
        finally:
            self.train(was_training)

    def build_on(self, input_shape, device=None) -> None:
        """A subclassed model called on data builds its layers as they are called."""
        if self._device is None and device is not None:
            self._device = torch.device(device)
        self._build_shape = input_shape
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return self._output_mask

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None) -> None:
        for what, value in (("show_trainable", show_trainable), ("layer_range", layer_range)):
            if value:
                raise NotImplementedError(f"{self.name}.summary: {what} is not supported yet.")
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested)

    def get_config(self) -> dict:
        """A subclassed model's config: its name and trainability, as Keras's base Model."""
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """A graph's config (layers, input_layers, output_layers) makes a Functional model;
        any other config is passed to the class, as Keras's Model.from_config does."""
        if {"layers", "input_layers", "output_layers"} <= set(config):
            from .functional import Functional
            from .functional_config import functional_from_config
            return functional_from_config(Functional if cls is Model else cls, config,
                                          custom_objects)
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
