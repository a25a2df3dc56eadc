"""model.save / load_model / save_weights: config, weights and compile settings survive."""

import json
import os
import zipfile

import numpy as np
import pytest
import torch

from rnnkit import layers, losses
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
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.safetensors",
                                         "optimizer.safetensors"]
        assert json.loads(zf.read("metadata.json"))["format"] == "rnnkit"
        assert json.loads(zf.read("metadata.json"))["format_version"] == 2


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
