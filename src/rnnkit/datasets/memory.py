"""Generated long-memory tasks: the adding problem and the copy task, at a chosen lag.

Both are the classic tests of how far back a recurrent network can carry information
(Hochreiter & Schmidhuber, 1997; Le et al., 2015; Arjovsky et al., 2016): the answer depends on
inputs `lag` steps before the step where it is asked for, and nothing in between helps.
"""

from __future__ import annotations

import numpy as np


def adding_problem(samples: int = 1000, time_steps: int = 100, lag: int | None = None,
                   seed: int = 0):
    """x (samples, time_steps, 2), y (samples, 1), float32.

    Channel 0 holds random values in [0, 1); channel 1 marks two of the steps with 1. The target
    is the sum of the two marked values. The first mark sits `lag` steps before the end (default:
    a random step in the first half), the second one at a random later step. Predicting the
    mean, 1.0, gives a mean squared error of 1/6 ≈ 0.167 — the chance level.

    >>> x, y = adding_problem(4, 20, lag=15)
    >>> x.shape, y.shape, np.flatnonzero(x[0, :, 1])[0]
    ((4, 20, 2), (4, 1), 5)
    """
    lag = _check_lag(lag, time_steps, minimum=2)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(samples, time_steps))
    if lag is None:
        first = rng.integers(0, time_steps // 2, size=samples)
    else:
        first = np.full(samples, time_steps - lag)
    second = first + 1 + (rng.uniform(size=samples) * (time_steps - 1 - first)).astype(int)
    marks = np.zeros((samples, time_steps))
    rows = np.arange(samples)
    marks[rows, first] = marks[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    x = np.stack([values, marks], axis=-1)
    return x.astype(np.float32), y[:, None].astype(np.float32)


def copy_task(samples: int = 1000, length: int = 10, lag: int = 50, symbols: int = 8,
              seed: int = 0):
    """x (samples, T, symbols + 2) one-hot float32, y (samples, T) int64 class ids, with
    T = length + lag + length.

    The first `length` steps show symbols 1..symbols; then `lag - 1` blank steps (0) and a
    delimiter (symbols + 1); during the last `length` steps the model must output the symbols
    it saw, in order. Every other step's target is the blank. Fit a model that returns sequences
    with sparse_categorical_crossentropy; always guessing a symbol at the copy steps costs
    log(symbols) there (chance).

    >>> x, y = copy_task(2, length=3, lag=4, symbols=5)
    >>> x.shape, y.shape
    ((2, 10, 7), (2, 10))
    """
    lag = _check_lag(lag, lag + length, minimum=1)
    rng = np.random.default_rng(seed)
    time_steps = 2 * length + lag
    shown = rng.integers(1, symbols + 1, size=(samples, length))
    inputs = np.zeros((samples, time_steps), dtype=np.int64)
    inputs[:, :length] = shown
    inputs[:, length + lag - 1] = symbols + 1
    targets = np.zeros((samples, time_steps), dtype=np.int64)
    targets[:, length + lag:] = shown
    x = np.eye(symbols + 2, dtype=np.float32)[inputs]
    return x, targets


def _check_lag(lag, time_steps, minimum):
    if lag is None:
        return None
    if not isinstance(lag, (int, np.integer)) or not minimum <= lag <= time_steps:
        raise ValueError(f"expected lag an integer from {minimum} to {time_steps}, got {lag!r}.")
    return int(lag)
