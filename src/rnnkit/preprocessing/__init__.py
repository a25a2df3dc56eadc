"""Keras 2's `keras.preprocessing` paths that programs still import: `sequence`
(`pad_sequences`, `TimeseriesGenerator`, `skipgrams`, `make_sampling_table`) and `text`
(`Tokenizer`, `text_to_word_sequence`, `one_hot`, `hashing_trick`), plus Keras 3's
`keras.preprocessing.timeseries_dataset_from_array`. Keras 3 no longer ships `sequence` and
`text`; their behaviour here is that of Keras 2's keras_preprocessing 1.1."""

from ..utils.timeseries import timeseries_dataset_from_array
from . import sequence, text
from .sequence import pad_sequences

__all__ = ["sequence", "text", "pad_sequences", "timeseries_dataset_from_array"]
