"""SimpleRNN (Elman) cell.

    h_t = φ(x_t W + b + h_{t-1} U)

φ is `activation` (tanh by default). The state h_t depends on h_{t-1} only; the output is h_t.
"""

from ._spec import CellSpec, gate_product, register


def step(xw, states, U, b_h, activation, recurrent_activation=None, masks=None):
    (h,) = states
    h = activation(xw + gate_product(h, U, masks))
    return (h,)


SIMPLE_RNN_SPEC = register(CellSpec("simple_rnn", "simple_rnn", 1, ("h",), step))
