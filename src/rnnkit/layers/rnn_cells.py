"""SimpleRNNCell, LSTMCell and GRUCell: one time step with Keras's arguments and weights.

A cell holds the weights; `RNN(cell)` (and SimpleRNN, LSTM, GRU, which are RNN over these
cells) runs it over a sequence. The step's math is the one in `rnnkit.cells`, where the
equations are written once.
"""

from __future__ import annotations

import torch

from .. import activations, constraints, initializers, regularizers
from ..cells import GRU_RESET_BEFORE_SPEC, GRU_SPEC, LSTM_SPEC, SIMPLE_RNN_SPEC
from ..cells._spec import gate_product
from ._checks import check_rate, check_units
from .base import Layer
from .dropout_rnn_cell import DropoutRNNCell
from .cell_protocol import zeros_for


def _like(value, weight: torch.Tensor) -> torch.Tensor:
    """A tensor (or numpy array, as Keras takes) in the weights' dtype, on their device."""
    return torch.as_tensor(value).to(dtype=weight.dtype, device=weight.device)


def _as_list(masks):
    """A mask, a list of masks or None, as what a cell's step takes (a list or None)."""
    if masks is None or isinstance(masks, list):
        return masks
    return [masks]


class RecurrentCell(Layer, DropoutRNNCell):
    """Shared base of Keras's three cells: arguments, weights, dropout and the step.

    Weights in Keras layout: kernel (features, G·units), recurrent_kernel (units, G·units),
    bias (G·units,), G gate blocks side by side (rnnkit.cells gives G and the gate order).
    `_where` names the layer that owns the cell in error messages (LSTM(...) says "lstm").
    """

    spec = None  # a cells.CellSpec

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, *,
                 _where=None, **kwargs):
        kwargs.pop("implementation", None)  # Keras: how the step is computed, not what
        super().__init__(**kwargs)
        where = _where or self.name
        self.units = check_units(where, units)
        self.activation = activations.get(activation, where=where)
        self.recurrent_activation = activations.get(recurrent_activation, where=where)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, where=where)
        self.recurrent_initializer = initializers.get(recurrent_initializer, where=where)
        self.bias_initializer = initializers.get(bias_initializer, where=where)
        self.kernel_regularizer = regularizers.get(kernel_regularizer, where=where)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer, where=where)
        self.bias_regularizer = regularizers.get(bias_regularizer, where=where)
        self.kernel_constraint = constraints.get(kernel_constraint, where=where)
        self.recurrent_constraint = constraints.get(recurrent_constraint, where=where)
        self.bias_constraint = constraints.get(bias_constraint, where=where)
        # Keras clips these into [0, 1] (and NaN to 0); a rate outside it is refused here, as
        # Keras's Dropout layer refuses one
        self.dropout = check_rate(where, "dropout", dropout)
        self.recurrent_dropout = check_rate(where, "recurrent_dropout", recurrent_dropout)
        # Keras's implementation 1 (forced by recurrent dropout): one mask per gate
        self.dropout_mask_count = self.spec.gates if self.recurrent_dropout > 0 else None
        self._seed_generator(seed)
        self.output_size = self.units

    @property
    def state_size(self):
        """The size of each state: an int for one state (h), [units, units] for LSTM (h, c)."""
        n = len(self.spec.state_names)
        return self.units if n == 1 else [self.units] * n

    # -- weights --------------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Weights for steps of shape (batch, features)."""
        features = tuple(input_shape)[-1]
        if features is None:
            raise ValueError(f"{self.name}: the feature axis must be known to build, got shape "
                             f"{tuple(input_shape)}.")
        width = self.spec.gates * self.units
        self.add_weight(name="kernel", shape=(features, width),
                        initializer=self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.add_weight(name="recurrent_kernel", shape=(self.units, width),
                        initializer=self.recurrent_initializer,
                        regularizer=self.recurrent_regularizer,
                        constraint=self.recurrent_constraint)
        if self.use_bias:
            self.add_weight(name="bias", shape=self._bias_shape(), initializer=self._bias_init(),
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def _bias_shape(self):
        return (self.spec.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def _biases(self):
        """(input-side bias, recurrent-side bias); only GRU reset_after has the second."""
        return self.bias, None

    def _options(self) -> dict:
        """Anything beyond the spec, activations, weights and masks that this cell computes
        with (none for Keras's three cells): every backend that does not list an option
        refuses a call carrying it."""
        return {}

    # -- dropout ----------------------------------------------------------------------------------
    def _applies(self, rate: float) -> bool:
        """Whether a rate drops anything: Keras's SimpleRNN drops everything at a rate of 1, its
        LSTM and GRU nothing."""
        return 0.0 < rate < 1.0 or (rate >= 1.0 and self.spec.family == "simple_rnn")

    def step_masks(self, x_t, h, training) -> tuple:
        """(input masks, recurrent masks) of this sequence for a step, as lists or None."""
        if not training:
            return None, None
        input_masks = self.get_dropout_mask(x_t) if self._applies(self.dropout) else None
        recurrent_masks = (self.get_recurrent_dropout_mask(h)
                           if self._applies(self.recurrent_dropout) else None)
        return _as_list(input_masks), _as_list(recurrent_masks)

    def sequence_masks(self, x, training) -> tuple:
        """(input masks, recurrent masks) for a whole sequence x (batch, time, features),
        drawn fresh (the RNN layer's call on the fast backends keeps none)."""
        if not training:
            return None, None
        batch = x.shape[0]

        def draw(rate, shape):
            if not self._applies(rate):
                return None
            return _as_list(self._create_dropout_mask(x.new_empty(shape), rate))

        return (draw(self.dropout, (batch, x.shape[-1])),
                draw(self.recurrent_dropout, (batch, self.units)))

    # -- running --------------------------------------------------------------------------------
    def call(self, inputs, states, training=None):
        """One step: (output, new states) from x_t (batch, features) and the states.

        As Keras: LSTMCell returns `h, [h, c]`; SimpleRNNCell and GRUCell return `h, [h]`
        when `states` is a list or tuple and `h, h` when it is one tensor."""
        nested = isinstance(states, (list, tuple))
        states = tuple(_like(s, self.kernel) for s in (states if nested else (states,)))
        inputs = _like(inputs, self.kernel)
        input_masks, recurrent_masks = self.step_masks(inputs, states[0],
                                                       self._is_training(training))
        input_bias, recurrent_bias = self._biases()
        xw = gate_product(inputs, self.kernel, input_masks)
        if input_bias is not None:
            xw = xw + input_bias
        new = self.spec.step(xw, states, self.recurrent_kernel, recurrent_bias, self.activation,
                             self.recurrent_activation, masks=recurrent_masks, **self._options())
        h = new[0]
        if len(new) > 1:
            return h, list(new)
        return h, ([h] if nested else h)

    def get_initial_state(self, batch_size=None):
        """Zero states, one (batch_size, units) tensor per state, in a list."""
        zeros = zeros_for(self)
        return [zeros(batch_size, self.units) for _ in self.spec.state_names]

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
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}"


class SimpleRNNCell(RecurrentCell):
    """The step of SimpleRNN: h_t = activation(x_t W + b + h_{t-1} U) (rnnkit.cells.simple_rnn).

    Args:
        units: size of the state h (and of the output).
        activation: default "tanh".
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
        recurrent_constraint, bias_constraint: as in Keras.
        dropout, recurrent_dropout: Keras's variational dropout of x_t and of h_{t-1} in the
            recurrent product; the masks are kept for the whole sequence (DropoutRNNCell).
        seed: seed of the dropout masks.

    Call: cell(x_t, states, training=None) -> (h_t, [h_t]) for x_t (batch, features) and
    states [h_{t-1}]. Weights: kernel (features, units), recurrent_kernel (units, units),
    bias (units,).

    >>> cell = SimpleRNNCell(4)
    >>> h, [state] = cell(torch.zeros(2, 3), [torch.zeros(2, 4)])
    >>> h.shape
    torch.Size([2, 4])
    """

    spec = SIMPLE_RNN_SPEC

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation, None, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed,
                         **kwargs)
        self.dropout_mask_count = None  # one mask: SimpleRNN has one gate block
        self._build_now_if_shape_known()

    def get_config(self) -> dict:
        config = super().get_config()
        del config["recurrent_activation"]
        return config


class LSTMCell(RecurrentCell):
    """The step of LSTM, Keras gate order i, f, c, o (equations in rnnkit.cells.lstm).

    Args: as SimpleRNNCell, plus
        recurrent_activation: gate activation, default "sigmoid".
        unit_forget_bias: add 1 to the forget gate's bias at initialization (default True).

    Call: cell(x_t, [h, c], training=None) -> (h_t, [h_t, c_t]). Weights: kernel
    (features, 4 units), recurrent_kernel (units, 4 units), bias (4 units,).
    `state_size` is [units, units].

    >>> cell = LSTMCell(4)
    >>> h, (h_again, c) = cell(torch.zeros(2, 3), cell.get_initial_state(2))
    >>> c.shape
    torch.Size([2, 4])
    """

    spec = LSTM_SPEC

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed,
                         **kwargs)
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

    def get_config(self) -> dict:
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(RecurrentCell):
    """The step of GRU, Keras gate order z, r, h (both forms in rnnkit.cells.gru).

    Args: as LSTMCell without unit_forget_bias, plus
        reset_after: apply the reset gate after the recurrent product (default True: Keras 3,
            cuDNN and torch.nn.GRU); False is the original form.

    Call: cell(x_t, [h], training=None) -> (h_t, [h_t]). Weights: kernel (features, 3 units),
    recurrent_kernel (units, 3 units), bias (2, 3 units) with rows (input, recurrent) when
    reset_after, else (3 units,).

    >>> cell = GRUCell(4)
    >>> cell(torch.zeros(2, 3), torch.zeros(2, 4))[1].shape
    torch.Size([2, 4])
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        self.reset_after = bool(reset_after)  # before super().__init__: spec depends on it
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed,
                         **kwargs)
        self._build_now_if_shape_known()

    @property
    def spec(self):
        """GRU's two forms are two cells (rnnkit.cells.gru)."""
        return GRU_SPEC if self.reset_after else GRU_RESET_BEFORE_SPEC

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _biases(self):
        if self.bias is None or not self.reset_after:
            return self.bias, None
        return self.bias[0], self.bias[1]

    def get_config(self) -> dict:
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config


CELLS = (SimpleRNNCell, LSTMCell, GRUCell)
