"""What the layers and backends need to know about a cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class CellSpec:
    """A cell, the one place its facts live: its name, the Keras cell family it belongs to (GRU's
    two forms are two specs of one family), its gate count G, its state names (output first),
    whether its bias has a recurrent row (inside the step: GRU reset_after), and its step.

    step(xw, states, U, b_h, activation, recurrent_activation, masks=None) -> new states;
    `masks` are Keras's recurrent dropout masks, one per gate block (or one for all).
    The compiled core lists the cells it computes by these names (rnnkit.backends.native).
    """

    name: str
    family: str
    gates: int
    state_names: tuple[str, ...]
    step: Callable
    recurrent_bias: bool = False


_REGISTRY: dict[str, CellSpec] = {}


def register(spec: CellSpec) -> CellSpec:
    _REGISTRY[spec.name] = spec
    return spec


def get(name: str) -> CellSpec:
    return _REGISTRY[name]


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def gate_product(v, K, masks=None):
    """v K, or with Keras's variational dropout masks (one per gate block of K, or one for all)
    the gate blocks (v ⊙ m_g) K_g side by side."""
    if masks is None:
        return v @ K
    blocks = K.chunk(len(masks), dim=-1)
    return torch.cat([(v * m) @ k for m, k in zip(masks, blocks)], dim=-1)
