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

from . import cudnn, loops, native, reference
from .call import RecurrentCall

BACKENDS = ("auto", "reference", "native", "cudnn", "triton")
__all__ = ["BACKENDS", "RecurrentCall", "check", "requested", "select", "run"]


def check(name: str, where: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"{where}: expected backend one of {BACKENDS}, got {name!r}.")
    return name


def requested(layer) -> str:
    """The backend a layer asks for, with RNNKIT_BACKEND deciding for "auto"."""
    if layer.backend != "auto":
        return layer.backend
    return check(os.environ.get("RNNKIT_BACKEND", "auto") or "auto", "RNNKIT_BACKEND")


def select(call: RecurrentCall, name: str) -> str:
    """The backend that will run `call`, asked for by `name`.

    auto: on the CPU the native loop (float32), on CUDA torch's cuDNN operators where they
    compute the layer's function, else the Triton kernel, else the reference loop. Under
    torch.autocast only the reference loop and the Triton kernel run (their products take the
    autocast dtype, their states stay float32). A named backend that cannot run the call is an
    error, never a silent change."""
    if call.state_probe is not None:  # rnnkit.diagnostics is watching every step
        return "reference"
    if name == "reference":
        return name
    if name == "auto":
        return _auto(call)
    why = refusal(name, call)
    if why is not None:
        raise ValueError(f"{call.layer}: backend='{name}' does not run {why}; use "
                         "backend='auto' to run it on a backend that does.")
    return name


def _auto(call):
    order = {"cpu": ("native",), "cuda": ("cudnn", "triton")}.get(call.x.device.type, ())
    for name in order:
        if name == "native" and not native.available():
            if native.kernel_refusal(call) is None:
                native.warn_missing_once()
            continue
        if refusal(name, call) is None:
            return name
    return "reference"


# Each backend: (why it cannot compute a call or None, how it runs one).
_BACKENDS = {"native": (native.refusal, loops.run_native),
             "cudnn": (cudnn.refusal, loops.run_cudnn),
             "triton": (loops.triton_refusal, loops.run_triton),
             "reference": (reference.refusal, reference.run)}


def refusal(name: str, call: RecurrentCall) -> str | None:
    """Why backend `name` cannot compute exactly this call, or None when it can."""
    return _BACKENDS[name][0](call)


def run(name: str, call: RecurrentCall):
    """(output, final states) of the call, by the backend `select` chose."""
    return _BACKENDS[name][1](call)
