"""What the scripts that record Keras's numbers share (they run with Keras 3 on JAX, no torch):
plain-JSON values, per-case random states, summary text at a chosen width, and .keras archives
rewritten with deflate."""

import contextlib
import io
import os
import re
import zipfile
import zlib

import numpy as np

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def jsonable(obj):
    """Recursively convert Keras / numpy values to plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "shape"):  # numpy / jax arrays
        arr = np.asarray(obj)
        return arr.item() if arr.ndim == 0 else arr.tolist()
    return repr(obj)


def case_rng(name):
    """A RandomState whose seed depends only on the case name."""
    return np.random.RandomState(zlib.crc32(name.encode("utf-8")) % (2**31))


def raw_summary(model, columns, **kwargs):
    """model.summary()'s output with the terminal `columns` wide (Keras and rich read COLUMNS)."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = columns
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            model.summary(**kwargs)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return buf.getvalue()


def summary_text(model, columns="120", **kwargs):
    """The summary without terminal colour codes."""
    return ANSI_RE.sub("", raw_summary(model, columns, **kwargs))


def deflate(path) -> None:
    """Rewrite a zip archive's members with deflate (Keras stores them uncompressed)."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())
