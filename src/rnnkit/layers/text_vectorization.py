"""TextVectorization: Keras 3's text layer (standardize, split, n-grams, vocabulary lookup) on
Python strings and numpy string arrays. Keras runs it on tf.strings; rnnkit in plain Python,
with the same rules: ASCII-only lowercasing (tf.strings.lower), Keras's punctuation set,
splitting on ASCII whitespace, n-grams joined by one space."""

from __future__ import annotations

import re

import numpy as np
import torch

from . import symbolic
from .base import Layer
from .lookup import StringLookup, string_array

__all__ = ["TextVectorization"]

# Keras's DEFAULT_STRIP_REGEX (the characters of string.punctuation)
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")  # what tf.strings.split splits on
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")


class TextVectorization(Layer):
    """Turns strings into token indices or token counts (Keras 3's TextVectorization).

    Each string is standardized, split into tokens, optionally extended with n-grams, and
    looked up in a vocabulary ("" is index 0, "[UNK]" index 1 in "int" mode), which `adapt`
    learns (most frequent first) or `vocabulary=` gives. Inputs: a str, a list of str, or a
    numpy array of dtype str/bytes/object of shape (batch,) or (batch, 1); outputs are torch
    tensors (int64 for "int", float32 otherwise). Keras runs this on tf.strings and tf.data;
    rnnkit in plain Python, and `adapt` takes any iterable of batches instead of a Dataset.

    Args:
        max_tokens: the largest vocabulary, "" and "[UNK]" included; None for no limit.
        standardize: None, "lower_and_strip_punctuation", "lower", "strip_punctuation", or a
            callable given a numpy array of str (as Keras gives it on non-TensorFlow backends)
            and returning one of the same shape.
        split: None, "whitespace", "character", or a callable given a 1-D numpy array of str
            and returning one list of tokens per string.
        ngrams: None, an int n (all n-grams of 1..n tokens) or a tuple of sizes.
        output_mode: "int", "multi_hot", "count" or "tf_idf" ("one_hot" is refused: Keras's
            own result for split text is not a per-token encoding).
        output_sequence_length: "int" mode: pad with 0 or cut at the end to this length.
        pad_to_max_tokens: encodings have `max_tokens` columns.
        vocabulary: a list of tokens or the path of a file of one a line.
        idf_weights: the idf weights of a given vocabulary ("tf_idf").
        sparse: must be False; ragged: must be False (TensorFlow-only in Keras 3).
        encoding: the encoding of bytes inputs.

    >>> vectorize = TextVectorization(output_sequence_length=4)
    >>> vectorize.adapt(["the cat sat", "the dog"])
    >>> vectorize(["the dog sat"]).tolist()
    [[2, 4, 3, 0]]
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", name=None, **kwargs):
        has_input = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        where = f"TextVectorization {self.name}"
        if sparse or ragged:
            raise ValueError(f"{where}: {'sparse' if sparse else 'ragged'}=True is not "
                             "supported (Keras 3 allows it only on the TensorFlow backend); "
                             "rnnkit returns dense torch tensors.")
        _check_choice(where, "standardize", standardize, _STANDARDIZE)
        _check_choice(where, "split", split, ("whitespace", "character"))
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode == "one_hot":
            raise NotImplementedError(f"{where}: output_mode 'one_hot' is not supported; use "
                                      "'multi_hot' or 'count'.")
        if not (ngrams is None or isinstance(ngrams, int) and not isinstance(ngrams, bool)
                or isinstance(ngrams, tuple) and all(isinstance(n, int) for n in ngrams)):
            raise ValueError(f"{where}: expected ngrams None, an integer or a tuple of "
                             f"integers, got {ngrams!r}.")
        if ngrams is not None and split is None:
            raise NotImplementedError(f"{where}: ngrams with split=None is not supported.")
        if output_mode == "int" and not (output_sequence_length is None or isinstance(
                output_sequence_length, int)):
            raise ValueError(f"{where}: expected output_sequence_length None or an integer, "
                             f"got {output_sequence_length!r}.")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(f"{where}: output_sequence_length is only for output_mode 'int', "
                             f"got output_mode {output_mode!r}.")
        self._standardize, self._split, self._ngrams_arg = standardize, split, ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode, self._output_sequence_length = output_mode, output_sequence_length
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            has_input_vocabulary=has_input, encoding=encoding, vocabulary_size=vocabulary_size,
            name=f"{self.name}_lookup")
        self.built = True

    # -- vocabulary -------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary from a list or array of strings, or from an iterable of such
        batches (a generator, a torch DataLoader; Keras also takes a tf.data Dataset)."""
        lookup = self._lookup_layer
        lookup.reset_state()
        if hasattr(data, "__iter__") and not isinstance(
                data, (list, tuple, np.ndarray, str, bytes, torch.Tensor)):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            self.update_state(data)
        lookup.finalize_state()

    def update_state(self, data) -> None:
        tokens = self._preprocess(data)[0]
        if isinstance(tokens, np.ndarray) and tokens.ndim <= 1:  # Keras: a column of documents
            tokens = tokens.reshape(-1, 1)
        self._lookup_layer.update_state(tokens)

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary in index order ("" and "[UNK]" first unless left out)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (a list, array or file path) and, for "tf_idf", idf weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # -- the call ---------------------------------------------------------------------------------
    def _standardized(self, strings: np.ndarray) -> np.ndarray:
        if callable(self._standardize):
            result = self._standardize(strings.astype(str))
            return string_array(np.asarray(result), self._encoding, self.name)
        out = strings.reshape(-1).copy()
        for i, s in enumerate(out):
            if self._standardize in ("lower", "lower_and_strip_punctuation"):
                s = s.translate(_ASCII_UPPER)
            if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
                s = _PUNCTUATION.sub("", s)
            out[i] = s
        return out.reshape(strings.shape)

    def _preprocess(self, inputs):
        """(token rows or token array, whether the input was one string): standardized, split
        and n-grammed as Keras's _preprocess."""
        strings = self._standardized(string_array(inputs, self._encoding, self.name))
        if self._split is None:
            return strings, False
        scalar = strings.ndim == 0
        if strings.ndim > 1:
            if strings.shape[-1] != 1:
                raise ValueError(f"{self.name}: to split strings the input must have rank 1 or "
                                 f"a last axis of size 1, got shape {strings.shape}.")
            strings = strings[..., 0]
        if strings.ndim > 1:
            raise ValueError(f"{self.name}: expected strings of shape (batch,) or (batch, 1), "
                             f"got shape {strings.shape + (1,)}.")
        strings = strings.reshape(-1)
        if self._split == "whitespace":
            rows = [_WHITESPACE.split(s.strip(" \t\n\v\f\r")) if s.strip(" \t\n\v\f\r") else []
                    for s in strings]
        elif self._split == "character":
            rows = [list(s) for s in strings]
        else:
            rows = [list(map(str, r)) for r in self._split(strings.astype(str))]
        if self._ngrams is not None:
            rows = [[" ".join(r[i:i + n]) for n in self._ngrams for i in range(len(r) - n + 1)]
                    for r in rows]
        return rows, scalar

    def forward(self, inputs, *args, **kwargs):
        if symbolic.is_symbolic((inputs,), kwargs):
            return super().forward(inputs, *args, **kwargs)
        return self.call(inputs)

    def call(self, inputs):
        tokens, scalar = self._preprocess(inputs)
        lookup = self._lookup_layer
        if isinstance(tokens, np.ndarray):  # split=None: each string is one token
            ids = lookup.lookup(tokens)
            if self._output_mode == "int":
                ids = _fit_length(ids, self._output_sequence_length)
            return lookup._encode(ids)
        ids = [lookup.lookup(np.array(r, dtype=object)) for r in tokens]
        if self._output_mode == "int":
            length = self._output_sequence_length
            if length is None:
                length = max((len(r) for r in ids), default=0)
            out = np.stack([_fit_length(r, length) for r in ids]) if ids else \
                np.zeros((0, length), np.int64)
        else:  # rows padded with -1, which counts for nothing
            width = max((len(r) for r in ids), default=0) or 1
            out = np.stack([np.pad(r, (0, width - len(r)), constant_values=-1) for r in ids]) \
                if ids else np.zeros((0, width), np.int64)
        return lookup._encode(out[0] if scalar else out)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            shape = tuple(input_shape) + ((1,) if len(input_shape) <= 1 else ())
        else:
            shape = tuple(input_shape) + (None,)
        return self._lookup_layer.compute_output_shape(shape)

    def _output_dtype(self) -> str:
        return "int64" if self._output_mode == "int" else "float32"

    def _apply(self, fn, *args, **kwargs):
        result = super()._apply(fn, *args, **kwargs)
        self._lookup_layer._device = self._device
        return result

    # -- config and saving ------------------------------------------------------------------------
    def get_config(self) -> dict:
        lookup = self._lookup_layer
        return {**super().get_config(), "max_tokens": lookup.max_tokens,
                "standardize": self._standardize, "split": self._split,
                "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False,
                "ragged": False, "vocabulary": _listify(lookup.input_vocabulary),
                "idf_weights": _listify(lookup.input_idf_weights), "encoding": self._encoding,
                "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def saving_refusal(self) -> str | None:
        """A callable standardize or split is Python code, which no model file holds."""
        for what in ("standardize", "split"):
            if callable(getattr(self, f"_{what}")):
                return (f"layer {self.name} has a Python function as {what}, which rnnkit's "
                        "files do not hold (nothing is pickled); save the weights instead.")
        return None

    def save_assets(self) -> dict:
        return self._lookup_layer.save_assets()

    def load_assets(self, assets: dict) -> None:
        self._lookup_layer.load_assets(assets)


def _check_choice(where, name, value, allowed) -> None:
    if value is not None and not callable(value) and value not in allowed:
        raise ValueError(f"{where}: expected {name} None, a callable or one of "
                         f"{list(allowed)}, got {value!r}.")


def _fit_length(ids: np.ndarray, length) -> np.ndarray:
    """Cut at the end, or pad with 0 at the end, the last axis to `length` (None: as is)."""
    if length is None:
        return ids
    ids = ids[..., :length]
    pad = [(0, 0)] * (ids.ndim - 1) + [(0, length - ids.shape[-1])]
    return np.pad(ids, pad)


def _listify(value):
    return value.tolist() if isinstance(value, np.ndarray) else value
