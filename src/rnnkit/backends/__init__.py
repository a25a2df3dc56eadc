"""Which code runs a recurrent layer's time loop.

`backend="auto" | "reference" | "native"` on a layer, or the environment variable
`RNNKIT_BACKEND` (which decides whenever a layer says "auto"). `auto` picks the fastest path that
computes exactly the layer's function; until a compiled core is present that is `reference`.
"""

from __future__ import annotations

import os

from . import reference

BACKENDS = ("auto", "reference", "native")


def check(name: str, where: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"{where}: expected backend one of {BACKENDS}, got {name!r}.")
    return name


def native_available() -> bool:
    return False


def select(requested: str, where: str) -> str:
    """The backend that will run: 'reference' or 'native'."""
    name = requested
    if name == "auto":
        name = check(os.environ.get("RNNKIT_BACKEND", "auto") or "auto", "RNNKIT_BACKEND")
    if name == "native" and not native_available():
        raise RuntimeError(
            f"{where}: backend='native' was asked for, but this installation of rnnkit has no "
            "compiled core. Use backend='auto' or 'reference'."
        )
    return "reference" if name == "auto" else name


def run(backend: str, **kwargs):
    if backend == "reference":
        return reference.run(**kwargs)
    raise RuntimeError(f"backend {backend!r} is not available")  # pragma: no cover
