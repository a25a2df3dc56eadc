"""get_weights/set_weights over a list of layers, all-or-nothing, and the keys weights are
saved under."""

from __future__ import annotations

import numpy as np
import torch

from ..utils.naming import class_keys


def get_weights(layers) -> list[np.ndarray]:
    return [w for layer in layers for w in layer.get_weights()]


def set_weights(owner: str, layers, weights) -> None:
    """Check every array's count and shape first; change nothing unless all fit."""
    weights = list(weights)
    expected = [(layer.name, name, tuple(p.shape)) for layer in layers
                for name, p in zip(layer.weight_names, layer.weights)]
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


def layer_keys(layers) -> list[str]:
    """One key per layer, by position as Keras keys its weight files: the snake_case class
    name, "_k" added for the k-th later layer of that class ("lstm", "lstm_1", "dense"), so a
    file loads into any model built the same way whatever its layers are named."""
    return class_keys(layers)


def keyed_weights(layers, by_name: bool = False) -> dict[str, torch.nn.Parameter]:
    """Every weight under "<layer key>/<weight name>"; by_name keys layers by their own names
    (rnnkit's version 1 files)."""
    layers = list(layers)
    keys = [layer.name for layer in layers] if by_name else layer_keys(layers)
    return {f"{key}/{name}": p for key, layer in zip(keys, layers)
            for name, p in zip(layer.weight_names, layer.weights)}
