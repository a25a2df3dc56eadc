"""A layer's call on the fast backends: native, cudnn and triton.

Each takes the layer's Keras-layout weights and Keras's dropout masks and returns what the
reference loop returns, (output, final states). The native and cudnn loops run a right-padded
mask by stopping each row at its length (`padded` then places Keras's outputs at the padded
steps); the Triton kernel takes any mask and returns every step's state (`keras_outputs`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..cells._spec import gate_product
from . import cudnn, native
from .native_ops import sequence


class _Weights(NamedTuple):
    """What the native loop multiplies by: kernel, recurrent kernel, biases, and the recurrent
    dropout masks (G, batch, units) or None."""
    kernel: torch.Tensor
    recurrent_kernel: torch.Tensor
    input_bias: torch.Tensor | None
    recurrent_bias: torch.Tensor | None
    recurrent_masks: torch.Tensor | None


def _dropped_inputs(x, kernel, input_masks):
    """Keras's input dropout for a loop that multiplies x by the kernel itself: one mask scales
    x; one mask per gate becomes x' = [x ⊙ m_1, …, x ⊙ m_G] and a block-diagonal kernel
    diag(W_1, …, W_G), so that x' W' = [(x ⊙ m_g) W_g]_g (the input product grows G times; it
    is the small one)."""
    if input_masks is None:
        return x, kernel
    if len(input_masks) == 1:
        return x * input_masks[0].unsqueeze(1), kernel
    x = torch.cat([x * m.unsqueeze(1) for m in input_masks], dim=-1)
    return x, torch.block_diag(*kernel.chunk(len(input_masks), dim=-1))


def _needs_grad(x, states, weights) -> bool:
    return torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, *weights[:4], *states))


def _sequence(layer, x, states, weights, go_backwards, full, training, lengths=None):
    return sequence(
        x.contiguous(), *weights[:4], states[0], states[1] if len(states) > 1 else None,
        native.cell_code(layer), native.ACTIVATIONS[layer.activation],
        native.ACTIVATIONS.get(layer.recurrent_activation, 0), go_backwards, full, training,
        lengths, weights.recurrent_masks)


def run_native(layer, x, states, mask, input_masks, recurrent_masks, lengths):
    input_bias, recurrent_bias = layer._biases()
    x, kernel = _dropped_inputs(x, layer.kernel, input_masks)
    weights = _Weights(kernel, layer.recurrent_kernel, input_bias, recurrent_bias,
                       None if recurrent_masks is None else torch.stack(recurrent_masks))

    def rows(x, go_backwards=False):
        training = _needs_grad(x, states, weights)
        full = layer.return_sequences or training
        y, h_t, c_t, _ = _sequence(layer, x, states, weights, go_backwards, full, training,
                                   lengths)
        final = (h_t, c_t) if len(states) > 1 else (h_t,)
        if layer.return_sequences:
            return y.transpose(0, 1), final  # the kernel's sequences are time-major
        # the last output is the final state: returning h_T (not y[-1]) sends its gradient
        # straight to the kernel, with no (T, B, H) tensor of zeros around it (a copy when the
        # state is returned too, so that the two never share storage)
        return (h_t.clone() if layer.return_state else h_t), final

    if mask is None:
        return rows(x, layer.go_backwards)
    return padded(layer, x, lengths, rows)


def run_cudnn(layer, x, states, input_masks, lengths):
    x, kernel = _dropped_inputs(x, layer.kernel, input_masks)
    if lengths is None:
        y, final = cudnn.sequence(layer, x.flip(1) if layer.go_backwards else x, states, kernel)
        return (y if layer.return_sequences else y[:, -1]), final
    return padded(layer, x, lengths, lambda x: cudnn.sequence(layer, x, states, kernel, lengths))


def padded(layer, x, lengths, rows):
    """A right-padded mask on a loop that runs row b for its lengths[b] real steps: `rows(x)`
    gives (outputs (batch, time, units) when return_sequences, final states at each row's
    length). The outputs of the padded steps are placed as Keras defines them: the previous
    output (zeros with zero_output_for_mask, and before any real step). go_backwards reads each
    row's real steps reversed, so that the padding, which Keras then meets first, stays at the
    end for the loop; its outputs move back to Keras's positions (zeros first)."""
    batch, time = x.shape[:2]
    steps = torch.arange(time, device=x.device)
    n = lengths.to(torch.long)[:, None]
    if layer.go_backwards:  # row b's step k is its real step n_b - 1 - k
        order = torch.where(steps < n, n - 1 - steps, steps)
        x = x.gather(1, order[..., None].expand(-1, -1, x.shape[-1]))
    y, final = rows(x)
    if not layer.return_sequences:
        keep = n > 0
        if layer.zero_output_for_mask and not layer.go_backwards:
            keep = n == time
        return final[0] * keep.to(final[0].dtype), final
    if layer.go_backwards:  # Keras's step s is the loop's step s - (T - n_b)
        source, keep = (steps - time + n).clamp_min(0), steps >= time - n
    else:  # a padded step repeats the last real output
        source = torch.minimum(steps.expand(batch, -1), (n - 1).clamp_min(0))
        keep = (steps < n) | ((n > 0) & (not layer.zero_output_for_mask))
    y = y.gather(1, source[..., None].expand(-1, -1, y.shape[-1]))
    return y * keep[..., None].to(y.dtype), final


def run_triton(layer, x, states, mask, input_masks, recurrent_masks, cast=None):
    """The Triton kernel runs the recurrence on x W + b from torch's product (in the autocast
    dtype `cast`, whose products the kernel then also takes, bfloat16 only)."""
    from . import triton_rnn  # imports triton: only when asked for

    input_bias, recurrent_bias = layer._biases()
    xw = gate_product(x, layer.kernel, None if input_masks is None else
                      [m.unsqueeze(1) for m in input_masks])
    if input_bias is not None:
        xw = xw + input_bias
    if layer.go_backwards:
        xw, mask = xw.flip(1), None if mask is None else mask.flip(1)
    with torch.autocast(x.device.type, enabled=False):
        hs, final = triton_rnn.recurrence(
            layer.spec.name, xw.float().contiguous(), states, layer.recurrent_kernel,
            recurrent_bias, reset_after=getattr(layer, "reset_after", True),
            recurrent_masks=recurrent_masks, mask=mask, bf16=cast == torch.bfloat16)
    return keras_outputs(layer, hs, mask), final


def keras_outputs(layer, hs, mask):
    """Keras's outputs from every step's state: a masked step outputs the previous output, which
    is the held state once a real step has run, and zeros before that or with
    zero_output_for_mask."""
    if mask is not None:
        keep = mask if layer.zero_output_for_mask else mask | (mask.cumsum(1) > 0)
        hs = hs * keep[..., None].to(hs.dtype)
    return hs if layer.return_sequences else hs[:, -1]
