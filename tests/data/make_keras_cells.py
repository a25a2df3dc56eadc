"""Write Keras model files with RNN layers over cells, for tests/test_cells.py (load_keras).

Run from the repository root, in an environment with keras 3 and jax (no torch needed)::

    KERAS_BACKEND=jax python tests/data/make_keras_cells.py

Writes into tests/data/keras_cells/:

* ``cells.keras`` (its zip rewritten with deflate, members unchanged) and ``cells.h5`` (the
  legacy HDF5 format): Input((5, 2)) -> RNN(LSTMCell(3), return_sequences=True) ->
  RNN([GRUCell(3), LSTMCell(2), GRUCell(2, reset_after=False)], return_sequences=True,
  go_backwards=True) -> RNN(StackedRNNCells([SimpleRNNCell(2), SimpleRNNCell(2)])) -> Dense(1);
  the stacks put two cells of one class in one stack, so Keras's keys of a list of cells
  ("gru_cell", "lstm_cell", "gru_cell_1") differ from HDF5's alphabetical order;
* ``expected.npz``: ``x`` (3, 5, 2) and ``y``, Keras's output on it.

The output is Keras's eager call, not ``predict``: Keras 3.15 on JAX cannot trace a stack of
cells of different state structures under ``jit``. Weights are drawn uniformly from
[-0.5, 0.5] by a seeded generator.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_fixture_common import deflate  # noqa: E402

OUT = Path(__file__).parent / "keras_cells"


def model():
    return keras.Sequential([
        keras.Input((5, 2)),
        layers.RNN(layers.LSTMCell(3), return_sequences=True),
        layers.RNN([layers.GRUCell(3), layers.LSTMCell(2), layers.GRUCell(2, reset_after=False)],
                   return_sequences=True, go_backwards=True),
        layers.RNN(layers.StackedRNNCells([layers.SimpleRNNCell(2), layers.SimpleRNNCell(2)])),
        layers.Dense(1),
    ], name="cells")


def main():
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(2024)
    m = model()
    for w in m.weights:
        w.assign(rng.uniform(-0.5, 0.5, w.shape).astype("float32"))
    x = rng.standard_normal((3, 5, 2)).astype("float32")
    y = np.asarray(m(x))
    m.save(OUT / "cells.keras")
    deflate(OUT / "cells.keras")
    m.save(OUT / "cells.h5")
    np.savez(OUT / "expected.npz", x=x, y=y)


if __name__ == "__main__":
    main()
