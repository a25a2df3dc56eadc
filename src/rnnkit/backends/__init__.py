"""Which code runs a recurrent layer's time loop.

`backend="auto" | "reference" | "native" | "cudnn" | "triton"` on a layer, or the environment
variable `RNNKIT_BACKEND` (which decides whenever a layer says "auto"):
    reference  the time loop in torch ops (any device, dtype, mask, dropout; autograd)
    native     rnnkit's compiled CPU loop (float32)
    cudnn      torch's fused RNN operators, cuDNN on CUDA, where they compute the same function
    triton     rnnkit's persistent Triton kernel (CUDA; any mask, recurrent dropout, both GRUs)
`auto` takes a fast backend only where it computes exactly the layer's function and the
reference loop otherwise; `layer.last_backend` tells which one ran.
"""

from __future__ import annotations

import os
import torch

from .. import activations
from . import cudnn, loops, native, reference

BACKENDS = ("auto", "reference", "native", "cudnn", "triton")


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


def requested(layer) -> str:
    """The backend a layer asks for, with RNNKIT_BACKEND deciding for "auto"."""
    if layer.backend != "auto":
        return layer.backend
    return check(os.environ.get("RNNKIT_BACKEND", "auto") or "auto", "RNNKIT_BACKEND")


def autocast_dtype(x):
    """The lower-precision dtype of torch.autocast on x's device, or None when it is off."""
    device = x.device.type
    if torch.is_autocast_enabled(device):
        return torch.get_autocast_dtype(device)
    return None


def select(layer, x, mask=None, recurrent_masks=None):
    """(the backend that will run this call; for a right-padded mask that the native or cudnn
    backend runs, each row's length).

    auto: on the CPU the native loop (float32), on CUDA torch's cuDNN operators where they
    compute the layer's function, else the Triton kernel, else the reference loop. Under
    torch.autocast only the reference loop and the Triton kernel run (their products take the
    autocast dtype, their states stay float32). A named backend that cannot run the call is an
    error, never a silent change."""
    if getattr(layer, "state_probe", None) is not None:  # rnnkit.diagnostics is watching
        return "reference", None
    name = requested(layer)
    if name == "reference":
        return name, None
    if name == "auto":
        return _auto(layer, x, mask, recurrent_masks)
    refusal, lengths = _refusal(name, layer, x, mask, recurrent_masks)
    if refusal is not None:
        raise ValueError(f"{layer.name}: backend='{name}' does not run {refusal}; use "
                         "backend='auto' to run it on a backend that does.")
    return name, lengths


def _auto(layer, x, mask, recurrent_masks):
    order = {"cpu": ("native",), "cuda": ("cudnn", "triton")}.get(x.device.type, ())
    for name in order:
        if name == "native" and not native.available():
            if native.supports(layer, x) and autocast_dtype(x) is None:
                native.warn_missing_once()
            continue
        refusal, lengths = _refusal(name, layer, x, mask, recurrent_masks)
        if refusal is None:
            return name, lengths
    return "reference", None


def _refusal(name, layer, x, mask, recurrent_masks):
    """(why backend `name` cannot compute this call or None, the rows' lengths or None)."""
    cast = autocast_dtype(x)
    if name == "native":
        if not native.available():
            return ("anything: this installation of rnnkit has no compiled core (reinstall with a "
                    "C++17 compiler)"), None
        if cast is not None:
            return f"torch.autocast ({cast}); it computes float32", None
        if not native.supports(layer, x):
            return native.refusal(layer, x), None
        return _rows(mask)
    if name == "cudnn":
        if cast is not None:
            return f"torch.autocast ({cast}): cuDNN would keep the states in {cast}", None
        if not _weights_on(layer, x):
            return _device_refusal(layer, x), None
        refusal, lengths = _rows(mask)
        return refusal or cudnn.refusal(layer, x, recurrent_masks, lengths), lengths
    if not _weights_on(layer, x):
        return _device_refusal(layer, x), None
    return _triton_refusal(layer, x, cast), None


def _triton_refusal(layer, x, cast):
    from . import triton_rnn  # imports triton: only when asked for

    if not triton_rnn.available(x):
        return ("anything here: it needs the triton package and a CUDA tensor (or "
                "TRITON_INTERPRET=1 for CPU tensors)")
    if x.dtype != torch.float32 or cast not in (None, torch.bfloat16):
        return f"{x.dtype} inputs under autocast {cast}; it runs float32, or bfloat16 autocast"
    gate = layer.spec.name == "simple_rnn" or layer.recurrent_activation is activations.sigmoid
    if layer.activation is not activations.tanh or not gate:
        return (f"activation '{activations.serialize(layer.activation)}' and recurrent_activation "
                f"'{activations.serialize(layer.recurrent_activation)}' (only tanh and sigmoid)")
    return None


def _weights_on(layer, x) -> bool:
    return all(w.device == x.device and w.dtype == x.dtype for w in layer.weights)


def _device_refusal(layer, x) -> str:
    w = layer.weights[0]
    return (f"inputs ({x.dtype} on {x.device}) unlike the weights ({w.dtype} on {w.device})")


def _rows(mask):
    """(why a loop that runs each row to its length cannot take this mask or None, the rows'
    lengths or None)."""
    if mask is None:
        return None, None
    if torch.compiler.is_compiling():  # right-padded or not is a question about data
        return "a mask under torch.compile", None
    lengths = right_padded_lengths(mask)
    if lengths is None:
        return "a mask that is not right-padded (a padded step before a real one)", None
    return None, lengths


def run(backend: str, layer, x, states, mask=None, input_masks=None, recurrent_masks=None,
        lengths=None):
    """(output, final states) of `layer` on x from `states`, by the chosen backend, with an
    optional (batch, time) mask (and, for the native and cudnn backends, its rows' lengths from
    `select`) and Keras's dropout masks (see RNNLayer._dropout_masks)."""
    if backend == "native":
        return loops.run_native(layer, x, states, mask, input_masks, recurrent_masks, lengths)
    if backend == "cudnn":
        return loops.run_cudnn(layer, x, states, input_masks, lengths)
    if backend == "triton":
        return loops.run_triton(layer, x, states, mask, input_masks, recurrent_masks,
                                autocast_dtype(x))
    input_bias, recurrent_bias = layer._biases()
    return reference.run(spec=layer.spec, x=x, kernel=layer.kernel,
                         recurrent_kernel=layer.recurrent_kernel, input_bias=input_bias,
                         recurrent_bias=recurrent_bias, states=states,
                         activation=layer.activation, recurrent_activation=layer.recurrent_activation,
                         go_backwards=layer.go_backwards, return_sequences=layer.return_sequences,
                         options=layer._options(), mask=mask,
                         zero_output_for_mask=layer.zero_output_for_mask,
                         input_masks=input_masks, recurrent_masks=recurrent_masks,
                         state_probe=getattr(layer, "state_probe", None))
