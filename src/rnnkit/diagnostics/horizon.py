"""The memory-horizon probe: how well each architecture learns a task whose answer lies `lag`
steps back, as the lag grows."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import layers
from ..datasets import adding_problem
from ..models import Sequential

CHANCE = {"adding": 1.0 / 6.0}  # the MSE of always predicting the mean target, 1.0


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


def adding_model(cell: str, time_steps: int, units: int, seed: int = 0) -> Sequential:
    torch.manual_seed(seed)
    model = Sequential([layers.Input((time_steps, 2)), getattr(layers, cell)(units),
                        layers.Dense(1)])
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def memory_horizon(cells=("SimpleRNN", "LSTM", "GRU"), lags=(10, 50, 100), *, units=32,
                   samples=2000, epochs=5, batch_size=32, seed=0, verbose=0) -> list[HorizonPoint]:
    """Train each cell on the adding problem with its first mark `lag` steps before the end
    (sequences of `lag` steps), the same data, budget and seed for every cell; report the
    validation loss (20 % of the samples held out) against chance, 1/6."""
    points = []
    for lag in lags:
        x, y = adding_problem(samples, time_steps=lag, lag=lag, seed=seed)
        for cell in cells:
            if cell not in ("SimpleRNN", "LSTM", "GRU"):
                raise ValueError(f"memory_horizon: expected cells among SimpleRNN, LSTM, GRU, got "
                                 f"{cell!r}.")
            model = adding_model(cell, lag, units, seed)
            history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=0.2,
                                shuffle=True, verbose=verbose)
            points.append(HorizonPoint(cell, lag, history.history["val_loss"][-1],
                                       CHANCE["adding"]))
    return points
