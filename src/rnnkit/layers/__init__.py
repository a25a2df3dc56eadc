"""Keras layers on PyTorch. Every layer is a `torch.nn.Module`."""

from .base import Layer
from .core import Activation, Dense, Dropout, Embedding, Input, InputLayer, Masking
from .recurrent import GRU, LSTM, RNNLayer, SimpleRNN
from .rnn import RNN
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from .stacked_rnn_cells import StackedRNNCells
from .reshaping import Flatten, Permute, RepeatVector, Reshape
from .wrappers import Bidirectional, TimeDistributed
from .lookup import IntegerLookup, StringLookup
from .text_vectorization import TextVectorization
from . import (activation_layers, attention, convolution, lambda_layer, merging, merging_axes,
               noise, normalization, pooling)
from .activation_layers import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .lambda_layer import *  # noqa: F401,F403
from .merging import *  # noqa: F401,F403
from .merging_axes import *  # noqa: F401,F403
from .noise import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403

# The modules of the layers that surround recurrent ones; each lists its public names in __all__
# (classes, Keras's aliases such as GlobalMaxPool1D, and functions such as concatenate).
_AREAS = (activation_layers, attention, convolution, lambda_layer, merging, merging_axes, noise,
          normalization, pooling)

__all__ = ["Layer", "RNNLayer", "SimpleRNN", "LSTM", "GRU", "Dense", "Embedding", "Dropout",
           "Activation", "Input", "InputLayer", "Masking", "Flatten", "RepeatVector", "Reshape",
           "Permute", "TimeDistributed", "Bidirectional", "RNN", "SimpleRNNCell", "LSTMCell",
           "GRUCell", "StackedRNNCells", "TextVectorization", "StringLookup", "IntegerLookup",
           *(name for area in _AREAS for name in area.__all__)]

_CLASSES = {cls.__name__: cls for cls in (SimpleRNN, LSTM, GRU, Dense, Embedding, Dropout,
                                          Activation, InputLayer, Masking, Flatten,
                                          RepeatVector, Reshape, Permute, TimeDistributed,
                                          Bidirectional, RNN, SimpleRNNCell, LSTMCell, GRUCell,
                                          StackedRNNCells, TextVectorization, StringLookup,
                                          IntegerLookup)}
# Keras serializes a layer under its class's own name (an alias's is the class it names).
_CLASSES.update({obj.__name__: obj for area in _AREAS for obj in map(vars(area).get, area.__all__)
                 if isinstance(obj, type) and issubclass(obj, Layer)})


def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(record: dict) -> Layer:
    """A layer from `{"class_name": ..., "config": {...}}` (what Sequential.get_config stores)."""
    name = record.get("class_name")
    if name not in _CLASSES:
        raise ValueError(f"unknown layer class {name!r}; rnnkit knows {sorted(_CLASSES)}.")
    return _CLASSES[name].from_config(dict(record.get("config", {})))
