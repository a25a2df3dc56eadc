"""SimpleRNN, LSTM and GRU against each other: the time of one training step (train_on_batch
with Adam) of the seed's model for each cell, all three interleaved in one process, medians;
the same for torch.nn's modules with a Linear head. Is GRU cheaper than LSTM, and by how much?

    python benchmarks/bench_cells.py [--reps N]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from bench_seed import torch_step
from rnnkit.benchmark import interleaved
from rnnkit.cli.tasks import seed_model
from rnnkit.diagnostics.horizon import CELLS

# (batch, time steps, features, units): sunspots windows, the adding problem, sequential MNIST
SHAPES = [(32, 30, 1, 128), (32, 100, 2, 128), (32, 784, 1, 128)]


def rnnkit_step(cell, x, y, units):
    model = seed_model(cell, units, x.shape[-1])
    return model.count_params(), lambda: model.train_on_batch(x, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args(argv)
    print(f"one train_on_batch with Adam, {torch.get_num_threads()} threads; medians of "
          f"{args.reps}, the three cells interleaved")
    print(f"{'B,T,I,H':<14}{'framework':<10}" + "".join(f"{c + ' ms':>13}" for c in CELLS)
          + f"{'GRU/LSTM':>10}{'SimpleRNN/LSTM':>16}")
    for b, t, i, h in SHAPES:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((b, t, i), dtype=np.float32)
        y = rng.standard_normal((b, 1), dtype=np.float32)
        steps = {c: rnnkit_step(c, x, y, h) for c in CELLS}
        frameworks = {"rnnkit": {c: fn for c, (_, fn) in steps.items()},
                      "torch": {c: torch_step(c, x, y, h) for c in CELLS}}
        for name, fns in frameworks.items():
            med = interleaved(fns, args.reps)
            print(f"{f'{b},{t},{i},{h}':<14}{name:<10}"
                  + "".join(f"{med[c] * 1e3:>13.2f}" for c in CELLS)
                  + f"{med['GRU'] / med['LSTM']:>10.2f}{med['SimpleRNN'] / med['LSTM']:>16.2f}",
                  flush=True)
    print("parameters: " + ", ".join(f"{c} {steps[c][0]:,}" for c in CELLS) + f" (H={h}, I={i})")


if __name__ == "__main__":
    main()
