"""Which code runs a recurrent layer's time loop.

`backend="auto" | "reference" | "native"` on a layer, or the environment variable
`RNNKIT_BACKEND` (which decides whenever a layer says "auto"). `auto` takes the compiled native
loop whenever it computes exactly the layer's function (CPU, float32, a supported configuration)
and the reference loop otherwise; `layer.last_backend` tells which one ran.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import torch

from ..activations import serialize
from . import native, reference
from .native_ops import sequence

BACKENDS = ("auto", "reference", "native")


def check(name: str, where: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"{where}: expected backend one of {BACKENDS}, got {name!r}.")
    return name


def right_padded_lengths(mask):
    """Each row's number of real steps, (batch,) int32, when a (batch, time) mask is
    right-padded (no real step after a padded one); else None."""
    lengths = mask.sum(1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if bool((mask == (steps < lengths[:, None])).all()):
        return lengths.to(torch.int32)
    return None


def _native_plan(mask):
    """(why the native loop cannot run this mask or None, the rows' lengths or None)."""
    if mask is None:
        return None, None
    if torch.compiler.is_compiling():  # right-padded or not is a question about data
        return "a mask under torch.compile", None
    lengths = right_padded_lengths(mask)
    if lengths is None:
        return "a mask that is not right-padded (a padded step before a real one)", None
    return None, lengths


def select(layer, x, mask=None):
    """(the backend that will run this call, 'reference' or 'native'; for a mask the native
    loop runs, each row's length)."""
    if getattr(layer, "state_probe", None) is not None:  # rnnkit.diagnostics is watching
        return "reference", None
    name = layer.backend
    if name == "auto":
        name = check(os.environ.get("RNNKIT_BACKEND", "auto") or "auto", "RNNKIT_BACKEND")
    if name == "reference":
        return name, None
    if not native.available():
        if name == "native":
            raise RuntimeError(f"{layer.name}: backend='native' was asked for, but this "
                               "installation of rnnkit has no compiled core. Use backend='auto' "
                               "or 'reference'.")
        if native.supports(layer, x):
            native.warn_missing_once()
        return "reference", None
    supported = native.supports(layer, x)
    # (only then is the mask looked at: that reads data, a device sync elsewhere than the CPU)
    refusal, lengths = _native_plan(mask) if supported else (None, None)
    if supported and refusal is None:
        return "native", lengths
    if name == "native" and refusal is not None:
        raise ValueError(f"{layer.name}: backend='native' does not run {refusal} yet; use "
                         "backend='auto' to run it on the reference loop.")
    if name == "native":
        raise ValueError(
            f"{layer.name}: backend='native' runs float32 CPU tensors with activation 'tanh' "
            "(SimpleRNN also relu, sigmoid, linear) and recurrent_activation 'sigmoid' or "
            f"'hard_sigmoid'; got {x.dtype} on {x.device.type} with activation "
            f"'{serialize(layer.activation)}' and recurrent_activation "
            f"'{serialize(layer.recurrent_activation)}'. Use backend='auto' to fall back to the "
            "reference loop.")
    return "reference", None


def run(backend: str, layer, x, states, mask=None, input_masks=None, recurrent_masks=None,
        lengths=None):
    """(output, final states) of `layer` on x from `states`, by the chosen backend, with an
    optional (batch, time) mask (and, natively, its rows' lengths from `select`) and Keras's
    dropout masks (see RNNLayer._dropout_masks)."""
    input_bias, recurrent_bias = layer._biases()
    if backend == "native":
        kernel = layer.kernel
        if input_masks is not None:
            x, kernel = _dropped_inputs(x, kernel, input_masks)
        weights = _Weights(kernel, layer.recurrent_kernel, input_bias, recurrent_bias,
                           None if recurrent_masks is None else torch.stack(recurrent_masks))
        if mask is not None:
            return _run_native_masked(layer, x, states, weights, lengths)
        return _run_native(layer, x, states, weights)
    return reference.run(spec=layer.spec, x=x, kernel=layer.kernel,
                         recurrent_kernel=layer.recurrent_kernel, input_bias=input_bias,
                         recurrent_bias=recurrent_bias, states=states,
                         activation=layer.activation, recurrent_activation=layer.recurrent_activation,
                         go_backwards=layer.go_backwards, return_sequences=layer.return_sequences,
                         options=layer._options(), mask=mask,
                         zero_output_for_mask=layer.zero_output_for_mask,
                         input_masks=input_masks, recurrent_masks=recurrent_masks,
                         state_probe=getattr(layer, "state_probe", None))


class _Weights(NamedTuple):
    """What the native loop multiplies by: kernel, recurrent kernel, biases, and the recurrent
    dropout masks (G, batch, units) or None."""
    kernel: torch.Tensor
    recurrent_kernel: torch.Tensor
    input_bias: torch.Tensor | None
    recurrent_bias: torch.Tensor | None
    recurrent_masks: torch.Tensor | None


def _dropped_inputs(x, kernel, input_masks):
    """Keras's input dropout for the native loop: one mask scales x; one mask per gate becomes
    x' = [x ⊙ m_1, …, x ⊙ m_G] and a block-diagonal kernel diag(W_1, …, W_G), so that
    x' W' = [(x ⊙ m_g) W_g]_g (the loop's input product grows G times; it is the small one)."""
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


def _run_native(layer, x, states, weights):
    training = _needs_grad(x, states, weights)
    full = layer.return_sequences or training
    y, h_t, c_t, _ = _sequence(layer, x, states, weights, layer.go_backwards, full, training)
    if layer.return_sequences:
        y = y.transpose(0, 1)  # the kernel's sequences are time-major
    elif full:
        # the last output is the final state: returning h_T (not y[-1]) sends its gradient
        # straight to the kernel, with no (T, B, H) tensor of zeros around it (a copy when the
        # state is returned too, so that the two never share storage)
        y = h_t.clone() if layer.return_state else h_t
    return y, (h_t, c_t) if len(states) > 1 else (h_t,)


def _run_native_masked(layer, x, states, weights, lengths):
    """A right-padded mask on the native loop: each row runs its `lengths` real steps (the
    kernel takes the final states there), and the outputs of the padded steps are gathered as
    Keras defines them: the previous output (zeros with zero_output_for_mask, and before any
    real step). go_backwards reads each row's real steps reversed, so that the padding, which
    Keras then meets first, stays at the end for the kernel; its outputs move back to Keras's
    positions (zeros first)."""
    batch, time = x.shape[:2]
    steps = torch.arange(time, device=x.device)
    n = lengths.to(torch.long)[:, None]
    if layer.go_backwards:  # row b's step k is its real step n_b - 1 - k
        order = torch.where(steps < n, n - 1 - steps, steps)
        x = x.gather(1, order[..., None].expand(-1, -1, x.shape[-1]))
    training = _needs_grad(x, states, weights)
    full = layer.return_sequences or training
    y, h_t, c_t, _ = _sequence(layer, x, states, weights, False, full, training, lengths)
    final = (h_t, c_t) if len(states) > 1 else (h_t,)
    if not layer.return_sequences:
        keep = n > 0
        if layer.zero_output_for_mask and not layer.go_backwards:
            keep = n == time
        return h_t * keep.to(h_t.dtype), final
    y = y.transpose(0, 1)
    if layer.go_backwards:  # Keras's step s is the kernel's step s - (T - n_b)
        source, keep = (steps - time + n).clamp_min(0), steps >= time - n
    else:  # a padded step repeats the last real output
        source = torch.minimum(steps.expand(batch, -1), (n - 1).clamp_min(0))
        keep = (steps < n) | ((n > 0) & (not layer.zero_output_for_mask))
    y = y.gather(1, source[..., None].expand(-1, -1, y.shape[-1]))
    return y * keep[..., None].to(y.dtype), final
