"""SimpleRNN, LSTM and GRU layers: Keras arguments, Keras weights, one time loop per backend."""

from __future__ import annotations

import torch

from .. import activations, backends, constraints, initializers, regularizers
from ..cells import GRU_RESET_BEFORE_SPEC, GRU_SPEC, LSTM_SPEC, SIMPLE_RNN_SPEC
from .base import Layer
from ._checks import (check_initial_state, check_mask, check_rate, check_recurrent_input,
                      check_units)

# Keras options that do not change what the layer computes here.
_IGNORED = ("unroll", "use_cudnn", "time_major", "implementation")


class RNNLayer(Layer):
    """Shared base of SimpleRNN, LSTM and GRU: runs a cell over (batch, time, features)."""

    spec = None  # a cells.CellSpec
    supports_masking = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", return_sequences=False, return_state=False,
                 go_backwards=False, *, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, stateful=False,
                 zero_output_for_mask=False, seed=None, backend="auto", **kwargs):
        for key in _IGNORED:
            kwargs.pop(key, None)
        super().__init__(**kwargs)
        self.units = check_units(self.name, units)
        self.activation = activations.get(activation, where=self.name)
        self.recurrent_activation = activations.get(recurrent_activation, where=self.name)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, where=self.name)
        self.recurrent_initializer = initializers.get(recurrent_initializer, where=self.name)
        self.bias_initializer = initializers.get(bias_initializer, where=self.name)
        self.kernel_regularizer = regularizers.get(kernel_regularizer, where=self.name)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer, where=self.name)
        self.bias_regularizer = regularizers.get(bias_regularizer, where=self.name)
        self.kernel_constraint = constraints.get(kernel_constraint, where=self.name)
        self.recurrent_constraint = constraints.get(recurrent_constraint, where=self.name)
        self.bias_constraint = constraints.get(bias_constraint, where=self.name)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        # Keras clips these into [0, 1] (and NaN to 0); a rate outside it is refused here, as
        # Keras's Dropout layer refuses one
        self.dropout = check_rate(self.name, "dropout", dropout)
        self.recurrent_dropout = check_rate(self.name, "recurrent_dropout", recurrent_dropout)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._seed_generator(seed)
        self.backend = backends.check(backend, self.name)
        self.last_backend: str | None = None
        self.state_probe = None  # rnnkit.diagnostics: sees every step's state (reference loop)

    # -- weights --------------------------------------------------------------------------------
    @property
    def input_dim(self) -> int | None:
        return self.kernel.shape[0] if self.built else None

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"{self.name}: expected input of shape (batch, time, features), "
                             f"got shape {input_shape}.")
        if input_shape[-1] is None:
            raise ValueError(f"{self.name}: the feature axis must be known to build, got shape "
                             f"{input_shape}.")
        width = self.spec.gates * self.units
        self.add_weight("kernel", (input_shape[-1], width), self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.add_weight("recurrent_kernel", (self.units, width), self.recurrent_initializer,
                        regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            self.add_weight("bias", self._bias_shape(), self._bias_init(),
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        if self.stateful:
            self._build_states(input_shape[0])
        self.built = True

    # -- stateful layers ------------------------------------------------------------------------
    def _build_states(self, batch) -> None:
        """Keras's stateful RNN: states of a fixed batch size, zeros at first, carried from one
        call to the next (not weights: neither counted, saved, nor trained)."""
        if batch is None:
            raise ValueError(f"{self.name}: stateful=True needs a fixed batch size; pass "
                             "batch_size= (or batch_input_shape=) to the first layer, or "
                             "Input(shape, batch_size=...); got a dynamic batch size.")
        device = self._device or torch.get_default_device()
        for name in self.spec.state_names:
            self.register_buffer(f"state_{name}", torch.zeros(batch, self.units, device=device,
                                                              dtype=getattr(torch, self.dtype_name)),
                                 persistent=False)

    @property
    def states(self) -> list[torch.Tensor] | None:
        """A stateful layer's current states (h, and c for LSTM); None otherwise."""
        if not (self.stateful and self.built):
            return None
        return [getattr(self, f"state_{name}") for name in self.spec.state_names]

    def reset_state(self) -> None:
        """Zero a stateful layer's states, as before its first batch."""
        with torch.no_grad():
            for s in self.states or []:
                s.zero_()

    reset_states = reset_state  # Keras's older name

    def _carried_states(self, x):
        states = self.states
        if states[0].shape[0] != x.shape[0]:
            raise ValueError(f"{self.name}: a stateful layer keeps states for batches of "
                             f"{states[0].shape[0]}, got a batch of {x.shape[0]}.")
        # copies: the kept states are overwritten after this call, and backward may need these
        return tuple(s.to(dtype=x.dtype, copy=True) for s in states)

    def _bias_shape(self):
        return (self.spec.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def _biases(self):
        """(input-side bias, recurrent-side bias); only GRU reset_after has the second."""
        return (self.bias if self.use_bias else None), None

    def _options(self) -> dict:
        """Anything beyond the spec, activations, weights and masks that this layer's cell
        computes with (none for Keras's three cells). Every backend that does not list an
        option refuses a call carrying it."""
        return {}

    # -- dropout ----------------------------------------------------------------------------------
    def _dropout_masks(self, x, training):
        """Keras's variational dropout: (input masks, recurrent masks), each None or a list of
        (batch, features) / (batch, units) masks of 0 and 1/(1 - rate), drawn once per call and
        used at every step. As in Keras, LSTM and GRU draw one per gate when recurrent_dropout
        is on (its implementation 1), else one input mask for all gates."""
        if not self._is_training(training):
            return None, None
        count = self.spec.gates if self.recurrent_dropout > 0 else 1

        def draw(rate, width):
            # a rate of 1: Keras's SimpleRNN drops everything, its LSTM and GRU nothing
            if rate <= 0.0 or (rate >= 1.0 and self.spec.name != "simple_rnn"):
                return None
            scale = 1.0 / (1.0 - rate) if rate < 1.0 else 0.0
            return [(self._uniform((x.shape[0], width), x) >= rate).to(x.dtype) * scale
                    for _ in range(count)]

        return draw(self.dropout, x.shape[-1]), draw(self.recurrent_dropout, self.units)

    # -- running --------------------------------------------------------------------------------
    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def call(self, inputs, initial_state=None, mask=None, training=None):
        x = check_recurrent_input(self, inputs)
        mask = check_mask(self, mask, x)
        if self.stateful and initial_state is None:
            states = self._carried_states(x)
        else:
            states = check_initial_state(self, initial_state, x)
        input_masks, recurrent_masks = self._dropout_masks(x, training)
        call = self._describe(x, states, mask, input_masks, recurrent_masks)
        backend = backends.select(call, backends.requested(self))
        output, states = backends.run(backend, call)
        self.last_backend = backend
        if self.stateful:  # carried to the next call, cut from this call's graph (truncated BPTT)
            with torch.no_grad():
                for kept, new in zip(self.states, states):
                    kept.copy_(new.detach())
        if self.return_state:
            return [output, *states]
        return output

    def _describe(self, x, states, mask, input_masks, recurrent_masks) -> backends.RecurrentCall:
        """This call, once, as every backend sees it."""
        input_bias, recurrent_bias = self._biases()
        return backends.RecurrentCall(
            layer=self.name, spec=self.spec, activation=self.activation,
            recurrent_activation=self.recurrent_activation, x=x, states=tuple(states),
            kernel=self.kernel, recurrent_kernel=self.recurrent_kernel, input_bias=input_bias,
            recurrent_bias=recurrent_bias, mask=mask,
            input_masks=None if input_masks is None else tuple(input_masks),
            recurrent_masks=None if recurrent_masks is None else tuple(recurrent_masks),
            go_backwards=self.go_backwards, return_sequences=self.return_sequences,
            return_state=self.return_state, zero_output_for_mask=self.zero_output_for_mask,
            state_probe=self.state_probe, options=self._options(), memo={})

    def compute_output_shape(self, input_shape):
        batch, time = input_shape[0], input_shape[1]
        out = (batch, time, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out] + [(batch, self.units)] * len(self.spec.state_names)
        return out

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "stateful": self.stateful,
            "zero_output_for_mask": self.zero_output_for_mask,
            "seed": self.seed,
            "backend": self.backend,
        }

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}"


class SimpleRNN(RNNLayer):
    """Fully-connected RNN: h_t = activation(x_t W + b + h_{t-1} U).

    Args:
        units: size of the state h.
        activation: default "tanh".
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer: as in Keras.
        return_sequences: return h for every step (batch, time, units), not only the last.
        return_state: also return the final state: [output, h].
        go_backwards: process the sequence reversed (and return the outputs in that order).
        dropout, recurrent_dropout: Keras's variational dropout of the inputs and of the state
            in the recurrent product: one mask per sequence, in training only.
        stateful: carry the final states into the next call (a fixed batch size).
        zero_output_for_mask: masked steps output zeros instead of the previous output.
        kernel_regularizer, ..., bias_constraint: as in Keras (rnnkit.regularizers,
            rnnkit.constraints).
        backend: "auto", "reference", "native", "cudnn" or "triton" (rnnkit.backends says
            what each runs; `last_backend` tells which one ran).

    Call: layer(x, initial_state=None, mask=None, training=None), x (batch, time, features),
    mask (batch, time) True at real steps (masked steps keep the state).

    Weights: kernel (features, units), recurrent_kernel (units, units), bias (units,).

    >>> SimpleRNN(4)(torch.zeros(2, 3, 1)).shape
    torch.Size([2, 4])
    """

    spec = SIMPLE_RNN_SPEC

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", return_sequences=False,
                 return_state=False, go_backwards=False, **kwargs):
        super().__init__(units, activation, None, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, return_sequences, return_state, go_backwards, **kwargs)
        self._build_now_if_shape_known()

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"]
        return config


class LSTM(RNNLayer):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997), Keras gate order i, f, c, o.

    Equations in `rnnkit.cells.lstm`. Arguments as SimpleRNN, plus:
        recurrent_activation: gate activation, default "sigmoid" ("hard_sigmoid" is Keras 3's
            relu6(x + 3) / 6).
        unit_forget_bias: add 1 to the forget gate's bias at initialization (default True).

    Weights: kernel (features, 4 units), recurrent_kernel (units, 4 units), bias (4 units,).
    return_state gives [output, h, c].

    >>> LSTM(8, return_sequences=True)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 8])
    """

    spec = LSTM_SPEC

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, return_sequences=False,
                 return_state=False, go_backwards=False, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, return_sequences, return_state,
                         go_backwards, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self._build_now_if_shape_known()

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def forget_ones(shape, dtype=None):
            return torch.cat([init((units,), dtype), torch.ones(units, dtype=dtype),
                              init((2 * units,), dtype)])

        return forget_ones

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRU(RNNLayer):
    """Gated Recurrent Unit (Cho et al., 2014), Keras gate order z, r, h.

    Equations, and where the reset gate sits in each form, in `rnnkit.cells.gru`. Arguments as
    LSTM (without unit_forget_bias), plus:
        reset_after: apply the reset gate after the recurrent product (default True: Keras 3,
            cuDNN and torch.nn.GRU); False is the original form.

    Weights: kernel (features, 3 units), recurrent_kernel (units, 3 units), bias (2, 3 units) with
    rows (input, recurrent) when reset_after, else (3 units,).

    >>> GRU(8)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 8])
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", return_sequences=False, return_state=False,
                 go_backwards=False, reset_after=True, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, return_sequences, return_state,
                         go_backwards, **kwargs)
        self.reset_after = bool(reset_after)
        self._build_now_if_shape_known()

    @property
    def spec(self):
        """GRU's two forms are two cells (rnnkit.cells.gru)."""
        return GRU_SPEC if self.reset_after else GRU_RESET_BEFORE_SPEC

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _biases(self):
        if not self.use_bias:
            return None, None
        if self.reset_after:
            return self.bias[0], self.bias[1]
        return self.bias, None

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config
