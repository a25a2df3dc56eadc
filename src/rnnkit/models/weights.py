"""get_weights/set_weights over a list of layers, all-or-nothing."""

from __future__ import annotations

import numpy as np


def get_weights(layers) -> list[np.ndarray]:
    return [w for layer in layers for w in layer.get_weights()]


def set_weights(owner: str, layers, weights) -> None:
    """Check every array's count and shape first; change nothing unless all fit."""
    weights = list(weights)
    expected = [(layer.name, name, tuple(p.shape)) for layer in layers
                for name, p in zip(layer._weight_names, layer.weights)]
    if len(weights) != len(expected):
        raise ValueError(f"{owner}: set_weights expected {len(expected)} arrays, got {len(weights)}. "
                         f"Expected: {', '.join(f'{l}/{n} {s}' for l, n, s in expected)}.")
    for (layer_name, name, shape), w in zip(expected, weights):
        if tuple(np.shape(w)) != shape:
            raise ValueError(f"{owner}: set_weights expected {layer_name}/{name} of shape {shape}, "
                             f"got {tuple(np.shape(w))}.")
    i = 0
    for layer in layers:
        n = len(layer.weights)
        layer.set_weights(weights[i:i + n])
        i += n
