"""Keras-style default names: the first LSTM is "lstm", the next "lstm_1", per session."""

from __future__ import annotations

import re
from collections import defaultdict

_counts: defaultdict[str, int] = defaultdict(int)


def snake_case(name: str) -> str:
    """"SimpleRNN" -> "simple_rnn", "LSTM" -> "lstm", "TimeDistributed" -> "time_distributed",
    "Conv1D" -> "conv1d" (Keras's rule: a digit never starts a new word)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    n = _counts[prefix]
    _counts[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def free_name(name: str, taken) -> str:
    """`name`, or the first of name_1, name_2, ... not in `taken` (Keras's repeated names)."""
    if name not in taken:
        return name
    k = 1
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def class_keys(objects) -> list[str]:
    """One key per object, as Keras's files key a list of them: the snake_case class name, "_k"
    added for the k-th later object of that class ("lstm", "lstm_1", "dense")."""
    counts: dict[str, int] = {}
    keys = []
    for obj in objects:
        base = snake_case(type(obj).__name__)
        k = counts.get(base, 0)
        counts[base] = k + 1
        keys.append(base if k == 0 else f"{base}_{k}")
    return keys


def clear_session() -> None:
    """Restart default naming, as `keras.backend.clear_session()` does."""
    _counts.clear()
