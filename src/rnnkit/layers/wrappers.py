"""TimeDistributed: one layer applied to every time step of a (batch, time, …) input."""

from __future__ import annotations

from ._checks import as_tensor
from .base import Layer


class TimeDistributed(Layer):
    """y[:, t] = layer(x[:, t]) for every t, with one set of weights (the wrapped layer's).

    As in Keras, the wrapped layer's `call` runs on the time slices (all of them at once here,
    as one batch of batch·time rows), so its own activity_regularizer does not apply; the
    wrapper's does.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed: expected an rnnkit layer to wrap, got "
                            f"{type(layer).__name__}.")
        super().__init__(**kwargs)
        self.layer = layer
        if not self._trainable:  # TimeDistributed(layer, trainable=False) freezes the layer
            layer.trainable = False
        self._build_now_if_shape_known()

    @staticmethod
    def _child_shape(input_shape):
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"{self.name}: expected input of shape (batch, time, …) with at "
                             f"least 3 axes, got {tuple(input_shape)}.")
        if not self.layer.built:
            self.layer.build_on(self._child_shape(input_shape), self._device)
        self.built = True

    def call(self, inputs, training=None):
        x = as_tensor(self, inputs)
        if x.ndim < 3:
            raise ValueError(f"{self.name}: expected input of shape (batch, time, …), got shape "
                             f"{tuple(x.shape)}.")
        batch, time = x.shape[:2]
        y = self.layer.call(x.reshape(batch * time, *x.shape[2:]), training=training)
        return y.reshape(batch, time, *y.shape[1:])

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], input_shape[1], *child[1:])

    @property
    def weights(self):
        return self.layer.weights

    @property
    def weight_names(self):
        return self.layer.weight_names

    @property
    def trainable(self) -> bool:
        return self.layer.trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self.layer.trainable = value

    def _weight_penalties(self):
        return self.layer._weight_penalties()

    def get_config(self):
        from . import serialize
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config):
        from . import deserialize
        config = dict(config)
        return cls(deserialize(config.pop("layer")), **config)
