"""Padded batches, recurrent dropout and bidirectional layers: one training step (forward +
backward of sum(y)) of rnnkit against its own reference loop, torch.nn (packed sequences for
padding, bidirectional=True) and, when installed, Keras 3 on JAX; same process, interleaved runs,
medians.

    python benchmarks/bench_features.py [--reps N] [--shape B T I H]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from peers import keras_available
from rnnkit.benchmark import interleaved, make_x
from rnnkit import layers
from rnnkit.interop import to_torch


def lengths_for(batch, time, seed=0):
    """Right-padded rows of length T/2 .. T, the longest first (as pack_padded_sequence likes)."""
    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.sort(rng.integers(time // 2, time + 1, size=batch))[::-1].copy())


def rnnkit_step(layer, x, mask=None):
    def step():
        layer(x, mask=mask, training=True).sum().backward()
    return step


def torch_packed_step(module, x, lengths):
    def step():
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True)
        y, _ = module(packed)
        torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True)[0].sum().backward()
    return step


def torch_step(module, x):
    def step():
        module(x)[0].sum().backward()
    return step


def keras_step(klayer, x, mask=None, training=True):
    import jax
    weights = [v.value for v in klayer.trainable_variables]
    frozen = [v.value for v in klayer.non_trainable_variables]
    xj = jax.numpy.asarray(x.numpy())
    mj = None if mask is None else jax.numpy.asarray(mask.numpy())

    def loss(ws, xs):
        y, _ = klayer.stateless_call(ws, frozen, xs, mask=mj, training=training)
        return y.sum()

    grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    return lambda: jax.block_until_ready(grad(weights, xj))


def keras_twin(layer, input_dim):
    import keras
    config = {k: v for k, v in layer.get_config().items() if k not in ("backend", "dtype", "batch_input_shape")}
    klayer = getattr(keras.layers, type(layer).__name__).from_config(config)
    klayer.build((None, None, input_dim))
    klayer.set_weights(layer.get_weights())
    return klayer


def cases(shape, with_keras):
    b, t, i, h = shape
    x = make_x(b, t, i)
    for cls in ("LSTM", "GRU"):
        # padded batch
        lengths = lengths_for(b, t)
        mask = torch.arange(t) < lengths[:, None]
        fast = getattr(layers, cls)(h, return_sequences=True, input_shape=(None, i))
        slow = getattr(layers, cls)(h, return_sequences=True, input_shape=(None, i),
                                    backend="reference")
        slow.set_weights(fast.get_weights())
        steps = {"rnnkit": rnnkit_step(fast, x, mask), "reference": rnnkit_step(slow, x, mask),
                 "torch": torch_packed_step(to_torch(fast), x, lengths)}
        if with_keras:
            steps["keras"] = keras_step(keras_twin(fast, i), x, mask)
        yield f"{cls} right-padded", fast, steps
        # recurrent dropout
        options = {"dropout": 0.2, "recurrent_dropout": 0.2, "return_sequences": True}
        fast = getattr(layers, cls)(h, input_shape=(None, i), **options)
        slow = getattr(layers, cls)(h, input_shape=(None, i), backend="reference", **options)
        slow.set_weights(fast.get_weights())
        steps = {"rnnkit": rnnkit_step(fast, x), "reference": rnnkit_step(slow, x)}
        if with_keras:
            steps["keras"] = keras_step(keras_twin(fast, i), x)
        yield f"{cls} recurrent_dropout", fast, steps
        # bidirectional
        fast = layers.Bidirectional(getattr(layers, cls)(h, return_sequences=True),
                                    input_shape=(None, i))
        steps = {"rnnkit": rnnkit_step(fast, x), "torch": torch_step(to_torch(fast), x)}
        yield f"{cls} bidirectional", fast, steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--shape", type=int, nargs=4, default=[32, 100, 8, 128],
                        metavar=("B", "T", "I", "H"))
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args(argv)
    with_keras = not args.no_keras and keras_available()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, (B, T, I, H) = "
          f"{tuple(args.shape)}, Keras-on-JAX {'yes' if with_keras else 'not installed'}")
    print(f"{'case':<24}{'rnnkit ms':>10}  speed-up of rnnkit over each peer")
    for name, layer, steps in cases(tuple(args.shape), with_keras):
        med = interleaved(steps, args.reps)
        assert layer.last_backend == "native", (name, layer.last_backend)
        others = "  ".join(f"{k} {med[k] / med['rnnkit']:.2f}x ({med[k] * 1e3:.1f} ms)"
                           for k in med if k != "rnnkit")
        print(f"{name:<24}{med['rnnkit'] * 1e3:>10.2f}  {others}", flush=True)


if __name__ == "__main__":
    main()
