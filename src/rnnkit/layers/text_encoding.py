"""Encodings of lookup indices (Keras's encode_categorical_inputs) and the string hash that
spreads out-of-vocabulary tokens over several OOV indices (TensorFlow's
`to_hash_bucket_fast`: FarmHash Fingerprint64 of the UTF-8 bytes, modulo the bucket count)."""

from __future__ import annotations

import numpy as np
import torch

_M = (1 << 64) - 1
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def encode(ids: np.ndarray, mode: str, depth: int, idf_weights, where: str) -> torch.Tensor:
    """float32 counts of the indices over the last axis ("multi_hot": 0/1, "count", "tf_idf":
    counts times idf weights) or of each index ("one_hot"); indices outside [0, depth) (the
    dropped mask token) count for nothing. Shapes as Keras's: a scalar is one sample;
    "one_hot" encodes each index, replacing a last axis of size 1."""
    ids = np.asarray(ids, np.int64)
    if ids.ndim == 0:
        ids = ids[None]
    if mode == "one_hot" and not (ids.ndim > 1 and ids.shape[-1] == 1):
        ids = ids[..., None]
    if mode in ("count", "tf_idf") and ids.ndim > 2:
        raise ValueError(f"{where}: output_mode {mode!r} takes inputs of rank 1 or 2, got "
                         f"shape {ids.shape}.")
    rows = ids.reshape(-1, ids.shape[-1])
    out = np.zeros((rows.shape[0], depth), np.float32)
    r, c = np.nonzero((rows >= 0) & (rows < depth))
    np.add.at(out, (r, rows[r, c]), 1.0)
    if mode in ("multi_hot", "one_hot"):
        out = np.minimum(out, 1.0)
    elif mode == "tf_idf":
        if idf_weights is None:
            raise ValueError(f"{where}: output_mode 'tf_idf' needs idf weights; adapt the layer "
                             "or pass idf_weights=.")
        out = out * np.asarray(idf_weights, np.float32)[:depth]
    return torch.from_numpy(out.reshape(ids.shape[:-1] + (depth,)))


def fingerprint_buckets(tokens, buckets: int) -> np.ndarray:
    """Fingerprint64(utf-8 bytes) % buckets for each token, as TensorFlow buckets strings."""
    return np.array([fingerprint64(t.encode("utf-8")) % buckets for t in tokens], np.int64)


def _ror(v: int, s: int) -> int:
    return v if s == 0 else ((v >> s) | (v << (64 - s))) & _M


def _u64(b: bytes, i: int) -> int:
    return int.from_bytes(b[i:i + 8], "little")


def _u32(b: bytes, i: int) -> int:
    return int.from_bytes(b[i:i + 4], "little")


def _mix16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def fingerprint64(s: bytes) -> int:
    """FarmHash's Fingerprint64 (farmhashna::Hash64) of up to 64 bytes."""
    n = len(s)
    mul = (_K2 + n * 2) & _M
    if n > 64:
        raise NotImplementedError(f"hashing an out-of-vocabulary token of {n} bytes (over 64) "
                                  "into several OOV indices is not supported; use "
                                  "num_oov_indices=1 or shorter tokens.")
    if n > 32:
        a, b = (_u64(s, 0) * _K2) & _M, _u64(s, 8)
        c, d = (_u64(s, n - 8) * mul) & _M, (_u64(s, n - 16) * _K2) & _M
        y = (_ror((a + b) & _M, 43) + _ror(c, 30) + d) & _M
        z = _mix16(y, (a + _ror((b + _K2) & _M, 18) + c) & _M, mul)
        e, f = (_u64(s, 16) * mul) & _M, _u64(s, 24)
        g, h = ((y + _u64(s, n - 32)) * mul) & _M, ((z + _u64(s, n - 24)) * mul) & _M
        return _mix16((_ror((e + f) & _M, 43) + _ror(g, 30) + h) & _M,
                      (e + _ror((f + a) & _M, 18) + g) & _M, mul)
    if n > 16:
        a, b = (_u64(s, 0) * _K1) & _M, _u64(s, 8)
        c, d = (_u64(s, n - 8) * mul) & _M, (_u64(s, n - 16) * _K2) & _M
        return _mix16((_ror((a + b) & _M, 43) + _ror(c, 30) + d) & _M,
                      (a + _ror((b + _K2) & _M, 18) + c) & _M, mul)
    if n >= 8:
        a, b = (_u64(s, 0) + _K2) & _M, _u64(s, n - 8)
        c = (_ror(b, 37) * mul + a) & _M
        d = ((_ror(a, 25) + b) * mul) & _M
        return _mix16(c, d, mul)
    if n >= 4:
        return _mix16((n + (_u32(s, 0) << 3)) & _M, _u32(s, n - 4), mul)
    if n > 0:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        v = ((y * _K2) ^ (z * _K0)) & _M
        return ((v ^ (v >> 47)) * _K2) & _M
    return _K2
