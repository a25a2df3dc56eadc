"""model.save / load_model / save_weights: config, weights and compile settings survive; damaged
files are refused with one error naming the file; files are written through symlinks, keeping
their mode."""

import hashlib
import json
import os
import stat
import struct
import zipfile

import numpy as np
import pytest
import torch

from rnnkit import layers, losses
from rnnkit.layers import GRU, LSTM, Dense, SimpleRNN
from helpers import DATA
from rnnkit.models import Sequential, load_model, saving
from rnnkit.models import safetensors as st
from rnnkit.models.saving import ModelFileError


def _model():
    model = Sequential([layers.Input((None, 2)), LSTM(6, return_sequences=True, go_backwards=True),
                        GRU(5, reset_after=False, recurrent_activation="hard_sigmoid",
                            return_sequences=True),
                        SimpleRNN(4, activation="relu", use_bias=False),
                        layers.Dropout(0.1), Dense(3, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_save_load_round_trip(tmp_path):
    model = _model()
    x = np.random.default_rng(0).standard_normal((4, 5, 2)).astype("float32")
    path = tmp_path / "model.rnnkit"
    model.save(path)
    loaded = load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    assert loaded.get_config() == model.get_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.compiled and type(loaded.optimizer).__name__ == "RMSprop"
    assert loaded._metric_ids == ["accuracy"]
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.safetensors",
                                         "optimizer.safetensors"]
        assert json.loads(zf.read("metadata.json"))["format"] == "rnnkit"
        assert json.loads(zf.read("metadata.json"))["format_version"] == 3


def test_weights_file_is_standard_safetensors(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = _model()
    path = tmp_path / "w.safetensors"
    model.save_weights(path)
    theirs = safetensors_torch.load_file(str(path))
    assert list(theirs) == ["lstm/kernel", "lstm/recurrent_kernel", "lstm/bias", "gru/kernel",
                            "gru/recurrent_kernel", "gru/bias", "simple_rnn/kernel",
                            "simple_rnn/recurrent_kernel", "dense/kernel", "dense/bias"]
    for (name, t), w in zip(theirs.items(), model.get_weights()):
        np.testing.assert_array_equal(t.numpy(), w)
    # and rnnkit reads what the safetensors library writes
    safetensors_torch.save_file({k: v + 1 for k, v in theirs.items()}, str(path))
    model.load_weights(path)
    for t, w in zip(theirs.values(), model.get_weights()):
        np.testing.assert_array_equal(t.numpy() + 1, w)


def test_safetensors_round_trip_dtypes():
    arrays = {"a": np.arange(6, dtype=np.float64).reshape(2, 3), "b": np.array([1, 2], np.int64),
              "c": np.zeros((0,), np.float32)}
    back, meta = st.loads(st.dumps(arrays, {"k": "v"}))
    assert meta == {"k": "v"}
    for k in arrays:
        np.testing.assert_array_equal(back[k], arrays[k])
        assert back[k].dtype == arrays[k].dtype


def test_load_weights_into_mismatched_model_changes_nothing(tmp_path):
    path = tmp_path / "w.safetensors"
    _model().save_weights(path)
    other = Sequential([layers.Input((None, 2)), LSTM(6), Dense(3)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="do not match the model"):
        other.load_weights(path)
    _assert_weights_are(other, before)


def _assert_weights_are(model, expected):
    """A refused load changed nothing."""
    for a, b in zip(model.get_weights(), expected):
        np.testing.assert_array_equal(a, b)


def test_save_refuses_to_overwrite_when_asked(tmp_path):
    path = tmp_path / "m.rnnkit"
    _model().save(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        _model().save(path, overwrite=False)
    assert path.read_bytes() == before


def test_failed_save_keeps_the_earlier_file(tmp_path, monkeypatch):
    path = tmp_path / "m.rnnkit"
    model = _model()
    model.save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.rnnkit"]


def test_load_model_rejects_other_files(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not an rnnkit model file"):
        load_model(junk)
    keras_like = tmp_path / "model.keras"  # read as Keras files are read: its weights are junk
    with zipfile.ZipFile(keras_like, "w") as zf:
        zf.writestr("config.json", "{}")
        zf.writestr("model.weights.h5", b"")
    with pytest.raises(ModelFileError, match="model.keras: .*file signature not found"):
        load_model(keras_like)


def test_loaded_model_keeps_training_like_the_original(tmp_path):
    torch.manual_seed(0)
    model = Sequential([layers.Input((None, 1)), GRU(4), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).standard_normal((8, 5, 1)).astype("float32")
    y = x.sum(axis=1)
    model.save(tmp_path / "m.rnnkit")
    loaded = load_model(tmp_path / "m.rnnkit")
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_weights_are_keyed_by_position_not_layer_name(tmp_path):
    """Like Keras's files: the k-th layer of a class is "<snake class>_k" whatever its name, so
    weights load into a second model built the same way in the same session."""
    def build():
        return Sequential([layers.Input((None, 2)), LSTM(3, return_sequences=True), LSTM(2),
                          Dense(1)])

    first, second = build(), build()
    assert [l.name for l in second.layers] == ["lstm_2", "lstm_3", "dense_1"]
    first.save_weights(tmp_path / "w.safetensors")
    second.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(second.get_weights(), first.get_weights()):
        np.testing.assert_array_equal(a, b)
    arrays, meta = st.loads((tmp_path / "w.safetensors").read_bytes())
    assert list(arrays)[:4] == ["lstm/kernel", "lstm/recurrent_kernel", "lstm/bias", "lstm_1/kernel"]
    assert json.loads(meta["layer_names"]) == {"lstm": "lstm", "lstm_1": "lstm_1", "dense": "dense"}


def test_reads_version_1_files():
    """tests/data/model_v1.zip (a model file, named .zip because *.rnnkit is git-ignored) and
    weights_v1.safetensors were written by rnnkit 0.1.0: format version 1, weights keyed by
    layer name, no optimizer state."""
    data = os.path.join(os.path.dirname(__file__), "data")
    with zipfile.ZipFile(os.path.join(data, "model_v1.zip")) as zf:
        raw, _ = st.loads(zf.read("model.safetensors"))
    assert list(raw)[0] == "encoder/kernel"
    model = load_model(os.path.join(data, "model_v1.zip"))
    assert [l.name for l in model.layers] == ["encoder", "gru", "dense"]
    for got, want in zip(model.get_weights(), raw.values()):
        np.testing.assert_array_equal(got, want)
    assert model.compiled and type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.iterations == 0 and model._metric_ids == ["mae"]
    model.set_weights([w * 0 for w in model.get_weights()])
    model.load_weights(os.path.join(data, "weights_v1.safetensors"))
    for got, want in zip(model.get_weights(), raw.values()):
        np.testing.assert_array_equal(got, want)


def test_save_load_then_training_continues_exactly(tmp_path):
    """Adam's moments and step count travel with the model: training after a save/load break
    gives the same weights, bit for bit, as training straight through."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 5, 1)).astype("float32")
    y = x.sum(axis=1)
    model = Sequential([layers.Input((None, 1)), LSTM(4, return_sequences=True), GRU(3), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    loaded = load_model(tmp_path / "m.rnnkit")
    assert loaded.optimizer.iterations == model.optimizer.iterations == 8
    for _ in range(5):
        model.train_on_batch(x, y)
        loaded.train_on_batch(x, y)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with zipfile.ZipFile(tmp_path / "m.rnnkit") as zf:
        slots, _ = st.loads(zf.read("optimizer.safetensors"))
    assert int(slots["iterations"]) == 8 and "lstm/kernel/m" in slots and "dense/bias/v" in slots


@pytest.mark.parametrize("loss", [
    "mse", losses.MeanSquaredError(), losses.Huber(delta=2.0),
    losses.BinaryCrossentropy(from_logits=True), losses.mean_absolute_error])
def test_loss_objects_reload_compiled(tmp_path, loss):
    model = Sequential([layers.Input((None, 1)), GRU(2), Dense(1)])
    model.compile(optimizer="sgd", loss=loss)
    model.save(tmp_path / "m.rnnkit")
    loaded = load_model(tmp_path / "m.rnnkit")
    assert loaded.compiled
    y_true, y_pred = torch.tensor([[1.0], [0.0]]), torch.tensor([[3.0], [-0.5]])
    assert loaded.loss(y_true, y_pred) == model.loss(y_true, y_pred)
    assert loaded.loss.get_config() == model.loss.get_config()


def test_model_with_a_function_initializer_saves_and_names_it_on_load(tmp_path):
    def my_init(shape, dtype=None):
        return torch.zeros(shape, dtype=dtype)

    model = Sequential([layers.Input((None, 1)), LSTM(2, kernel_initializer=my_init), Dense(1)])
    assert model.layers[0].get_config()["kernel_initializer"] == "my_init"
    model.save(tmp_path / "m.rnnkit")
    with pytest.raises(ValueError, match="lstm: unknown initializer 'my_init'"):
        load_model(tmp_path / "m.rnnkit")


# -- damaged files, checksums, limits -----------------------------------------------------------
def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _rezip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> None:
    """A model file with these members, each with a CRC-32 that matches it."""
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _flip_tensor_byte(blob: bytes, name: str) -> bytes:
    """The safetensors data with one bit flipped in the first byte of tensor `name`."""
    (size,) = struct.unpack("<Q", blob[:8])
    start = 8 + size + json.loads(blob[8:8 + size])[name]["data_offsets"][0]
    return blob[:start] + bytes([blob[start] ^ 0x01]) + blob[start + 1:]


def test_reads_version_2_files():
    """tests/data/model_v2.zip and weights_v2.safetensors (tests/data/make_rnnkit_v2_files.py):
    weights keyed by position, Adam's state after two steps, no checksums."""
    with zipfile.ZipFile(DATA / "model_v2.zip") as zf:
        assert json.loads(zf.read("metadata.json"))["format_version"] == 2
        raw, meta = st.loads(zf.read("model.safetensors"))
        slots, _ = st.loads(zf.read("optimizer.safetensors"))
    assert "checksums" not in meta and list(raw)[0] == "lstm/kernel"
    model = load_model(DATA / "model_v2.zip")
    for got, want in zip(model.get_weights(), raw.values()):
        np.testing.assert_array_equal(got, want)
    assert model.optimizer.iterations == 2
    np.testing.assert_array_equal(model.optimizer.state[model.layers[0].kernel]["m"].numpy(),
                                  slots["lstm/kernel/m"])
    model.set_weights([w * 0 for w in model.get_weights()])
    model.load_weights(DATA / "weights_v2.safetensors")
    for got, want in zip(model.get_weights(), raw.values()):
        np.testing.assert_array_equal(got, want)


def test_every_tensor_has_a_sha256_checksum(tmp_path):
    model = _model()
    model.fit(np.zeros((2, 3, 2), "float32"), np.ones((2, 3), "float32") / 3, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    for member in ("model.safetensors", "optimizer.safetensors"):
        arrays, meta = st.loads(_members(tmp_path / "m.rnnkit")[member])
        sums = json.loads(meta["checksums"])
        assert meta["format_version"] == "3" and set(sums) == set(arrays)
        for name, array in arrays.items():
            assert sums[name] == hashlib.sha256(array.astype(array.dtype.newbyteorder("<"))
                                                .tobytes()).hexdigest()


@pytest.mark.parametrize("member, tensor", [("model.safetensors", "gru/recurrent_kernel"),
                                            ("optimizer.safetensors", "dense/bias/velocity")])
def test_a_flipped_bit_in_a_tensor_is_named(tmp_path, member, tensor):
    """The zip's CRC-32 is rewritten to match, as a copy that re-zips damaged data would."""
    path = tmp_path / "m.rnnkit"
    model = _model()
    model.fit(np.zeros((2, 3, 2), "float32"), np.ones((2, 3), "float32") / 3, verbose=0)
    model.save(path)
    members = _members(path)
    members[member] = _flip_tensor_byte(members[member], tensor)
    _rezip(path, members)
    with pytest.raises(ModelFileError, match=rf"^{path}: {member}: tensor '{tensor}' does not "
                                             "match its checksum"):
        load_model(path)


def test_a_flipped_bit_in_a_weights_file_is_named(tmp_path):
    path = tmp_path / "w.safetensors"
    model = _model()
    model.save_weights(path)
    path.write_bytes(_flip_tensor_byte(path.read_bytes(), "lstm/bias"))
    before = model.get_weights()
    with pytest.raises(ModelFileError, match=rf"^{path}: the weights: tensor 'lstm/bias' does "
                                             "not match its checksum"):
        model.load_weights(path)
    _assert_weights_are(model, before)


def test_a_version_3_file_without_checksums_is_refused(tmp_path):
    path = tmp_path / "m.rnnkit"
    _model().save(path)
    members = _members(path)
    arrays, meta = st.loads(members["model.safetensors"])
    del meta["checksums"]
    members["model.safetensors"] = st.dumps(arrays, meta)
    _rezip(path, members)
    with pytest.raises(ModelFileError, match="model.safetensors has no checksums"):
        load_model(path)


def _damaged(tmp_path):
    """(name, path, what the error says) for a saved model damaged in one way each."""
    path = tmp_path / "m.rnnkit"
    _model().save(path)
    data, members = path.read_bytes(), _members(path)
    cases = {"truncated": (data[:len(data) // 2], "not an rnnkit model file"),
             "bad crc": (None, "Bad CRC-32"),
             "no metadata": ({k: v for k, v in members.items() if k != "metadata.json"},
                             "has no metadata.json"),
             "config not json": ({**members, "config.json": b"{'layers'"},
                                 "config.json is not valid JSON"),
             "header past end": ({**members, "model.safetensors": struct.pack("<Q", 1 << 40)},
                                 "the header length says 1,099,511,627,776 bytes"),
             "unknown version": ({**members, "metadata.json": b'{"format": "rnnkit", '
                                  b'"format_version": 9}'}, "unsupported rnnkit format version 9")}
    for name, (content, message) in cases.items():
        damaged = tmp_path / f"{name.replace(' ', '_')}.rnnkit"
        if isinstance(content, dict):
            _rezip(damaged, content)
        elif content is None:  # one bit of config.json, stored uncompressed, CRC unchanged
            _rezip(damaged, members, compression=zipfile.ZIP_STORED)
            stored = damaged.read_bytes()
            at = stored.index(b'"class_name"')
            damaged.write_bytes(stored[:at] + bytes([stored[at] ^ 0x10]) + stored[at + 1:])
        else:
            damaged.write_bytes(content)
        yield name, damaged, message


def test_damaged_files_raise_one_error_naming_the_file(tmp_path):
    """Before, these surfaced as BadZipFile, KeyError, json and struct errors without a path."""
    for name, path, message in _damaged(tmp_path):
        with pytest.raises(ModelFileError) as info:
            load_model(path)
        assert str(info.value).startswith(f"{path}: "), name
        assert message in str(info.value), (name, str(info.value))
        assert isinstance(info.value, ValueError) and info.value.path == str(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.rnnkit")
    with pytest.raises(FileNotFoundError):
        _model().load_weights(tmp_path / "missing.safetensors")


def test_load_limit_is_checked_before_inflating_and_can_be_raised(tmp_path, monkeypatch):
    path = tmp_path / "m.rnnkit"
    _model().save(path)
    with zipfile.ZipFile(path) as zf:
        size = zf.getinfo("model.safetensors").file_size
        cap = sum(zf.getinfo(n).file_size for n in ("metadata.json", "config.json")) + 1000
    with pytest.raises(ModelFileError, match=rf"model.safetensors declares {size:,} bytes, more "
                                             rf"than the {cap:,} bytes a model file may expand to"):
        load_model(path, max_bytes=cap)
    assert load_model(path, max_bytes=10**6).built
    monkeypatch.setattr(saving, "MAX_LOAD_BYTES", 1000)
    with pytest.raises(ModelFileError, match="MAX_LOAD_BYTES"):
        load_model(path)
    _model().save_weights(tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match="the file declares"):
        _model().load_weights(tmp_path / "w.safetensors")
    assert load_model(path, max_bytes=10**6).built


def test_optimizer_slot_of_the_wrong_shape_is_refused(tmp_path):
    path = tmp_path / "m.rnnkit"
    model = _model()
    model.fit(np.zeros((2, 3, 2), "float32"), np.ones((2, 3), "float32") / 3, verbose=0)
    model.save(path)
    members = _members(path)
    slots, _ = st.loads(members["optimizer.safetensors"])
    slots["dense/bias/velocity"] = np.zeros(4, "float32")
    members["optimizer.safetensors"] = st.dumps(slots, saving._tensor_metadata(slots))
    _rezip(path, members)
    with pytest.raises(ModelFileError, match=r"'dense/bias/velocity': expected shape \(3,\)"):
        load_model(path)


@pytest.mark.parametrize("edit, message", [
    (lambda h: h["a"].update(data_offsets=[0, 20]), r"'a': shape \[2, 3\] of F32 takes 24 bytes"),
    (lambda h: h["b"].update(data_offsets=[16, 24]), "'b' starts at data byte 16, expected 24"),
    (lambda h: h["b"].update(dtype="BF16"), "'b': unknown dtype 'BF16'"),
    (lambda h: h["b"].update(shape=[-2]), r"'b': expected a shape of sizes >= 0, got \[-2\]"),
    (lambda h: h.update(c={"dtype": "F32", "shape": [2], "data_offsets": [32, 40]}),
     "the tensors take 40 bytes, but 32 follow the header"),
])
def test_safetensors_header_is_checked_against_the_data(edit, message):
    blob = st.dumps({"a": np.zeros((2, 3), np.float32), "b": np.zeros(1, np.float64)})
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + size])
    edit(header)
    text = json.dumps(header).encode()
    with pytest.raises(ValueError, match=message):
        st.loads(struct.pack("<Q", len(text)) + text + blob[8 + size:])


# -- how files are written ----------------------------------------------------------------------
@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


@pytest.mark.parametrize("save", ["save", "save_weights"])
def test_saving_through_a_symlink_replaces_its_target(tmp_path, save):
    (tmp_path / "real").mkdir()
    target, link = tmp_path / "real" / "m.bin", tmp_path / "m.link"
    target.write_bytes(b"old")
    target.chmod(0o640)
    link.symlink_to(os.path.join("real", "m.bin"))
    model = _model()
    getattr(model, save)(link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "m.bin")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    weights = (load_model(link).get_weights() if save == "save"
               else list(st.loads(target.read_bytes())[0].values()))
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.link", "real"]
    assert [p.name for p in (tmp_path / "real").iterdir()] == ["m.bin"]


def test_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path, umask_027):
    path = tmp_path / "m.rnnkit"
    _model().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # 0o666 less the umask, as open() gives
    path.chmod(0o604)
    _model().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o604
    assert load_model(path).built
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"")
    weights.chmod(0o664)
    _model().save_weights(weights)
    assert stat.S_IMODE(weights.stat().st_mode) == 0o664
