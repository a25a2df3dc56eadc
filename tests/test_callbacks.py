"""Callbacks: History, EarlyStopping, ModelCheckpoint, TerminateOnNaN, LambdaCallback."""

import numpy as np
import pytest

from rnnkit import callbacks, layers
from rnnkit.layers import Dense, GRU
from rnnkit.models import Sequential, load_model
from data.hook_recorder import recorder_class


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 6, 1)).astype("float32")
    return x, x.sum(axis=1)


def _model(lr=0.01):
    from rnnkit import optimizers
    model = Sequential([layers.Input((None, 1)), GRU(4), Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse")
    return model


HookRecorder = recorder_class(callbacks.Callback)


def test_hook_order_and_logs_match_keras(golden):
    keras = golden.meta["callbacks"]
    x, y = _data(keras["samples"])
    model, rec = _model(), HookRecorder()
    rows, batch_size = keras["validation_rows"], keras["batch_size"]
    model.fit(x, y, batch_size=batch_size, epochs=keras["epochs"],
              initial_epoch=keras["initial_epoch"], validation_data=(x[:rows], y[:rows]),
              verbose=0, callbacks=[rec])
    assert rec.take() == keras["fit"]
    assert rec.model is model and rec.params == keras["fit_params"]
    model.evaluate(x, y, batch_size=batch_size, verbose=0, callbacks=[rec])
    assert rec.take() == keras["evaluate"] and rec.params == keras["evaluate_params"]
    model.predict(x, batch_size=batch_size, verbose=0, callbacks=[rec])
    assert rec.take() == keras["predict"]


def test_predict_batch_end_gets_the_batch_outputs():
    x, _ = _data(10)
    model, outputs = _model(), []
    cb = callbacks.LambdaCallback(on_predict_batch_end=lambda batch, logs: outputs.append(
        logs["outputs"]))
    pred = model.predict(x, batch_size=4, verbose=0, callbacks=[cb])
    assert [o.shape for o in outputs] == [(4, 1), (4, 1), (2, 1)]
    np.testing.assert_array_equal(np.concatenate(outputs), pred)


def test_batch_aliases_and_lambda_callback():
    x, y = _data(8)
    seen = []

    class OldStyle(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(("old", batch, sorted(logs)))

    lam = callbacks.LambdaCallback(on_batch_begin=lambda batch, logs: seen.append(("begin", batch)))
    _model().fit(x, y, batch_size=4, verbose=0, callbacks=[OldStyle(), lam])
    assert sorted(seen) == [("begin", 0), ("begin", 1), ("old", 0, ["loss"]), ("old", 1, ["loss"])]
    with pytest.raises(ValueError, match="LambdaCallback: unknown hook 'on_batch_finish'"):
        callbacks.LambdaCallback(on_batch_finish=print)


def test_progress_bar_stays_silent_for_validation_inside_fit(capsys):
    x, y = _data(8)
    model = _model()
    model.fit(x, y, batch_size=4, validation_data=(x, y), verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("2/2 - ") and "val_loss" in lines[0]
    model.evaluate(x, y, batch_size=4, verbose=2)
    assert capsys.readouterr().out.startswith("2/2 - ")


class _Scores(callbacks.Callback):
    """Puts a chosen "score" into each epoch's logs (callbacks share the logs dict, as in
    Keras) and records the weights at the end of each epoch."""

    def __init__(self, scores):
        super().__init__()
        self.scores, self.weights = scores, {}

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.weights[epoch] = self.model.get_weights()


def _assert_weights_equal(actual, expected):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_stops_and_restores_best(capsys):
    x, y = _data()
    model = _model()
    scores = _Scores([3.0, 1.0, 2.0, 2.5, 0.5, 0.1])
    stop = callbacks.EarlyStopping(monitor="score", mode="min", patience=2,
                                   restore_best_weights=True, verbose=1)
    h = model.fit(x, y, epochs=6, batch_size=8, verbose=0, callbacks=[scores, stop])
    assert h.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best_epoch == 1
    assert capsys.readouterr().out.splitlines() == [
        "Epoch 4: early stopping", "Restoring model weights from the end of the best epoch: 2."]
    _assert_weights_equal(model.get_weights(), scores.weights[1])


def test_early_stopping_restores_best_when_training_runs_to_the_end(capsys):
    x, y = _data()
    model = _model()
    scores = _Scores([3.0, 1.0, 2.0, 2.5])
    stop = callbacks.EarlyStopping(monitor="score", mode="min", patience=10,
                                   restore_best_weights=True, verbose=1)
    h = model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[scores, stop])
    assert h.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 0 and stop.best_epoch == 1
    assert capsys.readouterr().out.splitlines() == [
        "Restoring model weights from the end of the best epoch: 2."]
    assert not np.array_equal(scores.weights[3][0], scores.weights[1][0])
    _assert_weights_equal(model.get_weights(), scores.weights[1])


def test_auto_mode_follows_the_metric_direction():
    x, y = _data(8)
    model = _model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "accuracy", lambda a, b: a - b])
    stops = {name: callbacks.EarlyStopping(monitor=name, patience=5)
             for name in ("val_loss", "mae", "accuracy")}
    model.fit(x, y, verbose=0, validation_data=(x, y), callbacks=list(stops.values()))
    assert {k: s.monitor_op.__name__ for k, s in stops.items()} == \
        {"val_loss": "lt", "mae": "lt", "accuracy": "gt"}
    with pytest.raises(ValueError, match="EarlyStopping: cannot tell whether monitor='<lambda>'"):
        model.fit(x, y, verbose=0, callbacks=[callbacks.EarlyStopping(monitor="<lambda>")])


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
    scores = _Scores([2.0, 1.0, 1.5, 0.5])
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{score:.1f}.rnnkit"),
                                     monitor="score", mode="min", save_best_only=True)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[scores, ckpt])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["m-01-2.0.rnnkit", "m-02-1.0.rnnkit", "m-04-0.5.rnnkit"]
    for name, epoch in zip(files, (0, 1, 3)):
        _assert_weights_equal(load_model(tmp_path / name).get_weights(), scores.weights[epoch])


