"""The vocabulary logic of StringLookup, IntegerLookup and TextVectorization (Keras 3's
IndexLookup), in plain Python and numpy: Keras runs it on TensorFlow lookup tables, rnnkit on a
dict. Outputs are torch tensors (int64 indices, float32 encodings)."""

from __future__ import annotations

import collections
import math
import os

import numpy as np
import torch

from ._checks import check_int
from . import symbolic
from .base import Layer
from .text_encoding import encode, fingerprint_buckets

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}


class IndexLookup(Layer):
    """Maps tokens to indices through a vocabulary: [mask] (output_mode "int" only), the OOV
    indices, then the tokens, most frequent first after `adapt` (ties: the larger token first,
    as Keras sorts them). Not exported: StringLookup and IntegerLookup are its public faces.

    Args:
        max_tokens: the largest vocabulary, special tokens included; None for no limit.
        num_oov_indices: how many indices out-of-vocabulary tokens share (hashed when > 1).
        mask_token: the token mapped to 0 in "int" mode (dropped in the others), or None.
        oov_token: what `invert=True` gives for an unknown index.
        vocabulary: a list or 1-D array of tokens, or the path of a file of one a line.
        idf_weights: the inverse document frequencies ("tf_idf" only).
        invert: map indices back to tokens ("int" only).
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".

    >>> from rnnkit.layers import StringLookup
    >>> StringLookup(vocabulary=["a", "b"])(["b", "z"]).tolist()
    [2, 0]
    """

    _token_kind = "token"

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, **kwargs):
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_input = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(**kwargs)
        where = f"{type(self).__name__} {self.name}"
        output_mode = _ALIASES.get(output_mode, output_mode)
        if output_mode not in _MODES:
            raise ValueError(f"{where}: expected output_mode in {list(_MODES)}, got "
                             f"{output_mode!r}.")
        if max_tokens is not None and check_int(where, "max_tokens", max_tokens) <= 1:
            raise ValueError(f"{where}: expected max_tokens greater than 1, got {max_tokens}.")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{where}: pad_to_max_tokens=True needs max_tokens, got None.")
        check_int(where, "num_oov_indices", num_oov_indices, minimum=0)
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{where}: expected oov_method 'floormod' or 'farmhash', got "
                             f"{oov_method!r}.")
        if salt is not None:
            raise NotImplementedError(f"{where}: salt= (SipHash OOV buckets) is not supported; "
                                      "leave it None.")
        if invert and output_mode != "int":
            raise ValueError(f"{where}: invert=True needs output_mode 'int', got "
                             f"{output_mode!r}.")
        if sparse:
            raise ValueError(f"{where}: sparse=True is not supported (Keras allows it only on "
                             "the TensorFlow backend); rnnkit returns dense torch tensors.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{where}: idf_weights is only for output_mode 'tf_idf', got "
                             f"output_mode {output_mode!r}.")
        if output_mode == "tf_idf" and has_input and idf_weights is None:
            raise ValueError(f"{where}: output_mode 'tf_idf' with a vocabulary needs "
                             "idf_weights as well.")
        self.max_tokens, self.num_oov_indices = max_tokens, int(num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.output_mode, self.sparse = bool(invert), output_mode, False
        self.pad_to_max_tokens, self.oov_method, self.salt = bool(pad_to_max_tokens), oov_method, salt
        self.input_vocabulary = None if isinstance(vocabulary, str) else vocabulary
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = bool(has_input)
        self._tokens: list = []
        self._table: dict = {}
        self.idf_weights: np.ndarray | None = None
        self.reset_state()
        self.built = True
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- the vocabulary ---------------------------------------------------------------------------
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, mask and OOV indices included."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary in index order; without the mask and OOV tokens if asked."""
        special = ([self.mask_token] * self._oov_start_index()
                   + [self.oov_token] * self.num_oov_indices)
        vocab = special + list(self._tokens)
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    def _convert_token(self, token):
        return token

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (a list or 1-D array, or a file of one token a line) and, for
        "tf_idf", its idf weights, as Keras's set_vocabulary does (special tokens at its
        start are recognized and skipped)."""
        where = f"{type(self).__name__} {self.name}.set_vocabulary"
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{where}: idf_weights must be set when output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{where}: idf_weights is only for output_mode 'tf_idf', got "
                             f"output_mode {self.output_mode!r}.")
        if isinstance(vocabulary, (str, os.PathLike)):
            self._set_from_file(where, os.fspath(vocabulary))
            return
        if torch.is_tensor(vocabulary):
            vocabulary = vocabulary.cpu().numpy()
        tokens = [self._convert_token(t) for t in np.asarray(vocabulary).tolist()] \
            if np.ndim(vocabulary) == 1 else None
        if not tokens:
            raise ValueError(f"{where}: expected a non-empty 1-D vocabulary, got "
                             f"{vocabulary!r}.")
        special = self.get_vocabulary()[:self._token_start_index()]
        found_special = tokens[:len(special)] == special
        if found_special:
            tokens = tokens[len(special):]
        self._check_tokens(where, tokens, special)
        self._install(tokens)
        if idf_weights is not None:
            self._set_idf(where, idf_weights, len(special) + len(tokens) if found_special
                          else len(tokens), 0 if found_special else len(special))

    def _check_tokens(self, where, tokens, special) -> None:
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError(f"{where}: the vocabulary repeats {repeated}; give each term once.")
        for token, what in ((self.mask_token, "mask"), (self.oov_token, "OOV")):
            if token is not None and token in tokens and (what == "mask" or self.invert):
                raise ValueError(f"{where}: found the {what} token {token!r} inside the "
                                 "vocabulary; leave the special tokens out, or put them only at "
                                 f"its start in this order: {special}.")
        size = self._token_start_index() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"{where}: the vocabulary has {size} entries, more than "
                             f"max_tokens={self.max_tokens}.")

    def _set_from_file(self, where, path) -> None:
        if not os.path.exists(path):
            raise ValueError(f"{where}: vocabulary file {path!r} does not exist.")
        if self.output_mode == "tf_idf":
            raise ValueError(f"{where}: output_mode 'tf_idf' cannot read its vocabulary from a "
                             "file; pass a list and idf_weights.")
        with open(path, encoding=getattr(self, "encoding", "utf-8")) as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        self._install([self._convert_token(line) for line in lines])

    def _install(self, tokens) -> None:
        start = self._token_start_index()
        self._tokens = list(tokens)
        self._table = {t: start + i for i, t in enumerate(self._tokens)}
        size = self.vocabulary_size()
        if (self.output_mode != "int" and not self.pad_to_max_tokens
                and self._frozen_vocab_size is not None and self._frozen_vocab_size != size
                and self._called):
            raise RuntimeError(f"{self.name}: with output_mode {self.output_mode!r} the "
                               "vocabulary size cannot change after the layer is called (was "
                               f"{self._frozen_vocab_size}, now {size}).")
        self._frozen_vocab_size = size

    def _set_idf(self, where, idf_weights, expected, front) -> None:
        weights = np.asarray(idf_weights.cpu() if torch.is_tensor(idf_weights) else idf_weights,
                             dtype=np.float64)
        if weights.ndim != 1 or len(weights) != expected:
            raise ValueError(f"{where}: expected idf_weights of length {expected} (one per "
                             f"vocabulary entry given), got shape {weights.shape}.")
        back = (self.max_tokens - front - len(weights)
                if self.pad_to_max_tokens and self.max_tokens is not None else 0)
        self.idf_weights = np.pad(weights, (front, back), constant_values=(
            np.average(weights), 0)).astype(np.float32)

    # -- adapt ------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self._counts: collections.Counter = collections.Counter()
        self._doc_counts: collections.Counter = collections.Counter()
        self._num_documents = 0
        self._called = False

    def adapt(self, data, steps=None) -> None:
        """Learn the vocabulary from data: a list or array of tokens (one document per row; a
        1-D one is a column), or an iterable of such batches (Keras also takes a tf.data
        Dataset; any Python iterable of batches, a torch DataLoader included, works here)."""
        self.reset_state()
        if _is_batch_source(data):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            rows = self._as_array(data)
            self.update_state(rows[:, None] if rows.ndim == 1 else rows)
        self.finalize_state()

    def update_state(self, data) -> None:
        """Count the tokens of one batch (a 1-D batch is one document, as in Keras)."""
        if self._has_input_vocabulary:
            raise ValueError(f"{self.name}: cannot adapt a layer whose vocabulary was set with "
                             "vocabulary= or set_vocabulary().")
        rows = data if isinstance(data, list) and data and isinstance(data[0], list) \
            else self._as_array(data)
        if not isinstance(rows, list):
            rows = [rows.reshape(-1).tolist()] if rows.ndim <= 1 else \
                [r.reshape(-1).tolist() for r in rows]
        for row in rows:
            self._counts.update(row)
            if self.output_mode == "tf_idf":
                self._doc_counts.update(set(row))
        self._num_documents += len(rows)

    def finalize_state(self) -> None:
        """The vocabulary from the counts: by count, most frequent first; equal counts in
        descending token order (Keras's lexsort reversed); cut to max_tokens."""
        if self._has_input_vocabulary or not self._counts:
            return
        for special in (self.mask_token, self.oov_token):
            self._counts.pop(special, None)
        ranked = sorted(self._counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens:
            ranked = ranked[:max(0, self.max_tokens - self._token_start_index())]
        tokens = [t for t, _ in ranked]
        self._install(tokens)
        if self.output_mode == "tf_idf":
            n = self._num_documents
            idf = np.array([math.log(1 + n / (1 + self._doc_counts[t])) for t in tokens],
                           dtype=np.float32)
            front = np.full(self._token_start_index(), idf.mean(dtype=np.float32), np.float32)
            back = (np.zeros(self.max_tokens - len(front) - len(idf), np.float32)
                    if self.pad_to_max_tokens and self.max_tokens is not None else [])
            self.idf_weights = np.concatenate([front, idf, back]).astype(np.float32)
        self.reset_state()

    # -- the call ---------------------------------------------------------------------------------
    def forward(self, inputs, *args, **kwargs):
        """Symbolic inputs build the graph as any layer's; data (strings, lists, arrays) goes
        straight to `call`: no shapes to build for, no masks to pass on."""
        if symbolic.is_symbolic((inputs,), kwargs):
            return super().forward(inputs, *args, **kwargs)
        return self.call(inputs)

    def _as_array(self, inputs) -> np.ndarray:
        raise NotImplementedError

    def lookup(self, tokens: np.ndarray) -> np.ndarray:
        """Indices (int64) of an array of tokens: the mask token gives 0 in "int" mode (-1,
        dropped from encodings, in the others); unknown tokens an OOV index."""
        flat = tokens.reshape(-1).tolist()
        oov = self._oov_start_index() if self.num_oov_indices == 1 else -1
        ids = np.fromiter((self._table.get(t, oov) for t in flat), np.int64, len(flat))
        if self.num_oov_indices == 0 and (ids == -1).any():
            missing = sorted({t for t, i in zip(flat, ids) if i == -1}, key=str)[:10]
            raise ValueError(f"{self.name}: with num_oov_indices=0 every input must be in the "
                             f"vocabulary, found OOV values {missing}; consider "
                             "num_oov_indices=1.")
        if self.num_oov_indices > 1:
            unknown = ids == -1
            if unknown.any():
                ids[unknown] = self._oov_start_index() + self._oov_buckets(
                    [t for t, u in zip(flat, unknown) if u])
        if self.mask_token is not None:
            masked = np.fromiter((t == self.mask_token for t in flat), bool, len(flat))
            ids[masked] = 0 if self.output_mode == "int" else -1
        return ids.reshape(tokens.shape)

    def _oov_buckets(self, tokens) -> np.ndarray:
        return fingerprint_buckets([str(t) for t in tokens], self.num_oov_indices)

    def _depth(self) -> int:
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self._frozen_vocab_size is None or not self._tokens:
            raise RuntimeError(f"{self.name}: with output_mode {self.output_mode!r} and "
                               "pad_to_max_tokens=False the vocabulary must be set before the "
                               "call; pass vocabulary= or call adapt() first.")
        return self._frozen_vocab_size

    def _encode(self, ids: np.ndarray) -> torch.Tensor:
        """The output of `ids` in the layer's output_mode, on the layer's device."""
        if self.output_mode == "int":
            out = torch.from_numpy(ids)
        else:
            self._called = True
            out = encode(ids, self.output_mode, self._depth(), self.idf_weights, self.name)
        return out.to(self._device) if self._device is not None else out

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode == "one_hot" and len(shape) > 1 and shape[-1] == 1:
            return shape[:-1] + (depth,)
        return shape + (depth,) if self.output_mode == "one_hot" else shape[:-1] + (depth,)

    def _output_dtype(self) -> str:
        return "int64" if self.output_mode == "int" else "float32"

    def get_config(self) -> dict:
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "idf_weights": _listify(self.input_idf_weights),
                "vocabulary": _listify(self.input_vocabulary),
                "vocabulary_size": self._frozen_vocab_size, "oov_method": self.oov_method,
                "salt": self.salt}

    # -- saving: what Keras keeps in its asset file and variables ---------------------------------
    def save_assets(self) -> dict:
        """{file name: text} that a model file keeps beside the config: the learned
        vocabulary (Keras's vocabulary.txt) and idf weights (Keras keeps them as a variable)."""
        assets = {}
        if self.input_vocabulary is None and self._tokens:
            assets["vocabulary.txt"] = "\n".join(str(w) for w in self.get_vocabulary())
        if self.idf_weights is not None:
            assets["idf_weights.json"] = repr([float(w) for w in self.idf_weights])
        return assets

    def load_assets(self, assets: dict) -> None:
        if "idf_weights.json" in assets:
            import json
            self.idf_weights = np.asarray(json.loads(assets["idf_weights.json"]), np.float32)
        if "vocabulary.txt" in assets and self.input_vocabulary is None:
            lines = assets["vocabulary.txt"].splitlines()
            tokens = [self._convert_token(t) for t in lines][self._token_start_index():]
            self._install(tokens)


def _listify(value):
    if torch.is_tensor(value):
        value = value.cpu().numpy()
    return value.tolist() if isinstance(value, np.ndarray) else value


def _is_batch_source(data) -> bool:
    """An iterable of batches (generator, DataLoader), not one array or list of tokens."""
    return hasattr(data, "__iter__") and not isinstance(
        data, (list, tuple, np.ndarray, str, bytes, torch.Tensor))
