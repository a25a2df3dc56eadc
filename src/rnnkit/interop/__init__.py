"""Moving models between rnnkit and other frameworks.

    load_keras(path)        a Keras `.keras` or legacy `.h5` file → a rnnkit model (h5py only)
    from_torch(module)      torch.nn.RNN / LSTM / GRU → a rnnkit model computing the same output
    to_torch(model)         the inverse, where an exact equivalent exists
    to_onnx(model, path)    native ONNX RNN / LSTM / GRU nodes, dynamic batch and time

Gate orders and weight layouts are permuted in one place only: `interop._gates`.
"""

from __future__ import annotations

import importlib

_EXPORTS = {"load_keras": ".keras", "from_torch": ".torch", "to_torch": ".torch",
            "to_onnx": ".onnx"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
