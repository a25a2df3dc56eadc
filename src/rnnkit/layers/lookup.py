"""StringLookup and IntegerLookup: Keras 3's lookup layers on Python strings, numpy arrays and
integers (Keras runs them on TensorFlow tables; rnnkit on a dict, with no TensorFlow)."""

from __future__ import annotations

import numpy as np
import torch

from .index_lookup import IndexLookup

__all__ = ["StringLookup", "IntegerLookup"]


def string_array(inputs, encoding: str, where: str) -> np.ndarray:
    """An object array of Python str from a str, a (nested) list of them, or a numpy array of
    dtype str, bytes or object; bytes are decoded with `encoding`."""
    if torch.is_tensor(inputs):
        raise TypeError(f"{where}: expected strings (a str, a list or a numpy array of them), "
                        f"got a torch tensor of dtype {inputs.dtype}.")
    try:
        arr = np.asarray(inputs, dtype=object)
    except ValueError as exc:
        raise ValueError(f"{where}: expected a rectangular array of strings; ragged inputs "
                         "(ragged=True in Keras) are not supported, pad them first.") from exc
    flat = arr.reshape(-1)
    for i, v in enumerate(flat):
        if isinstance(v, (bytes, np.bytes_)):
            flat[i] = bytes(v).decode(encoding)
        elif isinstance(v, (str, np.str_)):
            flat[i] = str(v)
        else:
            raise TypeError(f"{where}: expected strings, got {type(v).__name__} {v!r}.")
    return flat.reshape(arr.shape)


class StringLookup(IndexLookup):
    """Maps strings to integer indices through a vocabulary (Keras 3's StringLookup).

    The vocabulary is [mask_token] (when set, "int" mode only), `num_oov_indices` OOV entries,
    then the terms: given as `vocabulary=` or learned by `adapt` (most frequent first).
    Inputs are a str, a (nested) list of str, or a numpy array of dtype str, bytes or object;
    outputs are torch tensors (int64 indices, float32 encodings); `invert=True` maps indices
    (ints, arrays or int tensors) back to a numpy array of str.

    Args:
        max_tokens: the largest vocabulary, special entries included; None for no limit.
        num_oov_indices: OOV indices; unknown strings are hashed (FarmHash64, as TensorFlow
            does) over them when > 1; 0 makes an unknown string an error.
        mask_token: mapped to 0 in "int" mode, dropped in the others; None for no mask.
        oov_token: the term `get_vocabulary` and `invert` show for OOV indices.
        vocabulary: a list or 1-D array of strings, or the path of a file of one a line.
        idf_weights: inverse document frequencies for "tf_idf" with a given vocabulary.
        invert: map indices to strings instead.
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
        pad_to_max_tokens: encodings have `max_tokens` columns whatever the vocabulary's size.
        sparse: must be False (sparse outputs are TensorFlow's only).
        encoding: the text encoding of bytes inputs.

    >>> layer = StringLookup(vocabulary=["a", "b", "c"])
    >>> layer(np.array([["a", "c"], ["d", "b"]])).tolist()
    [[1, 3], [0, 2]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, **kwargs)

    def _convert_token(self, token):
        return token.decode(self.encoding) if isinstance(token, bytes) else str(token)

    def _as_array(self, inputs) -> np.ndarray:
        return string_array(inputs, self.encoding, self.name)

    def call(self, inputs):
        if self.invert:
            ids = _index_array(inputs, self.name)
            vocab = self.get_vocabulary()
            out = np.array([vocab[i] if 0 <= i < len(vocab) else self.oov_token
                            for i in ids.reshape(-1).tolist()], dtype=object)
            if self.mask_token is not None:
                out[ids.reshape(-1) == 0] = self.mask_token
            return out.reshape(ids.shape).astype(str)
        return self._encode(self.lookup(self._as_array(inputs)))

    def _output_dtype(self) -> str:
        return "string" if self.invert else super()._output_dtype()

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Maps integers to contiguous indices through a vocabulary (Keras 3's IntegerLookup).

    Args:
        max_tokens: the largest vocabulary, special entries included; None for no limit.
        num_oov_indices: OOV indices; unknown values go to `value % num_oov_indices` when > 1
            (oov_method "floormod"; "farmhash" hashes their decimal text).
        mask_token: an int mapped to 0 in "int" mode, dropped in the others; None for none.
        oov_token: the value `invert=True` gives for OOV indices (default -1).
        vocabulary: a list or 1-D array of ints, or the path of a file of one a line.
        vocabulary_dtype: must be "int64", as in Keras.
        idf_weights: inverse document frequencies for "tf_idf" with a given vocabulary.
        invert: map indices to vocabulary values instead.
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".

    >>> IntegerLookup(vocabulary=[12, 36])(torch.tensor([12, 7, 36])).tolist()
    [1, 0, 2]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(f"IntegerLookup: only vocabulary_dtype='int64' is supported, as in "
                             f"Keras; got {vocabulary_dtype!r}.")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
                         oov_method=oov_method, salt=salt, name=name, **kwargs)
        self.vocabulary_dtype = "int64"

    def _convert_token(self, token):
        return int(token)

    def _as_array(self, inputs) -> np.ndarray:
        return _index_array(inputs, self.name)

    def lookup(self, tokens: np.ndarray) -> np.ndarray:
        return super().lookup(tokens.astype(object))

    def _oov_buckets(self, tokens) -> np.ndarray:
        if self.oov_method == "floormod":
            return np.mod(np.asarray(tokens, np.int64), self.num_oov_indices)
        return super()._oov_buckets(tokens)

    def call(self, inputs):
        ids = self._as_array(inputs)
        if self.invert:
            vocab = self.get_vocabulary()
            flat = [vocab[i] if 0 <= i < len(vocab) else self.oov_token
                    for i in ids.reshape(-1).tolist()]
            out = np.array(flat, np.int64).reshape(ids.shape)
            if self.mask_token is not None:
                out[ids == 0] = self.mask_token
            return torch.from_numpy(out)
        return self._encode(self.lookup(ids))

    def get_config(self):
        config = super().get_config()
        config["vocabulary_dtype"] = self.vocabulary_dtype
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config


def _index_array(inputs, where: str) -> np.ndarray:
    """int64 numpy array from an int, a list, a numpy array or a torch tensor of integers."""
    if torch.is_tensor(inputs):
        inputs = inputs.detach().cpu().numpy()
    arr = np.asarray(inputs)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{where}: expected integers, got an array of dtype {arr.dtype}.")
    return arr.astype(np.int64)
