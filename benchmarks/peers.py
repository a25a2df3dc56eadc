"""Keras 3 on JAX as a peer (when installed): the same recurrent layer with the same weights as a
`train()` (forward + backward) and an `infer()` callable, like rnnkit.benchmark's rnnkit and
torch.nn peers."""

from __future__ import annotations

import os


def keras_available() -> bool:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras  # noqa: F401
        return keras.backend.backend() == "jax"
    except Exception:
        return False


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
