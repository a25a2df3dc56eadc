"""The math of each recurrent cell, written once.

A cell's `step` takes the input projection of one time step, `xw = x_t W + b` (the bias that the
input side carries), the previous states, the recurrent kernel `U` and, for GRU with
`reset_after=True` (spec "gru"; "gru_reset_before" is the other form), the recurrent bias; it returns the new states (the output is the first state).
Weights are in Keras layout: `W (I, G·H)`, `U (H, G·H)`, gate blocks side by side.
"""

from ._spec import CellSpec, get, names
from .gru import GRU_RESET_BEFORE_SPEC, GRU_SPEC
from .lstm import LSTM_SPEC
from .simple_rnn import SIMPLE_RNN_SPEC

__all__ = ["CellSpec", "get", "names", "SIMPLE_RNN_SPEC", "LSTM_SPEC", "GRU_SPEC",
           "GRU_RESET_BEFORE_SPEC"]
