"""The memory-horizon probe: how well each architecture learns a task whose answer lies `lag`
steps back, as the lag grows.

    adding  the adding problem with its first mark `lag` steps before the end (sequences of
            `lag` steps); chance is always predicting the mean, MSE 1/6.
    copy    the copy task: 10 symbols (of 8) to repeat after `lag` steps (lag − 1 blanks and a
            delimiter), so each symbol is recalled lag + 10 steps after it was shown; chance is
            predicting blanks and then guessing, a cross-entropy of 10·log 8 / (20 + lag) per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .. import layers
from ..datasets import adding_problem, copy_task
from ..models import Sequential

CELLS = ("SimpleRNN", "LSTM", "GRU")
COPY_LENGTH, COPY_SYMBOLS = 10, 8
TASKS = ("adding", "copy")


@dataclass(frozen=True)
class HorizonPoint:
    """One architecture at one lag: its validation loss after training, and that loss as a
    fraction of chance (1 = learned nothing, 0 = solved)."""

    cell: str
    lag: int
    val_loss: float
    chance: float

    @property
    def relative(self) -> float:
        return self.val_loss / self.chance


def horizon_data(task: str, lag: int, samples: int, seed: int = 0):
    """(x, y, chance) of the task at this lag."""
    if task == "adding":
        x, y = adding_problem(samples, time_steps=lag, lag=lag, seed=seed)
        return x, y, 1.0 / 6.0
    if task == "copy":
        x, y = copy_task(samples, length=COPY_LENGTH, lag=lag, symbols=COPY_SYMBOLS, seed=seed)
        return x, y, COPY_LENGTH * math.log(COPY_SYMBOLS) / x.shape[1]
    raise ValueError(f"memory_horizon: expected task one of {TASKS}, got {task!r}.")


def horizon_model(cell: str, task: str, features: int, units: int, seed: int = 0) -> Sequential:
    """The cell over the sequence, then Dense(1) on its last output (adding) or a softmax over
    the symbols at every step (copy)."""
    if cell not in CELLS:
        raise ValueError(f"memory_horizon: expected cells among {', '.join(CELLS)}, got {cell!r}.")
    torch.manual_seed(seed)
    copy = task == "copy"
    model = Sequential([layers.Input((None, features)),
                        getattr(layers, cell)(units, return_sequences=copy),
                        layers.Dense(features, activation="softmax") if copy else layers.Dense(1)])
    model.compile(optimizer="adam",
                  loss="sparse_categorical_crossentropy" if copy else "mean_squared_error")
    return model


def memory_horizon(cells=CELLS, lags=(10, 50, 100), *, task="adding", units=32, samples=2000,
                   epochs=5, batch_size=32, seed=0, verbose=0, on_point=None) -> list[HorizonPoint]:
    """Train each cell on the task at each lag, the same data, budget and seed for every cell;
    report the validation loss (20 % of the samples held out) against chance. `on_point(point)`
    is called as each result comes in."""
    points = []
    for lag in lags:
        x, y, chance = horizon_data(task, lag, samples, seed)
        for cell in cells:
            model = horizon_model(cell, task, x.shape[-1], units, seed)
            torch.manual_seed(seed)  # the same shuffles for every cell
            history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=0.2,
                                shuffle=True, verbose=verbose)
            points.append(HorizonPoint(cell, lag, history.history["val_loss"][-1], chance))
            if on_point is not None:
                on_point(points[-1])
    return points
