"""What the way a model is written costs: the seed's model (a recurrent layer of 128 units on
one feature, then Dense(1)) as a Sequential, a Functional graph, a subclassed Model, and a
Functional graph over RNN(<cell>), one `train_on_batch` (forward, backward, Adam) at B=32,
T=100, with the same weights, interleaved in one process, medians, as ratios to Sequential.

    .venv/bin/python benchmarks/bench_model_kinds.py [--cells LSTM,GRU,SimpleRNN] [--reps 15]

Each variant also checks that its loss equals Sequential's, and reports which backend ran.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import rnnkit as keras
from rnnkit import benchmark, layers


class Seed(keras.Model):
    def __init__(self, cls, units):
        super().__init__()
        self.rnn = getattr(layers, cls)(units)
        self.head = layers.Dense(1)

    def call(self, inputs):
        return self.head(self.rnn(inputs))


def variants(cls, units):
    """name -> (model, its recurrent layer), every model built for (None, None, 1)."""
    sequential = keras.Sequential([getattr(layers, cls)(units, input_shape=(None, 1)),
                                   layers.Dense(1)])
    x = keras.Input((None, 1))
    rnn = getattr(layers, cls)(units)
    functional = keras.Model(x, layers.Dense(1)(rnn(x)))
    subclassed = Seed(cls, units)
    subclassed.build((None, None, 1))
    y = keras.Input((None, 1))
    over_cell = layers.RNN(getattr(layers, f"{cls}Cell")(units))
    cell_graph = keras.Model(y, layers.Dense(1)(over_cell(y)))
    return {"Sequential": (sequential, sequential.layers[0]),
            "Functional": (functional, rnn), "subclassed": (subclassed, subclassed.rnn),
            f"RNN({cls}Cell)": (cell_graph, over_cell)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="LSTM,GRU,SimpleRNN")
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--units", type=int, default=128)
    args = parser.parse_args(argv)
    x = benchmark.make_x(32, 100, 1).numpy()
    y = np.random.default_rng(1).standard_normal((32, 1)).astype(np.float32)
    print(f"{'cell':<10}{'model':<20}{'backend':<10}{'ms':>8}{'/ Sequential':>14}")
    for cls in args.cells.split(","):
        torch.manual_seed(0)
        made = variants(cls, args.units)
        weights = made["Sequential"][0].get_weights()
        for model, _ in made.values():
            model.set_weights(weights)
            model.compile(optimizer="adam", loss="mse")
        losses = {name: model.test_on_batch(x, y) for name, (model, _) in made.items()}
        for name, loss in losses.items():
            assert abs(loss - losses["Sequential"]) <= 1e-6 * abs(losses["Sequential"]), name
        times = benchmark.interleaved({name: (lambda m=model: m.train_on_batch(x, y))
                                       for name, (model, _) in made.items()}, args.reps)
        for name, (_, rnn) in made.items():
            print(f"{cls:<10}{name:<20}{rnn.last_backend:<10}{times[name] * 1e3:>8.2f}"
                  f"{times[name] / times['Sequential']:>14.2f}")


if __name__ == "__main__":
    main()
