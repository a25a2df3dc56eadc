"""Keras-style default names: the first LSTM is "lstm", the next "lstm_1", per session."""

from __future__ import annotations

import re
from collections import defaultdict

_counts: defaultdict[str, int] = defaultdict(int)


def snake_case(name: str) -> str:
    """"SimpleRNN" -> "simple_rnn", "LSTM" -> "lstm", "TimeDistributed" -> "time_distributed"."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    n = _counts[prefix]
    _counts[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def clear_session() -> None:
    """Restart default naming, as `keras.backend.clear_session()` does."""
    _counts.clear()
