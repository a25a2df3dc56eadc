"""ModelCheckpoint(save_freq=N) and TensorBoard against Keras 3's fixtures
(tests/data/make_keras_callbacks.py: the same hand-driven calls), TensorBoard's writes through a
SummaryWriter spy (the `tensorboard` package is not a test dependency), and ProgbarLogger as a
class a user passes."""

from __future__ import annotations

import builtins
import json
import os
import sys

import numpy as np
import pytest

import rnnkit
from rnnkit import callbacks, layers
from rnnkit.callbacks import tensorboard as tensorboard_module
from rnnkit.models import Sequential, load_model
from helpers import DATA

sys.path.insert(0, str(DATA))
import callback_cases as cases  # noqa: E402

FIXTURE = json.loads((DATA / "keras_callbacks.json").read_text())


# -- ModelCheckpoint ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in cases.CHECKPOINTS if n != "best_by_batch"])
def test_checkpoint_files_and_names_are_keras_s(name, tmp_path):
    assert cases.checkpoint_files(rnnkit, str(tmp_path), **cases.CHECKPOINTS[name]) == \
        FIXTURE["checkpoints"][name]


def test_batch_level_save_best_only_compares_the_batch_logs(tmp_path):
    # Keras 3.15 fails here (its monitor_op is only set at an epoch's end); rnnkit applies
    # Keras's epoch rule to each batch's logs.
    assert FIXTURE["checkpoints"]["best_by_batch"].startswith("TypeError")
    rows = cases.checkpoint_files(rnnkit, str(tmp_path), **cases.CHECKPOINTS["best_by_batch"])
    saved = sorted(f"best-{e + 1}-{b + 1}.keras" for e, b in [(0, 0), (0, 1), (0, 3), (1, 1),
                                                             (1, 3)])
    assert rows[-1][-1] == saved


def test_batch_checkpoints_hold_the_model_of_that_batch(tmp_path):
    x = np.arange(24, dtype="float32").reshape(12, 2) / 10
    model = Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    weights = {}
    record = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: weights.setdefault(
        len(weights) + 1, model.get_weights()))
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}-{batch}.rnnkit"), save_freq=4)
    model.fit(x, x[:, :1], batch_size=4, epochs=3, shuffle=False, verbose=0,
              callbacks=[record, ckpt])
    assert sorted(os.listdir(tmp_path)) == ["m-2-1.rnnkit", "m-3-2.rnnkit"]
    for name, seen in (("m-2-1.rnnkit", 4), ("m-3-2.rnnkit", 8)):
        for a, b in zip(load_model(tmp_path / name).get_weights(), weights[seen]):
            np.testing.assert_array_equal(a, b)


def test_filepaths_keras_refuses_are_refused_and_rnnkit_s_own_taken():
    assert [cases.bad_path_error(rnnkit, **kw) for kw in cases.BAD_PATHS] == FIXTURE["bad_paths"]
    with pytest.raises(ValueError, match="ending in .rnnkit or .keras or .h5, got 'm.txt'"):
        callbacks.ModelCheckpoint("m.txt")
    callbacks.ModelCheckpoint("m.rnnkit")
    callbacks.ModelCheckpoint("w.safetensors", save_weights_only=True)
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ValueError, match="save_freq 'epoch' or an integer >= 1"):
            callbacks.ModelCheckpoint("m.rnnkit", save_freq=bad)
    with pytest.raises(KeyError, match=r"no value .*val_acc.* in the logs"):
        ckpt = callbacks.ModelCheckpoint("m-{val_acc}.rnnkit", monitor="loss")
        list(cases.drive(ckpt, cases._model(rnnkit)))


# -- TensorBoard --------------------------------------------------------------------------------
class _SpyWriter:
    """torch's SummaryWriter, as far as TensorBoard uses it: the calls are recorded."""
    records: list = []

    def __init__(self, log_dir):
        self.folder = os.path.basename(log_dir)

    def add_scalar(self, tag, value, global_step):
        assert isinstance(value, float) and isinstance(global_step, int)
        self.records.append((self.folder, tag, global_step, value))

    def add_text(self, tag, text, global_step):
        self.records.append((self.folder, f"text:{tag}", global_step, len(text)))

    def add_histogram(self, tag, values, global_step):
        self.records.append((self.folder, f"histogram:{tag}", global_step, float(values.sum())))

    def flush(self):
        pass

    def close(self):
        self.records.append((self.folder, "closed", 0, 0.0))


