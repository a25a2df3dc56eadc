"""GRU cell, Keras gate order z, r, h, in both of Keras's forms.

    z = σ(x_t W_z + b_z + h_{t-1} U_z)            (update gate)
    r = σ(x_t W_r + b_r + h_{t-1} U_r)            (reset gate)
    reset_after=True  (Keras default, cuDNN, torch.nn.GRU):
        ĥ = φ(x_t W_h + b^x_h + r ⊙ (h_{t-1} U_h + b^h_h))
    reset_after=False (the original paper):
        ĥ = φ(x_t W_h + b_h + (r ⊙ h_{t-1}) U_h)
    h_t = z ⊙ h_{t-1} + (1 − z) ⊙ ĥ

With reset_after=True the bias has two rows, input (b^x) and recurrent (b^h); the recurrent row
sits inside the reset gate's product. torch.nn.GRU computes the same function with its gates in
order r, z, n. With reset_after=False the candidate needs r before its matrix product, so each
step takes two dependent products.
"""

from ._spec import CellSpec, register


def step(xw, states, U, b_h, activation, recurrent_activation, reset_after=True):
    (h,) = states
    x_z, x_r, x_h = xw.chunk(3, dim=-1)
    if reset_after:
        hu = h @ U if b_h is None else h @ U + b_h
        h_z, h_r, h_h = hu.chunk(3, dim=-1)
        z = recurrent_activation(x_z + h_z)
        r = recurrent_activation(x_r + h_r)
        h_hat = activation(x_h + r * h_h)
    else:
        units = h.shape[-1]
        h_z, h_r = (h @ U[:, : 2 * units]).chunk(2, dim=-1)
        z = recurrent_activation(x_z + h_z)
        r = recurrent_activation(x_r + h_r)
        h_hat = activation(x_h + (r * h) @ U[:, 2 * units :])
    h = z * h + (1.0 - z) * h_hat
    return (h,)


GRU_SPEC = register(CellSpec("gru", 3, ("h",), step))
