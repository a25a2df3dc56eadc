"""Timing rnnkit's recurrent layers against torch.nn: the same weights, the same input, runs
interleaved round-robin in one process, medians (what `rnnkit bench` and benchmarks/ report)."""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from . import layers
from .interop._gates import keras_to_torch

CELLS = {"SimpleRNN": ("simple_rnn", torch.nn.RNN), "LSTM": ("lstm", torch.nn.LSTM),
         "GRU": ("gru", torch.nn.GRU)}
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def make_x(batch, time_steps, features, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(
        (batch, time_steps, features), dtype=np.float32))


def rnnkit_peer(cls, x, units, backend="auto", **options):
    """The layer, and its train() (forward + backward of sum(y)) and infer() callables."""
    layer = getattr(layers, cls)(units, return_sequences=True, backend=backend,
                                 input_shape=(None, x.shape[-1]), **options)

    def train():
        layer(x).sum().backward()

    def infer():
        with torch.no_grad():
            layer(x)

    return layer, train, infer


def torch_peer(cls, x, layer):
    """torch.nn's module holding the rnnkit layer's weights: train(), infer(), the module."""
    name, torch_cls = CELLS[cls]
    module = torch_cls(x.shape[-1], layer.units, batch_first=True)
    with torch.no_grad():
        mapped = keras_to_torch(name, layer.kernel, layer.recurrent_kernel, layer.bias)
        for p, v in zip(module.parameters(), mapped):
            p.copy_(v)

    def train():
        module(x)[0].sum().backward()

    def infer():
        with torch.no_grad():
            module(x)

    return train, infer, module


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fns: dict, reps: int) -> dict:
    """Median seconds of each callable, run round-robin after one warm-up each."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            times[k].append(seconds(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def sgemm_peak(n=2048, reps=5) -> float:
    """GFLOP/s of torch.mm at n³: the ceiling a recurrent kernel's products can reach here."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    return 2 * n**3 / min(seconds(lambda: a @ b) for _ in range(reps)) / 1e9


def forward_gflop(cls, b, t, i, h) -> float:
    return 2 * b * t * GATES[cls] * h * (i + h) / 1e9


def bench_case(cls, shape, reps, extra_peers=None, seed=0):
    """Median seconds of a training step and of inference for rnnkit (its native kernel) and
    torch.nn at (B, T, I, H); extra_peers(cls, x, layer) -> (train, infer) adds {name: ...}."""
    b, t, i, h = shape
    x = make_x(b, t, i, seed)
    layer, train, infer = rnnkit_peer(cls, x, h)
    peers_train, peers_infer = {"rnnkit": train}, {"rnnkit": infer}
    peers_train["torch"], peers_infer["torch"], _ = torch_peer(cls, x, layer)
    for name, make in (extra_peers or {}).items():
        peers_train[name], peers_infer[name] = make(cls, x, layer)
    return interleaved(peers_train, reps), interleaved(peers_infer, reps), layer.last_backend
