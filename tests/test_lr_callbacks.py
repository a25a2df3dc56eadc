"""LearningRateScheduler and ReduceLROnPlateau against Keras 3 (tests/data/
make_keras_lr_callbacks.py): the same learning rates epoch by epoch for the same logged values,
and the rate logged as "learning_rate" during fit."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import rnnkit
from rnnkit import callbacks
from helpers import DATA

sys.path.insert(0, str(DATA))
import lr_callback_cases as cases  # noqa: E402

FIXTURE = json.loads((DATA / "keras_lr_callbacks.json").read_text())


@pytest.mark.parametrize("name", sorted(cases.PLATEAU))
def test_reduce_lr_on_plateau_matches_keras(name):
    got, want = cases.run_plateau(rnnkit, cases.PLATEAU[name]), FIXTURE["plateau"][name]
    for key in ("rates", "logged"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-7)


@pytest.mark.parametrize("name", sorted(cases.SCHEDULES))
def test_learning_rate_scheduler_matches_keras(name):
    got, want = cases.run_scheduler(rnnkit, cases.SCHEDULES[name]), FIXTURE["scheduler"][name]
    for key in ("rates", "logged"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-7)


def test_fit_trains_with_the_scheduled_rate_and_logs_it():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 2)).astype(np.float32), np.zeros((8, 1), np.float32)
    m = cases.model(rnnkit)
    history = m.fit(x, y, epochs=3, batch_size=8, verbose=0,
                    callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))])
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    assert m.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 / 3, rel=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="expected factor below 1.0, got 1.5"):
        callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        callbacks.ReduceLROnPlateau(epsilon=0.1)
    m, cb = cases.model(rnnkit), callbacks.LearningRateScheduler(lambda epoch: "fast")
    cb.set_model(m)
    with pytest.raises(ValueError, match="expected the schedule to return a float"):
        cb.on_epoch_begin(0)
