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

Keras's recurrent dropout (one mask m_g per gate) multiplies h_{t-1} in each gate's product
only; the carry z ⊙ h_{t-1} keeps the unmasked state.
"""

from ._spec import CellSpec, gate_product, register


def _gates(xw, hu, recurrent_activation):
    """z and r from the input and recurrent parts of their pre-activations, and the rest."""
    x_z, x_r, x_h = xw.chunk(3, dim=-1)
    h_z, h_r, *h_h = hu.split(xw.shape[-1] // 3, dim=-1)
    return recurrent_activation(x_z + h_z), recurrent_activation(x_r + h_r), x_h, h_h


def step_reset_after(xw, states, U, b_h, activation, recurrent_activation, masks=None):
    (h,) = states
    hu = gate_product(h, U, masks)
    hu = hu if b_h is None else hu + b_h
    z, r, x_h, (h_h,) = _gates(xw, hu, recurrent_activation)
    h_hat = activation(x_h + r * h_h)
    return (z * h + (1.0 - z) * h_hat,)


def step_reset_before(xw, states, U, b_h, activation, recurrent_activation, masks=None):
    (h,) = states
    units = h.shape[-1]
    hu = gate_product(h, U[:, : 2 * units], masks and masks[:2])
    z, r, x_h, _ = _gates(xw, hu, recurrent_activation)
    h_c = h if masks is None else h * masks[-1]  # one mask for all gates, or the candidate's
    h_hat = activation(x_h + (r * h_c) @ U[:, 2 * units :])
    return (z * h + (1.0 - z) * h_hat,)


GRU_SPEC = register(CellSpec("gru", "gru", 3, ("h",), step_reset_after, recurrent_bias=True))
GRU_RESET_BEFORE_SPEC = register(CellSpec("gru_reset_before", "gru", 3, ("h",), step_reset_before))
