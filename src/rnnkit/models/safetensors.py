"""The safetensors file format, read and written with the standard library.

Layout: an 8-byte little-endian header length, a JSON header mapping each name to its dtype,
shape and byte range, then the raw little-endian data. No code is ever executed on load.

`loads` checks the header against the data before it copies anything, as the safetensors
library does: every tensor's byte range holds exactly dtype size × shape bytes, and the ranges
follow one another from the first byte of the data to its last, with no gap and no overlap.
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np

_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
           "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}


def raw(array: np.ndarray) -> bytes:
    """The bytes a tensor is stored as: C order, little-endian."""
    array = np.asarray(array)  # tobytes() writes C order; ascontiguousarray would make 0-d 1-d
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def dumps(arrays: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, array in arrays.items():
        array = np.asarray(array)
        if array.dtype not in _CODES:
            raise TypeError(f"safetensors: cannot store {name!r} of dtype {array.dtype}.")
        data = raw(array)
        header[name] = {"dtype": _CODES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def _entry(name, info) -> tuple[int, int, np.dtype, list[int]]:
    """(start, end, dtype, shape) of one header entry, each checked."""
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise ValueError(f"tensor {name!r}: expected an entry with dtype, shape and data_offsets, "
                         f"got {info!r}.")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if code not in _DTYPES:
        raise ValueError(f"tensor {name!r}: unknown dtype {code!r}; expected one of "
                         f"{', '.join(_DTYPES)}.")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"tensor {name!r}: expected a shape of sizes >= 0, got {shape!r}.")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(type(n) is int for n in offsets) or not 0 <= offsets[0] <= offsets[1]):
        raise ValueError(f"tensor {name!r}: expected data_offsets [start, end] with "
                         f"0 <= start <= end, got {offsets!r}.")
    dtype = np.dtype(_DTYPES[code]).newbyteorder("<")
    size = math.prod(shape) * dtype.itemsize
    if offsets[1] - offsets[0] != size:
        raise ValueError(f"tensor {name!r}: shape {shape} of {code} takes {size:,} bytes, but its "
                         f"data_offsets {offsets} hold {offsets[1] - offsets[0]:,}.")
    return offsets[0], offsets[1], dtype, shape


def _header(blob) -> tuple[dict, int]:
    """(the JSON header, where the data starts)."""
    if len(blob) < 8:
        raise ValueError(f"{len(blob)} bytes are too few to hold a safetensors header.")
    (size,) = struct.unpack("<Q", bytes(blob[:8]))
    if size > len(blob) - 8:
        raise ValueError(f"the header length says {size:,} bytes, but only {len(blob) - 8:,} "
                         "follow it.")
    try:
        header = json.loads(bytes(blob[8:8 + size]).decode("utf-8"))
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f"the header is not valid JSON ({err}).") from None
    if not isinstance(header, dict):
        raise ValueError(f"expected the header to be a JSON object, got {type(header).__name__}.")
    return header, 8 + size


def loads(blob: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays in file order, metadata); ValueError, saying what is wrong, for data that is not
    a well-formed safetensors file."""
    header, start = _header(blob)
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"expected __metadata__ to map names to strings, got {metadata!r}.")
    body = memoryview(blob)[start:]
    entries = {name: _entry(name, info) for name, info in header.items()}
    end = 0
    for name, (first, last, _, _) in sorted(entries.items(), key=lambda item: item[1][:2]):
        if first != end:
            raise ValueError(f"tensor {name!r} starts at data byte {first:,}, expected {end:,} "
                             "(tensors follow one another with no gap or overlap).")
        end = last
    if end != len(body):
        raise ValueError(f"the tensors take {end:,} bytes, but {len(body):,} follow the header.")
    arrays = {name: np.frombuffer(body[first:last], dtype=dtype).reshape(shape).copy()
              for name, (first, last, dtype, shape) in entries.items()}
    return arrays, metadata
