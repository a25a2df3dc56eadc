"""Keras layers on PyTorch. Every layer is a `torch.nn.Module`."""

from .base import Layer
from .core import Activation, Dense, Dropout, Embedding, Input, InputLayer, Masking
from .recurrent import GRU, LSTM, RNNLayer, SimpleRNN
from .rnn import RNN
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from .stacked_rnn_cells import StackedRNNCells
from .reshaping import Flatten, RepeatVector
from .wrappers import Bidirectional, TimeDistributed

__all__ = ["Layer", "RNNLayer", "SimpleRNN", "LSTM", "GRU", "Dense", "Embedding", "Dropout",
           "Activation", "Input", "InputLayer", "Masking", "Flatten", "RepeatVector", "TimeDistributed",
           "Bidirectional", "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"]

_CLASSES = {cls.__name__: cls for cls in (SimpleRNN, LSTM, GRU, Dense, Embedding, Dropout,
                                          Activation, InputLayer, Masking, Flatten,
                                          RepeatVector, TimeDistributed, Bidirectional, RNN,
                                          SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells)}


def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(record: dict) -> Layer:
    """A layer from `{"class_name": ..., "config": {...}}` (what Sequential.get_config stores)."""
    name = record.get("class_name")
    if name not in _CLASSES:
        raise ValueError(f"unknown layer class {name!r}; rnnkit knows {sorted(_CLASSES)}.")
    return _CLASSES[name].from_config(dict(record.get("config", {})))
