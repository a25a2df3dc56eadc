"""The same recurrent layer in rnnkit, torch.nn and (when installed) Keras 3 on JAX, with the
same weights, each as a `train()` (forward + backward) and an `infer()` callable."""

from __future__ import annotations

import os

import numpy as np
import torch

from rnnkit import layers
from rnnkit.interop._gates import keras_to_torch

CELLS = {"SimpleRNN": ("simple_rnn", torch.nn.RNN), "LSTM": ("lstm", torch.nn.LSTM),
         "GRU": ("gru", torch.nn.GRU)}


def keras_available() -> bool:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras  # noqa: F401
        return keras.backend.backend() == "jax"
    except Exception:
        return False


def rnnkit_peer(cls, x, units, backend="auto"):
    layer = getattr(layers, cls)(units, return_sequences=True, backend=backend,
                                 input_shape=(None, x.shape[-1]))

    def train():
        layer(x).sum().backward()

    def infer():
        with torch.no_grad():
            layer(x)

    return layer, train, infer


def torch_peer(cls, x, layer):
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


def keras_peer(cls, x, layer):
    """Keras on JAX: jitted forward, and jitted value_and_grad of sum(y) over x and the weights."""
    import jax
    import keras

    klayer = getattr(keras.layers, cls)(layer.units, return_sequences=True)
    klayer.build((None, None, x.shape[-1]))
    klayer.set_weights(layer.get_weights())
    weights = [v.value for v in klayer.trainable_variables]
    frozen = [v.value for v in klayer.non_trainable_variables]
    xj = jax.numpy.asarray(x.numpy())

    def loss(ws, xs):
        y, _ = klayer.stateless_call(ws, frozen, xs)
        return y.sum()

    forward = jax.jit(lambda ws, xs: klayer.stateless_call(ws, frozen, xs)[0])
    grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))

    def train():
        jax.block_until_ready(grad(weights, xj))

    def infer():
        jax.block_until_ready(forward(weights, xj))

    return train, infer


def make_x(batch, time, features, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((batch, time, features),
                                                                         dtype=np.float32))
