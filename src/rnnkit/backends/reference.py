"""The reference backend: the time loop in torch ops, differentiated by autograd.

Works for any device and floating dtype. The input projection x W + b is one matrix product over all
time steps; the loop then does only the recurrent part, one `cell.step` per time step.
"""

from __future__ import annotations

import torch


def run(*, spec, x, kernel, recurrent_kernel, input_bias, recurrent_bias, states, activation,
        recurrent_activation, go_backwards=False, return_sequences=False, options=None):
    """Run `spec.step` over x (batch, time, features).

    Returns (output, final_states): output is (batch, time, units) when return_sequences, else
    (batch, units); in go_backwards mode the sequence is processed, and returned, reversed (Keras).
    """
    options = options or {}
    xw = x @ kernel
    if input_bias is not None:
        xw = xw + input_bias
    if go_backwards:
        xw = xw.flip(1)
    outputs = []
    for t in range(xw.shape[1]):
        states = spec.step(xw[:, t], states, recurrent_kernel, recurrent_bias, activation,
                           recurrent_activation, **options)
        if return_sequences:
            outputs.append(states[0])
    output = torch.stack(outputs, dim=1) if return_sequences else states[0]
    return output, tuple(states)
