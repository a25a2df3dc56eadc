"""Generated sequence tasks."""

from __future__ import annotations

import numpy as np


def sine_windows(samples: int = 1000, time_steps: int = 50, noise: float = 0.1, seed: int = 0):
    """Next-value forecasting on noisy sine waves of random frequency and phase.

    Each sample is `time_steps` values of sin(ω t + φ) + noise; the target is the next clean value.
    Returns x of shape (samples, time_steps, 1) and y of shape (samples, 1), float32.

    >>> x, y = sine_windows(8, 20)
    >>> x.shape, y.shape
    ((8, 20, 1), (8, 1))
    """
    rng = np.random.default_rng(seed)
    omega = rng.uniform(0.05, 0.3, size=(samples, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(samples, 1))
    t = np.arange(time_steps + 1)[None, :]
    clean = np.sin(omega * t + phase)
    x = clean[:, :-1] + noise * rng.standard_normal((samples, time_steps))
    return x[..., None].astype(np.float32), clean[:, -1:].astype(np.float32)
