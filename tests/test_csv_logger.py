"""CSVLogger writes the file Keras 3 writes (tests/data/make_keras_csv_logger.py) for the same
epoch logs, and logs a real fit."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import rnnkit
from rnnkit import callbacks, layers
from rnnkit.models import Sequential
from helpers import DATA

sys.path.insert(0, str(DATA))
import csv_logger_cases as cases  # noqa: E402

FIXTURE = json.loads((DATA / "keras_csv_logger.json").read_text())


@pytest.mark.parametrize("kind", ["plain", "semicolon"])
def test_the_file_is_keras_s(kind, tmp_path):
    kwargs = {"separator": ";"} if kind == "semicolon" else {}
    assert cases.run(rnnkit, tmp_path / "log.csv", **kwargs) == FIXTURE[kind]


def test_append_keeps_the_header_once(tmp_path):
    cases.run(rnnkit, tmp_path / "log.csv")
    assert cases.run(rnnkit, tmp_path / "log.csv", append=True) == FIXTURE["appended"]


def test_a_fit_is_logged_epoch_by_epoch(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 2)).astype(np.float32), np.zeros((8, 1), np.float32)
    model = Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), validation_freq=2,
                        callbacks=[callbacks.CSVLogger(tmp_path / "fit.csv")])
    rows = (tmp_path / "fit.csv").read_text().splitlines()
    assert rows[0] == "epoch,loss,mae,val_loss,val_mae"
    assert rows[1].endswith(",NA,NA") and float(rows[1].split(",")[1]) == pytest.approx(
        history.history["loss"][0])
    assert float(rows[2].split(",")[3]) == pytest.approx(history.history["val_loss"][0])
