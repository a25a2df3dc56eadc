"""The seed document's three models, trained end to end on a forecasting task.

Each of SimpleRNN, LSTM and GRU (128 units, then Dense(1)) is built exactly as the seed builds it,
summarized, and trained with the same budget; the losses are compared with the loss of always
predicting the mean.
"""

from __future__ import annotations

import time

import numpy as np

from . import datasets
from .layers import GRU, LSTM, Dense, SimpleRNN
from .models import Sequential
from .utils import set_random_seed


def seed_model(cell):
    model = Sequential()
    model.add(cell(units=128, input_shape=(None, 1)))
    model.add(Dense(1, activation="linear"))
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def run(epochs: int = 5, samples: int = 1000, time_steps: int = 40, seed: int = 0,
        verbose: int = 1) -> dict[str, dict[str, float]]:
    x, y = datasets.sine_windows(samples, time_steps, seed=seed)
    baseline = float(np.mean((y - y.mean()) ** 2))
    results = {}
    for cell in (SimpleRNN, LSTM, GRU):
        set_random_seed(seed)
        model = seed_model(cell)
        model.summary()
        start = time.perf_counter()
        history = model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2,
                            verbose=verbose)
        seconds = time.perf_counter() - start
        results[cell.__name__] = {"params": model.count_params(), "seconds": seconds,
                                  "loss": history.history["loss"][-1],
                                  "val_loss": history.history["val_loss"][-1]}
        print()
    print(f"Next-value forecasting of noisy sine waves: {samples} windows of {time_steps} steps, "
          f"{epochs} epochs, Adam, batch 32.")
    print(f"Mean-predictor loss (variance of y): {baseline:.4f}")
    print(f"{'model':<10} {'params':>8} {'train loss':>11} {'val loss':>9} {'vs mean':>8} {'time':>7}")
    for name, r in results.items():
        print(f"{name:<10} {r['params']:>8,} {r['loss']:>11.4f} {r['val_loss']:>9.4f} "
              f"{r['val_loss'] / baseline:>8.1%} {r['seconds']:>6.1f}s")
    return results