class _Saves:
    name = "fake"

    def __init__(self):
        self.saved = []

    def save(self, path, overwrite=True):
        self.saved.append(path)


def _checkpoint_epochs(values, **kwargs):
    ckpt = callbacks.ModelCheckpoint("c-{epoch}.rnnkit", monitor="loss", save_best_only=True,
                                     **kwargs)
    ckpt.set_model(_Saves())
    for epoch, value in enumerate(values):
        ckpt.on_epoch_end(epoch, {} if value is None else {"loss": value})
    return ckpt.model.saved


def test_model_checkpoint_follows_keras_should_save_model(capsys):
    # Keras 3.15 prints exactly these lines for the same calls.
    assert _checkpoint_epochs([float("nan"), 1.0], verbose=1) == ["c-1.rnnkit"]
    assert capsys.readouterr().out.splitlines() == [
        "", "Epoch 1: loss improved from None to nan, saving model to c-1.rnnkit",
        "", "Epoch 1: finished saving model to c-1.rnnkit",
        "", "Epoch 2: loss did not improve from nan"]
    assert _checkpoint_epochs([1.0, 0.5, 0.6], initial_value_threshold=0.7) == ["c-2.rnnkit"]
    with pytest.warns(UserWarning, match="Can save best model only with loss available"):
        assert _checkpoint_epochs([None]) == ["c-1.rnnkit"]


def test_terminate_on_nan(capsys):
    x, y = _data()
    y[0] = np.nan
    model = _model()
    h = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[callbacks.TerminateOnNaN()])
    assert "Batch 0: Invalid loss, terminating training" in capsys.readouterr().out
    assert h.epoch == [0]
