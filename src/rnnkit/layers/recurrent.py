"""SimpleRNN, LSTM and GRU: RNN over Keras's three cells, with Keras's flat arguments."""

from __future__ import annotations

from ..utils.naming import snake_case, unique_name
from .base import Layer
from .rnn import RNN
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell

# What the built-in layers read from their cell, as Keras's LSTM, GRU and SimpleRNN do.
_FROM_CELL = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
              "recurrent_initializer", "bias_initializer", "kernel_regularizer",
              "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
              "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed",
              "kernel", "recurrent_kernel", "bias", "spec")
_WEIGHTS = ("kernel", "recurrent_kernel", "bias")


class RNNLayer(RNN):
    """Shared base of SimpleRNN, LSTM and GRU: RNN over the layer's own cell (`cell_class`),
    made from the layer's arguments; the cell holds the weights (`layer.cell.kernel`, also
    `layer.kernel`). The config is flat, as Keras's: the cell's arguments beside the layer's.
    """

    cell_class = None
    _cell_options: tuple[str, ...] = ()  # arguments only this layer's cell takes

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", return_sequences=False, return_state=False,
                 go_backwards=False, *, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, stateful=False,
                 zero_output_for_mask=False, seed=None, backend="auto", **kwargs):
        for key in ("unroll", "use_cudnn", "time_major", "implementation"):
            kwargs.pop(key, None)  # Keras options of how the loop runs, not of what it computes
        kwargs["name"] = kwargs.get("name") or unique_name(snake_case(type(self).__name__))
        options = {key: kwargs.pop(key) for key in self._cell_options if key in kwargs}
        if self.cell_class is not SimpleRNNCell:
            options["recurrent_activation"] = recurrent_activation
        cell = self.cell_class(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
            seed=seed, name=snake_case(self.cell_class.__name__), dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), _where=kwargs["name"], **options)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful,
                         zero_output_for_mask=zero_output_for_mask, backend=backend, **kwargs)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """torch state dicts saved before the weights moved into the cell keep them as
        "<prefix>kernel"; they load as "<prefix>cell.kernel"."""
        for name in _WEIGHTS:
            old, new = prefix + name, f"{prefix}cell.{name}"
            if old in state_dict and new not in state_dict:
                state_dict[new] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def get_config(self) -> dict:
        cell = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            del cell[key]
        config = {**Layer.get_config(self), **cell, "return_sequences": self.return_sequences,
                  "return_state": self.return_state, "go_backwards": self.go_backwards,
                  "stateful": self.stateful, "zero_output_for_mask": self.zero_output_for_mask,
                  "backend": self.backend}
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}"


def _read_from_cell(name: str) -> property:
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's `{name}`.")


for _name in _FROM_CELL:
    setattr(RNNLayer, _name, _read_from_cell(_name))


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

    cell_class = SimpleRNNCell

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", return_sequences=False,
                 return_state=False, go_backwards=False, **kwargs):
        super().__init__(units, activation, None, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, return_sequences, return_state, go_backwards, **kwargs)


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

    cell_class = LSTMCell
    _cell_options = ("unit_forget_bias",)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, return_sequences=False,
                 return_state=False, go_backwards=False, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, return_sequences, return_state,
                         go_backwards, unit_forget_bias=unit_forget_bias, **kwargs)

    @property
    def unit_forget_bias(self) -> bool:
        return self.cell.unit_forget_bias


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

    cell_class = GRUCell
    _cell_options = ("reset_after",)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", return_sequences=False, return_state=False,
                 go_backwards=False, reset_after=True, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, return_sequences, return_state,
                         go_backwards, reset_after=reset_after, **kwargs)

    @property
    def reset_after(self) -> bool:
        return self.cell.reset_after
