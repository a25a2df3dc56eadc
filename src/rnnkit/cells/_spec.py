"""What the layers and backends need to know about a cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class CellSpec:
    """A cell: its gate count G, its state names (output first) and its step function.

    step(xw, states, U, b_h, activation, recurrent_activation, **options) -> new states
    """

    name: str
    gates: int
    state_names: tuple[str, ...]
    step: Callable


_REGISTRY: dict[str, CellSpec] = {}


def register(spec: CellSpec) -> CellSpec:
    _REGISTRY[spec.name] = spec
    return spec


def get(name: str) -> CellSpec:
    return _REGISTRY[name]
