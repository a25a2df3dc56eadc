"""rnnkit: SimpleRNN, LSTM and GRU with the Keras API, on PyTorch.

Shaped like Keras's top level, so that `import rnnkit as keras` runs Keras programs:

>>> import rnnkit as keras
>>> inputs = keras.Input((None, 1))
>>> outputs = keras.layers.Dense(1)(keras.layers.LSTM(8)(inputs))
>>> model = keras.Model(inputs, outputs)
"""

from . import (activations, backends, callbacks, cells, constraints, diagnostics, initializers,
               layers, losses, metrics, models, optimizers, preprocessing, regularizers, saving,
               utils)
from .layers import Input, Layer
from .models import Model, Sequential, load_model

__version__ = "0.1.0"

__all__ = ["activations", "backends", "callbacks", "cells", "constraints", "diagnostics",
           "initializers", "layers", "losses", "metrics", "models", "optimizers", "preprocessing",
           "regularizers", "saving", "utils", "Input", "Layer", "Model", "Sequential", "load_model",
           "__version__"]
