"""The native backend: rnnkit's compiled recurrent loop, behind two torch custom ops.

`rnnkit::recurrent_forward` runs a whole sequence; `rnnkit::recurrent_backward` its gradient.
The large matrix products (the input projection x W before the loop; dW, dU, dX after it) are
torch's; the C++ core (src/rnnkit/csrc) does only the time loop, where torch issues thousands
of small operations. Weights arrive in Keras layout; each gate block is padded to Hp units (a
multiple of the vector width) so that the kernel never needs masked loads.
"""

from __future__ import annotations

import importlib
import math
import os
import warnings
from typing import NamedTuple

import torch

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


class CellInfo(NamedTuple):
    """A cell as the compiled core lists it (csrc/seam.h): the code it takes, its gate blocks
    G, saved slots S and gate-gradient blocks D per step, and the activations it is built for
    (no recurrent ones: the cell has none)."""
    code: int
    gates: int
    saved: int
    grad_blocks: int
    activations: tuple[str, ...]
    recurrent_activations: tuple[str, ...]


def _tables(mod):
    """The compiled core's own table of cells, by spec name, and of activations, by name."""
    if mod is None:
        return {}, {}
    names = {code: name for name, code in mod.ACTIVATIONS.items()}
    cells = {c["name"]: CellInfo(c["code"], c["gates"], c["saved"], c["grad_blocks"],
                                 tuple(names[a] for a in c["activations"]),
                                 tuple(names[a] for a in c["recurrent_activations"]))
             for c in mod.CELLS}
    return cells, dict(mod.ACTIVATIONS)


# Loaded once, at import, so that torch.compile never traces an import.
_MODULE = _load()
CELLS, ACTIVATIONS = _tables(_MODULE)
USES_OPENMP = use_openmp(os.environ.get("RNNKIT_THREADS", "openmp") != "own")


def split() -> int:
    """The team split RNNKIT_SPLIT asks for (auto, rows or units; tests use it to force one)."""
    name = os.environ.get("RNNKIT_SPLIT", "auto") or "auto"
    if name not in SPLITS:
        raise ValueError(f"RNNKIT_SPLIT: expected one of {tuple(SPLITS)}, got {name!r}.")
    return SPLITS[name]


_BUFFER_DTYPES = (torch.float32, torch.int32)


def buf(t: torch.Tensor | None) -> tuple[int, int]:
    """(address, element count) of a checked, contiguous float32 or int32 CPU tensor, as the
    compiled core takes its buffers; (0, 0) for none."""
    if t is None or t.numel() == 0:
        return (0, 0)
    if not (t.is_cpu and t.dtype in _BUFFER_DTYPES and t.is_contiguous()):
        raise ValueError(f"rnnkit native: expected a contiguous float32 or int32 CPU buffer, got "
                         f"{t.dtype} on {t.device.type} (contiguous: {t.is_contiguous()}).")
    return (t.data_ptr(), t.numel())


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


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup CPU quota (a
    container that reports more CPUs than it grants)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cores, quota)) if quota else max(1, cores)


def _cgroup_quota() -> int | None:
    """ceil(quota / period) from cgroup v2's cpu.max or v1's cfs files, or None (no limit)."""
    def read(path):
        try:
            with open(path) as f:
                return f.read().split()
        except OSError:
            return None

    fields = read("/sys/fs/cgroup/cpu.max")
    if fields is None:
        v1 = "/sys/fs/cgroup/cpu/cpu.cfs_"
        quota, period = read(v1 + "quota_us"), read(v1 + "period_us")
        fields = quota + period if quota and period else None
    if not fields or fields[0] in ("max", "-1") or len(fields) < 2:
        return None
    try:
        return max(1, math.ceil(int(fields[0]) / int(fields[1])))
    except (ValueError, ZeroDivisionError):
        return None


CORES = usable_cores()


def kernel_refusal(call) -> str | None:
    """Why the compiled loop cannot compute exactly this call, or None when it can: it lists
    float32 CPU tensors, the cells and activations in the core's own table, right-padded masks,
    Keras's dropout masks, go_backwards, and nothing else (no options, no autocast)."""
    x = call.x
    if x.device.type != "cpu" or x.dtype != torch.float32:
        return f"{x.dtype} on {x.device.type} for {call.spec.name} (it runs float32 CPU tensors)"
    why = call.weights_refusal() or call.unknown_options()
    if why is not None:
        return why
    if call.autocast is not None:
        return f"torch.autocast ({call.autocast}); it computes float32"
    if x.shape[0] == 0:
        return "an empty batch"
    if CELLS:
        info = CELLS.get(call.spec.name)
        if info is None:
            return f"cell '{call.spec.name}' (it runs {', '.join(CELLS)})"
        if call.act not in info.activations or (
                info.recurrent_activations and call.ract not in info.recurrent_activations):
            return f"{call.spec.name} with {call.activations_text()} (it runs {_listing(info)})"
    # the two that read data last
    return call.right_padded_refusal() or call.input_dropout_refusal()


def _listing(info: CellInfo) -> str:
    text = f"activation {' or '.join(repr(a) for a in info.activations)}"
    if info.recurrent_activations:
        text += (" with recurrent_activation "
                 f"{' or '.join(repr(a) for a in info.recurrent_activations)}")
    return text


def refusal(call) -> str | None:
    if not available():
        return ("anything: this installation of rnnkit has no compiled core (reinstall with a "
                "C++17 compiler)")
    return kernel_refusal(call)
