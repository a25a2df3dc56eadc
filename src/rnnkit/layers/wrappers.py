"""Wrappers: TimeDistributed (one layer on every time step) and Bidirectional (a recurrent
layer run forwards and backwards, outputs merged)."""

from __future__ import annotations

import torch

from ._checks import as_tensor
from .base import Layer


class TimeDistributed(Layer):
    """y[:, t] = layer(x[:, t]) for every t, with one set of weights (the wrapped layer's).

    As in Keras, the wrapped layer's `call` runs on the time slices (all of them at once here,
    as one batch of batch·time rows), so its own activity_regularizer does not apply; the
    wrapper's does. A mask passes through unchanged.
    """

    supports_masking = True
    _keras_mask_argument = "mask"

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

    def _sublayers(self):
        return [self.layer]

    def get_config(self):
        from . import serialize
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config):
        from . import deserialize
        config = dict(config)
        return cls(deserialize(config.pop("layer")), **config)


MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _renamed(layer, prefix: str, **changes):
    """A fresh copy of `layer` (same config, its own weights) named prefix + its name."""
    from . import deserialize, serialize
    record = serialize(layer)
    config = record["config"]
    config["name"] = prefix + config["name"].removeprefix(prefix)
    config.update(changes)
    return deserialize(record)


class Bidirectional(Layer):
    """A recurrent layer run over the sequence forwards and backwards, outputs merged (Keras).

    `forward_layer` is a copy of `layer` named "forward_<name>"; `backward_layer` is the given
    one or a copy with go_backwards=True named "backward_<name>" (so `layer` itself must run
    forwards, as Keras requires). With return_sequences the
    backward output is flipped back to the input's time order before merging, and both layers
    output zeros at masked steps (Keras forces zero_output_for_mask). merge_mode: "concat"
    (default: [forward, backward] on the last axis), "sum", "mul", "ave", or None for the list
    [forward, backward]. Weights: the forward layer's, then the backward layer's.

    >>> from rnnkit.layers import LSTM
    >>> Bidirectional(LSTM(4, return_sequences=True))(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 8])
    """

    supports_masking = True
    _keras_mask_argument = "mask"

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        from .rnn import RNN
        for role, candidate in (("layer", layer), ("backward_layer", backward_layer)):
            if candidate is not None and not isinstance(candidate, RNN):
                raise TypeError(f"Bidirectional: expected {role} to be a recurrent layer "
                                "(SimpleRNN, LSTM, GRU or RNN over a cell), got "
                                f"{type(candidate).__name__}.")
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["batch_input_shape"] = layer._batch_input_shape  # Sequential builds from it
        super().__init__(**kwargs)
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"{self.name}: expected merge_mode one of {MERGE_MODES}, got "
                             f"{merge_mode!r}.")
        self.forward_layer = _renamed(layer, "forward_")
        self.backward_layer = (backward_layer if backward_layer is not None else
                               _renamed(layer, "backward_", go_backwards=True))
        self._check_pair()
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        for sub in (self.forward_layer, self.backward_layer):
            sub.zero_output_for_mask = sub.return_sequences
            if not self._trainable:
                sub.trainable = False
        self._build_now_if_shape_known()
        if weights is not None:
            self.set_weights(weights)

    def _check_pair(self):
        f, b = self.forward_layer, self.backward_layer
        if f.go_backwards == b.go_backwards:
            raise ValueError(f"{self.name}: expected the forward and backward layers to differ in "
                             f"go_backwards, got {f.go_backwards} for both.")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(f, attr) != getattr(b, attr):
                raise ValueError(f"{self.name}: expected the forward and backward layers to agree "
                                 f"on {attr}, got {getattr(f, attr)} and {getattr(b, attr)}.")

    @property
    def _pair(self):
        return (self.forward_layer, self.backward_layer)

    def build(self, input_shape):
        for sub in self._pair:
            if not sub.built:
                sub.build_on(tuple(input_shape), self._device)
        self.built = True

    def call(self, inputs, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(inputs, initial_state=forward_state, mask=mask, training=training)
        y_rev = self.backward_layer(inputs, initial_state=backward_state, mask=mask,
                                    training=training)
        states = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        output = self._merge(y, y_rev)
        if self.return_state:
            return [*output, *states] if self.merge_mode is None else [output, *states]
        return output

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return torch.cat([y, y_rev], dim=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def compute_mask(self, inputs, mask=None):
        if not self.return_sequences:
            return None
        return mask if self.merge_mode is not None else [mask, mask]

    def _keras_mask_ops(self, inputs, masks):
        return self.compute_mask(inputs, masks)  # the same choice, on Keras's mask ops

    def compute_output_shape(self, input_shape):
        shape, back = (sub.compute_output_shape(input_shape) for sub in self._pair)
        states = []
        if self.return_state:
            states = [*shape[1:], *back[1:]]
            shape, back = shape[0], back[0]
        if self.merge_mode is None:
            head = [tuple(shape), tuple(back)]
        elif self.merge_mode == "concat":
            head = [(*shape[:-1], shape[-1] + back[-1])]
        else:
            head = [tuple(shape)]
        if self.return_state:
            return head + states
        return head if self.merge_mode is None else head[0]

    # -- stateful ---------------------------------------------------------------------------------
    @property
    def states(self):
        if not self.stateful:
            return None
        return [*self.forward_layer.states, *self.backward_layer.states]

    def reset_state(self):
        for sub in self._pair:
            sub.reset_state()

    reset_states = reset_state

    # -- weights ----------------------------------------------------------------------------------
    @property
    def weights(self):
        return [*self.forward_layer.weights, *self.backward_layer.weights]

    @property
    def weight_names(self):
        return [f"{role}/{name}" for role, sub in zip(("forward_layer", "backward_layer"), self._pair)
                for name in sub.weight_names]

    def _sublayers(self):
        return list(self._pair)

    @property
    def _activity_losses(self):
        return [*self.__dict__.get("_own_activity", []), *self.forward_layer._activity_losses,
                *self.backward_layer._activity_losses]

    @_activity_losses.setter
    def _activity_losses(self, value):
        self.__dict__["_own_activity"] = value

    @property
    def last_backend(self):
        return self.forward_layer.last_backend

    def get_config(self):
        from . import serialize
        config = {**super().get_config(), "merge_mode": self.merge_mode,
                  "layer": serialize(self.forward_layer),
                  "backward_layer": serialize(self.backward_layer)}
        return config

    @classmethod
    def from_config(cls, config):
        from . import deserialize
        config = dict(config)
        layer = deserialize(config.pop("layer"))
        backward = config.pop("backward_layer", None)
        return cls(layer, backward_layer=None if backward is None else deserialize(backward),
                   **config)
