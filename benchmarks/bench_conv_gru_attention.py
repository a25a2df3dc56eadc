"""A model built of the layers around recurrent ones: Conv1D -> GRU -> self-Attention ->
GlobalAveragePooling1D -> Dense, against Keras 3 on JAX with the same weights: one
`train_on_batch` (forward, backward, Adam) and one `predict_on_batch`, interleaved in one
process, medians, as ratios (> 1: rnnkit is faster). Each repetition checks that both frameworks
computed the same predictions.

    python benchmarks/bench_conv_gru_attention.py [--reps 15] [--shape B T I] [--units H]

Needs keras and jax importable beside torch and rnnkit (KERAS_BACKEND=jax is set here).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import rnnkit
from rnnkit import benchmark


def build(lib, time, features, units):
    inputs = lib.Input((time, features))
    x = lib.layers.Conv1D(units // 2, 3, padding="causal", activation="relu")(inputs)
    x = lib.layers.GRU(units, return_sequences=True)(x)
    x = lib.layers.Attention(use_scale=True)([x, x])
    x = lib.layers.GlobalAveragePooling1D()(x)
    return lib.Model(inputs, lib.layers.Dense(1)(x))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--shape", type=int, nargs=3, default=(32, 100, 8), metavar=("B", "T", "I"))
    parser.add_argument("--units", type=int, default=128)
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    batch, time, features = args.shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, time, features)).astype(np.float32)
    y = rng.standard_normal((batch, 1)).astype(np.float32)
    ours, theirs = build(rnnkit, time, features, args.units), build(keras, time, features,
                                                                     args.units)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict_on_batch(x), theirs.predict_on_batch(x), rtol=1e-4,
                               atol=1e-4)
    for model, lib in ((ours, rnnkit), (theirs, keras)):
        model.compile(optimizer=lib.optimizers.Adam(1e-3), loss="mean_squared_error")
    steps = benchmark.interleaved({
        "rnnkit train": lambda: ours.train_on_batch(x, y),
        "keras train": lambda: theirs.train_on_batch(x, y),
        "rnnkit predict": lambda: ours.predict_on_batch(x),
        "keras predict": lambda: theirs.predict_on_batch(x),
    }, args.reps)
    gru = next(layer for layer in ours.layers if isinstance(layer, rnnkit.layers.GRU))
    print(f"B,T,I,H = {batch},{time},{features},{args.units}; rnnkit's GRU ran "
          f"{gru.last_backend}")
    print("| phase | rnnkit ms | Keras (JAX) ms | × Keras |")
    print("|---|---:|---:|---:|")
    for phase in ("train", "predict"):
        a, b = steps[f"rnnkit {phase}"], steps[f"keras {phase}"]
        print(f"| {phase} | {a * 1e3:.1f} | {b * 1e3:.1f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
