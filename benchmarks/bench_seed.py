"""The seed's models (X(128, input_shape=(None, 1)) + Dense(1), Adam, MSE): one full
train_on_batch at batch 32, 100 steps, in rnnkit, Keras 3 on JAX (when installed) and torch.nn
(module + Linear + torch.optim.Adam). Same process, interleaved, medians.

    python benchmarks/bench_seed.py [--reps N]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from peers import keras_available
from rnnkit.benchmark import CELLS, interleaved
from rnnkit.cli.tasks import seed_model
from rnnkit import layers


def rnnkit_step(cls, x, y):
    model = seed_model(getattr(layers, cls))
    return lambda: model.train_on_batch(x, y)


def torch_step(cls, x, y, units=128):
    """torch.nn's module for the cell, a Linear head, torch.optim.Adam with Keras's epsilon."""
    rnn = CELLS[cls][1](x.shape[-1], units, batch_first=True)
    head = torch.nn.Linear(units, 1)
    opt = torch.optim.Adam([*rnn.parameters(), *head.parameters()], lr=1e-3, eps=1e-7)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(head(rnn(xt)[0][:, -1]), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def keras_step(cls, x, y):
    import keras
    model = keras.Sequential([keras.Input((None, 1)), getattr(keras.layers, cls)(128),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mean_squared_error")
    return lambda: model.train_on_batch(x, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 100, 1), dtype=np.float32)
    y = rng.standard_normal((32, 1), dtype=np.float32)
    with_keras = keras_available()
    print(f"seed models, train_on_batch with Adam, B=32 T=100 I=1 H=128, {torch.get_num_threads()} "
          f"threads; Keras-on-JAX {'yes' if with_keras else 'not installed'}")
    print(f"{'cell':<10}{'rnnkit ms':>10}{'torch ms':>10}{'keras ms':>10}{'x best peer':>12}")
    for cls in CELLS:
        fns = {"rnnkit": rnnkit_step(cls, x, y), "torch": torch_step(cls, x, y)}
        if with_keras:
            fns["keras"] = keras_step(cls, x, y)
        med = interleaved(fns, args.reps)
        best = min(v for k, v in med.items() if k != "rnnkit")
        keras_ms = f"{med['keras'] * 1e3:>10.2f}" if with_keras else f"{'-':>10}"
        print(f"{cls:<10}{med['rnnkit'] * 1e3:>10.2f}{med['torch'] * 1e3:>10.2f}{keras_ms}"
              f"{best / med['rnnkit']:>12.2f}", flush=True)


if __name__ == "__main__":
    main()
