"""rnnkit: SimpleRNN, LSTM and GRU with the Keras API, on PyTorch.

>>> from rnnkit.models import Sequential
>>> from rnnkit.layers import LSTM, Dense
>>> model = Sequential([LSTM(8, input_shape=(None, 1)), Dense(1)])
"""

from . import (activations, backends, callbacks, cells, diagnostics, initializers, layers, losses,
               metrics, models, optimizers, utils)
from .models import Sequential, load_model

__version__ = "0.1.0"

__all__ = ["activations", "backends", "callbacks", "cells", "diagnostics", "initializers", "layers",
           "losses",
           "metrics", "models", "optimizers", "utils", "Sequential", "load_model", "__version__"]
