"""model.save / load_model / save_weights: config, weights and compile settings survive."""

import json
import os
import zipfile

import numpy as np
import pytest
import torch

from rnnkit import layers
from rnnkit.layers import GRU, LSTM, Dense, SimpleRNN
from rnnkit.models import Sequential, load_model
from rnnkit.models import safetensors as st


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
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.safetensors"]
        assert json.loads(zf.read("metadata.json"))["format"] == "rnnkit"


def test_weights_file_is_standard_safetensors(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = _model()
    path = tmp_path / "w.safetensors"
    model.save_weights(path)
    theirs = safetensors_torch.load_file(str(path))
    assert list(theirs) == [f"{l.name}/{n}" for l in model.layers for n in l._weight_names]
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
    for a, b in zip(other.get_weights(), before):
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
    keras_like = tmp_path / "model.keras"
    with zipfile.ZipFile(keras_like, "w") as zf:
        zf.writestr("config.json", "{}")
        zf.writestr("model.weights.h5", b"")
    with pytest.raises(ValueError, match="looks like a Keras file"):
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
