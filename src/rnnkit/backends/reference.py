"""The reference backend: the time loop in torch ops, differentiated by autograd.

Works for any device and floating dtype, any mask and Keras's variational dropout. The input
projection x W + b is one matrix product over all time steps; the loop then does only the
recurrent part, one `cell.step` per time step.
"""

from __future__ import annotations

import inspect

import torch

from ..cells._spec import gate_product


def refusal(call) -> str | None:
    """The reference loop runs anything its cell's step takes (any device, dtype, mask)."""
    return call.unknown_options(inspect.signature(call.spec.step).parameters)


def run(call):
    """(output, final states) of a RecurrentCall."""
    return loop(spec=call.spec, x=call.x, kernel=call.kernel,
                recurrent_kernel=call.recurrent_kernel, input_bias=call.input_bias,
                recurrent_bias=call.recurrent_bias, states=call.states, activation=call.activation,
                recurrent_activation=call.recurrent_activation, go_backwards=call.go_backwards,
                return_sequences=call.return_sequences, options=call.options, mask=call.mask,
                zero_output_for_mask=call.zero_output_for_mask, input_masks=call.input_masks,
                recurrent_masks=call.recurrent_masks, state_probe=call.state_probe)


def loop(*, spec, x, kernel, recurrent_kernel, input_bias, recurrent_bias, states, activation,
        recurrent_activation, go_backwards=False, return_sequences=False, options=None,
        mask=None, zero_output_for_mask=False, input_masks=None, recurrent_masks=None,
        state_probe=None):
    """Run `spec.step` over x (batch, time, features).

    Returns (output, final_states): output is (batch, time, units) when return_sequences, else
    (batch, units); in go_backwards mode the sequence (and its mask) is processed, and returned,
    reversed (Keras). With a (batch, time) boolean `mask`, a masked step keeps the states and
    outputs the previous step's output (zeros before the first real step, or always with
    zero_output_for_mask). input_masks / recurrent_masks: Keras's dropout masks, one per gate
    block or one for all, (batch, features) / (batch, units), the same at every step.
    """
    options = options or {}
    xw = gate_product(x, kernel, None if input_masks is None else
                      [m.unsqueeze(1) for m in input_masks])
    if input_bias is not None:
        xw = xw + input_bias
    # under torch.autocast the products come in its dtype; the states stay in x's (float32)
    xw = xw.to(x.dtype)
    if go_backwards:
        xw = xw.flip(1)
        mask = None if mask is None else mask.flip(1)
    outputs = []
    output = None
    for t in range(xw.shape[1]):
        new = spec.step(xw[:, t], states, recurrent_kernel, recurrent_bias, activation,
                        recurrent_activation, masks=recurrent_masks, **options)
        if state_probe is not None:
            new = (state_probe(t, new[0]), *new[1:])
        if mask is None:
            states, output = new, new[0]
        else:
            keep = mask[:, t, None]
            states = tuple(torch.where(keep, n, s) for n, s in zip(new, states))
            previous = (torch.zeros_like(new[0]) if zero_output_for_mask or output is None
                        else output)
            output = torch.where(keep, new[0], previous)
        if return_sequences:
            outputs.append(output)
    output = torch.stack(outputs, dim=1) if return_sequences else output
    return output, tuple(states)
