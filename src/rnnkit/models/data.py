"""Turning x and y (numpy arrays or torch tensors) into batches, as Keras's fit does."""

from __future__ import annotations

import math

import numpy as np
import torch


def to_tensor(a, where: str, what: str, float_dtype=torch.float32) -> torch.Tensor:
    """A tensor from an array-like; floating numpy data becomes float_dtype (Keras's floatx)."""
    if torch.is_tensor(a):
        return a.to(float_dtype) if torch.is_floating_point(a) and a.dtype != float_dtype else a
    try:
        arr = np.asarray(a)
    except Exception as exc:  # pragma: no cover - numpy's message is kept
        raise TypeError(f"{where}: expected {what} as a numpy array or torch tensor, got "
                        f"{type(a).__name__}.") from exc
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{where}: expected {what} of numbers, got an array of dtype {arr.dtype}.")
    t = torch.from_numpy(np.ascontiguousarray(arr))
    return t.to(float_dtype) if t.is_floating_point() else t


def check_same_length(where: str, x: torch.Tensor, y: torch.Tensor | None) -> int:
    if x.dim() == 0:
        raise ValueError(f"{where}: expected x with a batch axis, got a scalar.")
    if y is not None and y.shape[0] != x.shape[0]:
        raise ValueError(f"{where}: expected x and y to have the same number of samples, got x "
                         f"with {x.shape[0]} (shape {tuple(x.shape)}) and y with {y.shape[0]} "
                         f"(shape {tuple(y.shape)}).")
    return int(x.shape[0])


def validation_split(where: str, x, y, fraction: float):
    """Keras's split: the last `fraction` of the samples, taken before any shuffling."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"{where}: expected validation_split in (0, 1), got {fraction}.")
    n = x.shape[0]
    split_at = int(math.floor(n * (1.0 - fraction)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"{where}: validation_split={fraction} leaves an empty training or "
                         f"validation set for {n} samples.")
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def sample_order(n: int, shuffle: bool) -> torch.Tensor:
    """The order of an epoch's samples: a permutation from torch's global generator, or 0..n-1."""
    return torch.randperm(n) if shuffle else torch.arange(n)


def batch_indices(n: int, batch_size: int, shuffle: bool) -> list[torch.Tensor]:
    return list(sample_order(n, shuffle).split(batch_size))


def num_batches(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))
