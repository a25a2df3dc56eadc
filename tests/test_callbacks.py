"""Callbacks: History, EarlyStopping, ModelCheckpoint, TerminateOnNaN, LambdaCallback."""

import numpy as np
import pytest

from rnnkit import callbacks, layers
from rnnkit.layers import Dense, GRU
from rnnkit.models import Sequential, load_model


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 6, 1)).astype("float32")
    return x, x.sum(axis=1)


def _model(lr=0.01):
    from rnnkit import optimizers
    model = Sequential([layers.Input((None, 1)), GRU(4), Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def test_hook_order_and_arguments():
    calls = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(f"epoch_begin {epoch}"),
        on_train_batch_end=lambda batch, logs: calls.append(f"batch_end {batch} {sorted(logs)}"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: calls.append("train_end"))
    x, y = _data(8)
    model = _model()
    model.fit(x, y, batch_size=4, epochs=2, initial_epoch=1, validation_data=(x, y), verbose=0,
              callbacks=[cb])
    assert calls == ["train_begin", "epoch_begin 1", "batch_end 0 ['loss']", "batch_end 1 ['loss']",
                     "epoch_end 1 ['loss', 'val_loss']", "train_end"]
    assert cb.model is model and cb.params == {"verbose": 0, "epochs": 2, "steps": 2}


def test_early_stopping_stops_and_restores_best(capsys):
    x, y = _data()
    model = _model(lr=5.0)  # diverges: the loss gets worse every epoch after the first
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True, verbose=1)
    best = {}
    record = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: best.setdefault(
        "w", model.get_weights()) if e == 0 else None)
    h = model.fit(x, y, epochs=20, batch_size=32, verbose=0, callbacks=[record, stop])
    assert len(h.epoch) < 20
    assert stop.stopped_epoch == h.epoch[-1]
    assert "early stopping" in capsys.readouterr().out
    if stop.best_epoch == 0:
        for a, b in zip(model.get_weights(), best["w"]):
            np.testing.assert_array_equal(a, b)


def test_early_stopping_patience_counts_epochs_without_improvement():
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2)

    class Model:
        stop_training = False

    stop.set_model(Model())
    stop.on_train_begin()
    for epoch, value in enumerate([1.0, 0.5, 0.6, 0.55, 0.7]):
        stop.on_epoch_end(epoch, {"val_loss": value})
        if stop.model.stop_training:
            break
    assert epoch == 3 and stop.best == 0.5


def test_model_checkpoint_formats_path_and_saves_best_only(tmp_path):
    x, y = _data()
    model = _model()
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{loss:.3f}.rnnkit"),
                                     monitor="loss", save_best_only=True)
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[ckpt])
    files = sorted(p.name for p in tmp_path.iterdir())
    improving = [i for i, v in enumerate(h.history["loss"])
                 if v == min(h.history["loss"][: i + 1])]
    assert files == [f"m-{i + 1:02d}-{h.history['loss'][i]:.3f}.rnnkit" for i in improving]
    last = load_model(tmp_path / files[-1])
    np.testing.assert_allclose(last.predict(x, verbose=0), model.predict(x, verbose=0)) \
        if improving[-1] == 2 else None


def test_terminate_on_nan(capsys):
    x, y = _data()
    y[0] = np.nan
    model = _model()
    h = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[callbacks.TerminateOnNaN()])
    assert "Batch 0: Invalid loss, terminating training" in capsys.readouterr().out
    assert h.epoch == [0]
