"""ONNX converters for the layers around recurrent ones (merging, pooling, Conv1D, reshaping,
normalization, noise, activation layers, attention), keyed by class name: each reads the layer's
Keras config and weights and writes the ONNX operators computing exactly its inference output."""

from __future__ import annotations

CONVERTERS: dict = {}
