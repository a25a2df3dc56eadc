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
from . import cudnn
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


def run_native(call):
    x, kernel = _dropped_inputs(call.x, call.kernel, call.input_masks)
    masks = call.recurrent_masks
    weights = _Weights(kernel, call.recurrent_kernel, call.input_bias, call.recurrent_bias,
                       None if masks is None else torch.stack(masks))
    states = call.states
    act, ract = call.act, call.ract or "linear"

    def rows(x, go_backwards=False):
        training = _needs_grad(x, states, weights)
        full = call.return_sequences or training
        y, h_t, c_t, _ = sequence(
            x.contiguous(), *weights[:4], states[0], states[1] if len(states) > 1 else None,
            call.spec.name, act, ract, go_backwards, full, training, call.lengths,
            weights.recurrent_masks)
        final = (h_t, c_t) if len(states) > 1 else (h_t,)
        if call.return_sequences:
            return y.transpose(0, 1), final  # the kernel's sequences are time-major
        # the last output is the final state: returning h_T (not y[-1]) sends its gradient
        # straight to the kernel, with no (T, B, H) tensor of zeros around it (a copy when the
        # state is returned too, so that the two never share storage)
        return (h_t.clone() if call.return_state else h_t), final

    if call.mask is None:
        return rows(x, call.go_backwards)
    if call.go_backwards:  # the padding, met first, holds h0: the loop takes it as it comes
        return _padded_first(call, rows(x, True))
    return padded(call, x, call.lengths, rows)


def _padded_first(call, result):
    """Keras's outputs of a right-padded mask met backwards: each row's real steps are its last
    n_b, and the padded ones before them output zeros (no real step has run yet)."""
    y, final = result
    n = call.lengths.to(torch.long)[:, None]
    if not call.return_sequences:
        return torch.where(n > 0, y, 0.0), final
    steps = torch.arange(y.shape[1], device=y.device)
    return torch.where((steps >= y.shape[1] - n)[..., None], y, 0.0), final


def run_cudnn(call):
    x, kernel = _dropped_inputs(call.x, call.kernel, call.input_masks)
    lengths = call.lengths
    if lengths is None:
        y, final = cudnn.sequence(call, x.flip(1) if call.go_backwards else x, kernel)
        return (y if call.return_sequences else y[:, -1]), final
    return padded(call, x, lengths, lambda x: cudnn.sequence(call, x, kernel, lengths))


def padded(call, x, lengths, rows):
    """A right-padded mask on a loop that runs row b for its lengths[b] real steps: `rows(x)`
    gives (outputs (batch, time, units) when return_sequences, final states at each row's
    length). The outputs of the padded steps are placed as Keras defines them: the previous
    output (zeros with zero_output_for_mask, and before any real step). go_backwards reads each
    row's real steps reversed, so that the padding, which Keras then meets first, stays at the
    end for the loop; its outputs move back to Keras's positions (zeros first)."""
    batch, time = x.shape[:2]
    steps = torch.arange(time, device=x.device)
    n = lengths.to(torch.long)[:, None]
    if call.go_backwards:  # row b's step k is its real step n_b - 1 - k
        order = torch.where(steps < n, n - 1 - steps, steps)
        x = x.gather(1, order[..., None].expand(-1, -1, x.shape[-1]))
    y, final = rows(x)
    if not call.return_sequences:
        keep = n > 0
        if call.zero_output_for_mask and not call.go_backwards:
            keep = n == time
        return torch.where(keep, final[0], 0.0), final  # (a NaN kept out, not multiplied by 0)
    if call.go_backwards:  # Keras's step s is the loop's step s - (T - n_b)
        source, keep = (steps - time + n).clamp_min(0), steps >= time - n
    else:  # a padded step repeats the last real output
        source = torch.minimum(steps.expand(batch, -1), (n - 1).clamp_min(0))
        keep = (steps < n) | ((n > 0) & (not call.zero_output_for_mask))
    y = y.gather(1, source[..., None].expand(-1, -1, y.shape[-1]))
    return torch.where(keep[..., None], y, 0.0), final


def triton_refusal(call) -> str | None:
    """Why the Triton kernel cannot compute exactly this call, or None: it lists CUDA tensors
    (CPU ones in its interpreter) in float32, optionally under bfloat16 autocast, every cell
    with tanh and sigmoid, any mask, Keras's dropout masks, go_backwards; no options."""
    from . import triton_rnn  # imports triton: only when asked for

    if not triton_rnn.available(call.x):
        return ("anything here: it needs the triton package and a CUDA tensor (or "
                "TRITON_INTERPRET=1 for CPU tensors)")
    why = call.weights_refusal() or call.unknown_options()
    if why is not None:
        return why
    if call.x.dtype != torch.float32 or call.autocast not in (None, torch.bfloat16):
        return (f"{call.x.dtype} inputs under autocast {call.autocast}; it runs float32, or "
                "bfloat16 autocast")
    if call.spec.name not in triton_rnn.CELLS:
        return f"cell '{call.spec.name}'"
    if call.act != "tanh" or call.ract not in (None, "sigmoid"):
        return f"{call.activations_text()} (only tanh and sigmoid)"
    return None


def run_triton(call):
    """The Triton kernel runs the recurrence on x W + b from torch's product (in the autocast
    dtype, whose products the kernel then also takes, bfloat16 only)."""
    from . import triton_rnn  # imports triton: only when asked for

    xw = gate_product(call.x, call.kernel, None if call.input_masks is None else
                      [m.unsqueeze(1) for m in call.input_masks])
    if call.input_bias is not None:
        xw = xw + call.input_bias
    mask = call.mask
    if call.go_backwards:
        xw, mask = xw.flip(1), None if mask is None else mask.flip(1)
    with torch.autocast(call.x.device.type, enabled=False):
        hs, final = triton_rnn.recurrence(
            call.spec.name, xw.float().contiguous(), call.states, call.recurrent_kernel,
            call.recurrent_bias, recurrent_masks=call.recurrent_masks, mask=mask,
            bf16=call.autocast == torch.bfloat16)
    return keras_outputs(call, hs, mask), final


def keras_outputs(call, hs, mask):
    """Keras's outputs from every step's state: a masked step outputs the previous output, which
    is the held state once a real step has run, and zeros before that or with
    zero_output_for_mask."""
    if mask is not None:
        keep = mask if call.zero_output_for_mask else mask | (mask.cumsum(1) > 0)
        hs = torch.where(keep[..., None], hs, 0.0)
    return hs if call.return_sequences else hs[:, -1]
