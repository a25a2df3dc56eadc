"""LSTM cell, Keras gate order i, f, c, o.

    [z_i, z_f, z_c, z_o] = x_t W + b + h_{t-1} U
    i = σ(z_i)    f = σ(z_f)    o = σ(z_o)
    c_t = f ⊙ c_{t-1} + i ⊙ φ(z_c)
    h_t = o ⊙ φ(c_t)

σ is `recurrent_activation` (sigmoid by default), φ is `activation` (tanh). The cell state c_t is a
value of the forward pass; the gradient through it is scaled by f at every step, which is why an
open forget gate lets gradients reach far back.
"""

from ._spec import CellSpec, gate_product, register


def step(xw, states, U, b_h, activation, recurrent_activation, masks=None):
    h, c = states
    z_i, z_f, z_c, z_o = (xw + gate_product(h, U, masks)).chunk(4, dim=-1)
    i = recurrent_activation(z_i)
    f = recurrent_activation(z_f)
    o = recurrent_activation(z_o)
    c = f * c + i * activation(z_c)
    h = o * activation(c)
    return h, c


LSTM_SPEC = register(CellSpec("lstm", "lstm", 4, ("h", "c"), step))
