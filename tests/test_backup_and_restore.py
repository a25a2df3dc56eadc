"""BackupAndRestore: a fit interrupted (an exception, or SIGKILL) and run again with the same
code ends with the same weights, optimizer state and History, bit for bit, as one that ran
straight through (dropout masks and shuffling included)."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from rnnkit import callbacks, layers
from rnnkit.callbacks.backup_and_restore import _FILE
from rnnkit.models import Sequential

EPOCHS = 4  # of 4 batches: 16 training samples of batch 4, 4 for validation


def _model():
    torch.manual_seed(0)
    model = Sequential([layers.Input((5, 3)),
                        layers.LSTM(4, dropout=0.3, recurrent_dropout=0.2, return_sequences=True),
                        layers.GRU(3, dropout=0.2, seed=7), layers.Dropout(0.25),
                        layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(1)
    return rng.standard_normal((20, 5, 3)).astype("float32"), rng.standard_normal((20, 1)).astype("float32")


def _fit(cbs):
    """The same code every time: a fresh model, the seeds, fit."""
    model = _model()
    torch.manual_seed(1)
    np.random.seed(1)
    x, y = _data()
    history = model.fit(x, y, batch_size=4, epochs=EPOCHS, validation_split=0.2, verbose=0,
                        callbacks=cbs)
    return model, history


@pytest.fixture(scope="module")
def straight():
    """The uninterrupted run (model, History), made once."""
    return _fit(None)


class _Interrupt(callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("interrupted")


def _assert_same_state(resumed, straight):
    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert resumed.optimizer.iterations == straight.optimizer.iterations
    for a, b in zip(resumed.optimizer.state.values(), straight.optimizer.state.values(), strict=True):
        assert a.keys() == b.keys()
        for slot in a:
            torch.testing.assert_close(a[slot], b[slot], rtol=0, atol=0)


@pytest.mark.parametrize("save_freq, at, resumed_epochs", [
    ("epoch", (2, 1), [2, 3]),  # backed up after epoch 1: epoch 2 runs again
    (3, (2, 2), [2, 3]),        # backed up after batch 0 of epoch 2 (the 9th): resumes at 1
    (5, (1, 3), [1, 2, 3]),     # backed up after batch 0 of epoch 1 (the 5th)
])
def test_an_interrupted_fit_resumes_where_its_backup_was_made(tmp_path, straight, save_freq,
                                                               at, resumed_epochs):
    straight, expected = straight
    backup = lambda: callbacks.BackupAndRestore(tmp_path / "b", save_freq=save_freq)  # noqa: E731
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit([backup(), _Interrupt(*at)])
    assert os.path.exists(tmp_path / "b" / _FILE)
    resumed, history = _fit([backup()])
    assert history.epoch == resumed_epochs
    assert history.history == {k: v[resumed_epochs[0]:] for k, v in expected.history.items()}
    _assert_same_state(resumed, straight)
    assert not os.path.exists(tmp_path / "b")  # delete_checkpoint


def test_double_checkpoint_restores_the_previous_backup_when_the_latest_is_damaged(tmp_path,
                                                                                  straight):
    straight, expected = straight
    backup = lambda: callbacks.BackupAndRestore(tmp_path, double_checkpoint=True)  # noqa: E731
    with pytest.raises(RuntimeError):
        _fit([backup(), _Interrupt(3, 0)])  # backups after epochs 1 (kept as .bkp) and 2
    with open(tmp_path / _FILE, "wb") as f:
        f.write(b"damaged")
    resumed, history = _fit([backup()])
    assert history.epoch == [2, 3]
    assert history.history["loss"] == expected.history["loss"][2:]
    _assert_same_state(resumed, straight)


def test_a_damaged_backup_without_a_previous_one_is_an_error(tmp_path):
    (tmp_path / _FILE).write_bytes(b"damaged")
    with pytest.raises(Exception):
        _fit([callbacks.BackupAndRestore(tmp_path)])


def test_delete_checkpoint_false_keeps_the_backup_and_its_epoch(tmp_path):
    _fit([callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    backup = torch.load(tmp_path / _FILE, weights_only=True)
    assert (backup["epoch"], backup["step"], backup["batch"]) == (EPOCHS, 0, 0)
    _, history = _fit([callbacks.BackupAndRestore(tmp_path)])  # nothing left to train
    assert history.epoch == []


@pytest.mark.parametrize("kwargs, error", [
    ({"backup_dir": ""}, "expected a backup_dir"),
    ({"backup_dir": "b", "save_freq": 0}, "save_freq 'epoch' or an integer >= 1"),
    ({"backup_dir": "b", "save_freq": False}, "save_freq 'epoch' or an integer >= 1"),
    ({"backup_dir": "b", "save_freq": "batch"}, "save_freq 'epoch' or an integer >= 1"),
])
def test_bad_arguments_are_refused(kwargs, error):
    with pytest.raises(ValueError, match=error):
        callbacks.BackupAndRestore(**kwargs)


_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    import test_backup_and_restore as t
    from rnnkit import callbacks

    class Kill(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_begin(self, batch, logs=None):
            if os.environ.get("KILL") and (self.epoch, batch) == (2, 2):
                os.kill(os.getpid(), signal.SIGKILL)

    cbs = [callbacks.BackupAndRestore(sys.argv[1]), Kill()] if sys.argv[1] != "-" else None
    model, history = t._fit(cbs)
    np.savez(sys.argv[2], *model.get_weights(), loss=history.history["loss"],
             epochs=history.epoch, iterations=model.optimizer.iterations)
""")


def test_a_process_killed_mid_epoch_resumes_from_the_last_epoch_backup(tmp_path, straight):
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT.format(tests=os.path.dirname(__file__)))

    def run(backup, out, kill=False):
        return subprocess.run([sys.executable, str(script), backup, str(out)], timeout=120,
                              env={**os.environ, **({"KILL": "1"} if kill else {})},
                              capture_output=True)

    straight, expected = straight  # run in this process: the same code, the same numbers
    killed = run(str(tmp_path / "b"), tmp_path / "never.npz", kill=True)
    assert killed.returncode == -signal.SIGKILL and os.path.exists(tmp_path / "b" / _FILE)
    resumed = run(str(tmp_path / "b"), tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr.decode()
    resumed = np.load(tmp_path / "resumed.npz")
    assert resumed["epochs"].tolist() == [2, 3]
    np.testing.assert_array_equal(resumed["loss"], expected.history["loss"][2:])
    assert resumed["iterations"] == straight.optimizer.iterations
    for k, w in enumerate(straight.get_weights()):
        np.testing.assert_array_equal(resumed[f"arr_{k}"], w)
