"""The native backend: rnnkit's compiled recurrent loop, behind two torch custom ops.

`rnnkit::recurrent_forward` runs a whole sequence; `rnnkit::recurrent_backward` its gradient.
The large matrix products (the input projection x W before the loop; dW, dU, dX after it) are
torch's; the C++ core (src/rnnkit/csrc) does only the time loop, where torch issues thousands
of small operations. Weights arrive in Keras layout; each gate block is padded to Hp units (a
multiple of the vector width) so that the kernel never needs masked loads.
"""

from __future__ import annotations

import importlib
import os
import warnings
import torch

from .. import activations

# Cell codes and per-cell sizes shared with csrc/problem.h and csrc/cells/*.h.
SIMPLE_RNN, LSTM, GRU_AFTER, GRU_BEFORE = 0, 1, 2, 3
GATES = {SIMPLE_RNN: 1, LSTM: 4, GRU_AFTER: 3, GRU_BEFORE: 3}
SAVED = {SIMPLE_RNN: 0, LSTM: 5, GRU_AFTER: 4, GRU_BEFORE: 4}
GRAD_BLOCKS = {SIMPLE_RNN: 1, LSTM: 4, GRU_AFTER: 4, GRU_BEFORE: 3}
ACTIVATIONS = {activations.linear: 0, activations.tanh: 1, activations.sigmoid: 2,
               activations.hard_sigmoid: 3, activations.relu: 4}
ISAS = ("avx512", "avx2", "portable")
# How a thread team divides a sequence (csrc/loop.h): by batch rows, by hidden units, or auto.
SPLITS = {"auto": 0, "rows": 1, "units": 2}


def _load():
    """The compiled module for the best instruction set this CPU has (RNNKIT_ISA forces one),
    or None when rnnkit was installed without its compiled core."""
    try:
        probe = importlib.import_module("rnnkit._native_portable")
    except ImportError:
        return None
    forced = os.environ.get("RNNKIT_ISA")
    if forced and forced not in ISAS:
        raise ValueError(f"RNNKIT_ISA: expected one of {ISAS}, got {forced!r}.")
    for isa in ISAS:
        if (forced is None or isa == forced) and probe.cpu_supports(isa):
            return importlib.import_module(f"rnnkit._native_{isa}")
    raise RuntimeError(f"RNNKIT_ISA={forced}: this CPU does not support {forced}.")


def module():
    return _MODULE


def _openmp_functions():
    """Addresses of GOMP_parallel, omp_get_thread_num and omp_get_num_threads in the OpenMP
    runtime already loaded by torch (libgomp, or Intel's libiomp5, which exports the same
    ABI), or None."""
    import ctypes
    import re

    try:
        with open("/proc/self/maps") as maps:
            paths = sorted(set(re.findall(r"(/\S*lib(?:gomp|iomp5)\S*\.so\S*)", maps.read())))
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            names = ("GOMP_parallel", "omp_get_thread_num", "omp_get_num_threads")
            return [ctypes.cast(getattr(lib, n), ctypes.c_void_p).value for n in names]
        except (OSError, AttributeError):
            continue
    return None


def use_openmp(enabled: bool = True) -> bool:
    """Run the native loop on torch's OpenMP threads (the default where the runtime is found)
    or, with enabled=False or RNNKIT_THREADS=own, on threads of rnnkit's own. Returns whether
    torch's OpenMP runtime is in use."""
    mod = module()
    if mod is None:
        return False
    functions = _openmp_functions() if enabled else None
    mod.set_openmp(*(functions or (0, 0, 0)))
    return functions is not None


# Loaded once, at import, so that torch.compile never traces an import.
_MODULE = _load()
USES_OPENMP = use_openmp(os.environ.get("RNNKIT_THREADS", "openmp") != "own")


def split() -> int:
    """The team split RNNKIT_SPLIT asks for (auto, rows or units; tests use it to force one)."""
    name = os.environ.get("RNNKIT_SPLIT", "auto") or "auto"
    if name not in SPLITS:
        raise ValueError(f"RNNKIT_SPLIT: expected one of {tuple(SPLITS)}, got {name!r}.")
    return SPLITS[name]


def available() -> bool:
    return module() is not None


_warned = False


def warn_missing_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn("rnnkit's compiled core is not installed; recurrent layers run on the slower "
                      "reference backend. Reinstall rnnkit with a C++ compiler available to build it.",
                      RuntimeWarning, stacklevel=3)


def cell_code(layer) -> int | None:
    """The kernel's cell code for a layer, or None when its configuration is not supported."""
    act, ract = layer.activation, layer.recurrent_activation
    name = layer.spec.name
    if name == "simple_rnn":
        return SIMPLE_RNN if act in ACTIVATIONS else None
    if act is not activations.tanh or ract not in (activations.sigmoid, activations.hard_sigmoid):
        return None
    if name == "lstm":
        return LSTM
    return GRU_AFTER if layer.reset_after else GRU_BEFORE


def refusal(layer, x) -> str:
    """What `supports` finds missing, for an error message."""
    return (f"{x.dtype} on {x.device.type} with activation '{activations.serialize(layer.activation)}'"
            f" and recurrent_activation '{activations.serialize(layer.recurrent_activation)}' (it "
            "runs float32 CPU tensors with activation 'tanh' (SimpleRNN also relu, sigmoid, "
            "linear) and recurrent_activation 'sigmoid' or 'hard_sigmoid')")


def supports(layer, x) -> bool:
    return (x.device.type == "cpu" and x.dtype == torch.float32 and cell_code(layer) is not None
            and all(w.dtype == torch.float32 and w.device.type == "cpu" for w in layer.weights))
