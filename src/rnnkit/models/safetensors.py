"""The safetensors file format, read and written with the standard library.

Layout: an 8-byte little-endian header length, a JSON header mapping each name to its dtype,
shape and byte range, then the raw little-endian data. No code is ever executed on load.
"""

from __future__ import annotations

import json
import struct

import numpy as np

_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
           "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}


def dumps(arrays: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, array in arrays.items():
        array = np.asarray(array)  # tobytes() writes C order; ascontiguousarray would make 0-d 1-d
        if array.dtype not in _CODES:
            raise TypeError(f"safetensors: cannot store {name!r} of dtype {array.dtype}.")
        raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _CODES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def loads(blob: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays in file order, metadata)."""
    if len(blob) < 8:
        raise ValueError("safetensors: the data is too short to hold a header.")
    (size,) = struct.unpack("<Q", blob[:8])
    if 8 + size > len(blob):
        raise ValueError("safetensors: the header runs past the end of the data.")
    header = json.loads(blob[8:8 + size])
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(blob)[8 + size:]
    arrays = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        arrays[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(info["shape"]).copy()
    return arrays, metadata