@pytest.fixture
def spy(monkeypatch):
    _SpyWriter.records = []
    monkeypatch.setattr(tensorboard_module, "_summary_writer", lambda: _SpyWriter)
    return _SpyWriter.records


@pytest.mark.parametrize("name", list(cases.BOARDS))
def test_tensorboard_writes_keras_s_tags_and_steps(name, spy, tmp_path):
    board = callbacks.TensorBoard(str(tmp_path), write_graph=False, **cases.BOARDS[name])
    list(cases.drive(board, cases._model(rnnkit)))
    closed = [r for r in spy if r[1] == "closed"]
    assert len(closed) == len({r[0] for r in spy})  # every writer closed at the end
    assert cases.as_rows(r for r in spy if r[1] != "closed") == FIXTURE["boards"][name]


def test_tensorboard_in_fit_writes_the_graph_text_histograms_and_rates(spy, tmp_path):
    model = Sequential([layers.Input((3, 2)), layers.GRU(2), layers.Dense(1)])
    model.compile("adam", "mse")
    x = np.ones((8, 3, 2), "float32")
    board = callbacks.TensorBoard(str(tmp_path), histogram_freq=2, write_steps_per_second=True)
    history = model.fit(x, x[:, 0, :1], batch_size=4, epochs=3, verbose=0, callbacks=[board])
    tags = {(folder, tag) for folder, tag, _, _ in spy}
    assert ("train", "text:keras") in tags
    assert {("train", "epoch_loss"), ("train", "epoch_learning_rate"),
            ("train", "epoch_steps_per_second")} <= tags
    histograms = sorted((tag, step) for _, tag, step, _ in spy if tag.startswith("histogram:"))
    assert {step for _, step in histograms} == {0, 2}
    assert len(histograms) == 2 * len(list(model.parameters()))
    losses = [value for _, tag, _, value in spy if tag == "epoch_loss"]
    np.testing.assert_allclose(losses, history.history["loss"], rtol=1e-7)


@pytest.mark.parametrize("kwargs, error", [
    ({"profile_batch": 2}, (ValueError, "profiling is not available")),
    ({"profile_batch": "1,3"}, (ValueError, "profiling is not available")),
    ({"write_images": True}, (NotImplementedError, "write_images=True is not supported")),
    ({"embeddings_freq": 1}, (NotImplementedError, "embeddings_freq=1")),
    ({"embeddings_metadata": "m.tsv"}, (NotImplementedError, "embeddings_metadata")),
    ({"update_freq": 0}, (ValueError, "update_freq to be 'epoch' or 'batch' or an integer")),
    ({"update_freq": "step"}, (ValueError, "update_freq")),
    ({"histogram_freq": -1}, (ValueError, "histogram_freq to be an integer >= 0")),
])
def test_tensorboard_refuses_what_it_cannot_honour(spy, kwargs, error):
    with pytest.raises(error[0], match=error[1]):
        callbacks.TensorBoard("logs", **kwargs)


def test_tensorboard_without_the_package_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith(("torch.utils.tensorboard", "tensorboard")):
            raise ModuleNotFoundError("No module named 'tensorboard'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "torch.utils.tensorboard", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(ImportError, match=r"rnnkit\[tensorboard\]"):
        callbacks.TensorBoard("logs")


# -- ProgbarLogger ------------------------------------------------------------------------------
def test_a_user_progbar_logger_replaces_fit_s_own(capsys):
    model = Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    logger = callbacks.ProgbarLogger()
    model.fit(np.ones((4, 2)), np.ones((4, 1)), batch_size=2, epochs=2, verbose=2,
              callbacks=[logger])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "2/2", "Epoch 2/2", "2/2"]
    assert (logger.verbose, logger.epochs, logger.target) == (2, 2, 2)
    silent = callbacks.ProgbarLogger()
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0, callbacks=[silent])
    assert capsys.readouterr().out == "" and silent.verbose == 0
    from rnnkit.models.progress import ProgbarLogger
    assert ProgbarLogger is callbacks.ProgbarLogger
