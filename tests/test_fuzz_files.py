"""Damaged and hostile model files. Loading one either gives exactly the saved numbers or raises
the documented `ModelFileError` (a ValueError) naming the file: never another exception, never
other numbers silently. A zip that declares gigabytes, or hides them behind a small declared
size, is never inflated.

Truncations and bit flips are drawn by hypothesis, derandomized (the same cases on every run)
and few; member deletions, renames and bombs are enumerated.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import DATA
from rnnkit import layers
from rnnkit.interop import load_keras
from rnnkit.models import Sequential, load_model
from rnnkit.models.saving import ModelFileError

KERAS = DATA / "keras_files"
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _model():
    model = Sequential([layers.Input((None, 2)), layers.LSTM(3, return_sequences=True),
                        layers.GRU(2), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((4, 3, 2)).astype("float32")
    model.fit(x, x.sum(axis=(1, 2))[:, None], epochs=1, batch_size=2, verbose=0)
    return model


def _state(model) -> list[bytes]:
    """Everything a load restores, as bytes: weights, and the optimizer's step and slots."""
    state = [w.tobytes() for w in model.get_weights()]
    if model.compiled:
        opt = model.optimizer
        state.append(str(opt.iterations).encode())
        slots = getattr(opt, "state", {})
        state += [v.numpy().tobytes() for p in model.weights for v in slots.get(p, {}).values()]
    return state


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """name -> (file bytes, a function loading a path, the state loading the intact file gives)."""
    folder = tmp_path_factory.mktemp("originals")
    model = _model()
    model.save(folder / "model.rnnkit")
    model.save_weights(folder / "weights.safetensors")

    def into_model(path):
        target = Sequential([layers.Input((None, 2)), layers.LSTM(3, return_sequences=True),
                             layers.GRU(2), layers.Dense(1)])
        target.load_weights(path)
        return target

    loaders = {"model.rnnkit": (folder / "model.rnnkit", load_model),
               "weights.safetensors": (folder / "weights.safetensors", into_model),
               "masking.keras": (KERAS / "masking.keras", load_keras),
               "masking.h5": (KERAS / "masking.h5", load_keras),
               "tf2_stack.h5": (KERAS / "tf2_stack.h5", load_keras)}
    return {name: (path.read_bytes(), load, _state(load(path)))
            for name, (path, load) in loaders.items()}


def _outcome(path, load):
    """The loaded state, or None where the documented error names the file."""
    try:
        return _state(load(path))
    except ModelFileError as err:
        assert isinstance(err, ValueError) and str(err).startswith(f"{path}: "), str(err)
        return None


# rnnkit's files carry a checksum per tensor and .keras members a zip CRC-32: a change must be
# refused or change nothing (a flip in bytes nothing reads, such as a zip time stamp). A legacy
# .h5 file has no checksum: a flip in raw float data that still parses cannot be detected, so
# there loading must only raise the documented error or succeed.
EXACT = {"model.rnnkit": True, "weights.safetensors": True, "masking.keras": True,
         "masking.h5": False, "tf2_stack.h5": False}


@pytest.mark.parametrize("name", sorted(EXACT))
@FUZZ
@given(data=st.data())
def test_a_flipped_bit_is_refused_or_changes_nothing(tmp_path, originals, name, data):
    original, load, state = originals[name]
    bit = data.draw(st.integers(0, len(original) * 8 - 1), label="bit")
    damaged = bytearray(original)
    damaged[bit // 8] ^= 1 << bit % 8
    path = tmp_path / f"flipped-{name}"
    path.write_bytes(bytes(damaged))
    got = _outcome(path, load)
    if got is not None and EXACT[name]:
        assert got == state, "loaded different numbers without an error"


@pytest.mark.parametrize("name", sorted(EXACT))
@FUZZ
@given(data=st.data())
def test_a_truncated_file_is_refused(tmp_path, originals, name, data):
    original = originals[name][0]
    cut = data.draw(st.integers(0, len(original) - 1), label="cut")
    path = tmp_path / f"cut-{name}"
    path.write_bytes(original[:cut])
    assert _outcome(path, originals[name][1]) is None


# -- zip members deleted, renamed, or replaced by bombs -----------------------------------------
def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _deflated_zeros(mib: int) -> bytes:
    """A raw deflate stream of `mib` MiB of zeros, about 1 KiB per MiB: one fully flushed block,
    repeated (each starts afresh, so each is the same bytes), then the final empty block."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    return block * mib + c.flush()


def _zip(members: dict[str, tuple[bytes, int, int]]) -> bytes:
    """A zip of deflated members written by hand, so that a member's declared size and CRC-32
    can lie: name -> (deflate stream, declared size, CRC-32)."""
    out, central = b"", b""
    for name, (stream, size, crc) in members.items():
        raw = name.encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc,
                               len(stream), size, len(raw), 0, 0, 0, 0, 0, len(out)) + raw
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(stream), size,
                           len(raw), 0) + raw + stream
    return out + central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members),
                                       len(members), len(central), len(out), 0)


def _members(data: bytes) -> dict[str, tuple[bytes, int, int]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: (_deflate(zf.read(i)), i.file_size, i.CRC) for i in zf.infolist()}


def test_the_zip_writer_and_the_bomb_are_what_they_say():
    stream = _deflated_zeros(4)
    assert zlib.decompress(stream, -15) == bytes(4 << 20)
    assert len(_deflated_zeros(2048)) < 2_200_000
    data = b"rnnkit" * 100
    with zipfile.ZipFile(io.BytesIO(_zip({"a": (_deflate(data), len(data),
                                                               zlib.crc32(data))}))) as zf:
        assert zf.read("a") == data


ZIPS = ["model.rnnkit", "masking.keras"]
MEMBERS = [(name, member) for name, members in
           [("model.rnnkit", ["metadata.json", "config.json", "model.safetensors",
                              "optimizer.safetensors"]),
            ("masking.keras", ["metadata.json", "config.json", "model.weights.h5"])]
           for member in members]


@pytest.mark.parametrize("name, member", MEMBERS)
@pytest.mark.parametrize("change", ["delete", "rename", "declared 2 GiB", "hidden 2 GiB"])
def test_members_deleted_renamed_or_replaced_by_bombs(tmp_path, originals, name, member, change):
    """A bomb is 2 MB of deflated zeros that inflate to 2 GiB, declared as such or declared as
    the member's own size: it is refused without inflating more than a few MiB (before, zipfile
    inflated all 2 GiB into memory)."""
    original, load, state = originals[name]
    members = _members(original)
    stream, size, crc = members.pop(member)
    if change == "rename":
        members[member.upper()] = (stream, size, crc)
    elif change == "declared 2 GiB":
        members[member] = (_deflated_zeros(2048), 2 << 30, 0)
    elif change == "hidden 2 GiB":
        members[member] = (_deflated_zeros(2048), size, crc)
    path = tmp_path / f"changed-{name}"
    path.write_bytes(_zip(members))
    tracemalloc.start()
    try:
        got = _outcome(path, load)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"{peak:,} bytes allocated"
    if got is not None:  # load_keras never reads Keras's metadata.json
        assert (name, member) == ("masking.keras", "metadata.json") and got == state
