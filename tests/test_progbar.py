"""fit's progress display on a terminal matches Keras's bar, timings aside."""

import io
import re

import numpy as np

from rnnkit import layers
from rnnkit.models import Sequential
from rnnkit.utils.progbar import Progbar, format_step_time, format_value


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _mask_times(text):
    return re.sub(r"\d+(ms|us|s)", "T", text)


def test_terminal_bar_final_line_matches_keras(golden, monkeypatch):
    keras_text = golden.meta["fit"]["fit_text_verbose1"]
    keras_final = keras_text.split("Epoch 2/2")[0].rstrip("\n").split("\r")[-1]
    stream = Terminal()
    monkeypatch.setattr("sys.stdout", stream)
    model = Sequential([layers.Input((None, 1)), layers.LSTM(4), layers.Dense(1)])
    model.set_weights(golden.seq("fit/w_init", 5))
    model.compile("sgd", "mse", metrics=["mae", "mse"])
    model.fit(golden["fit/x"], golden["fit/y"], epochs=2, batch_size=3, shuffle=False,
              validation_split=0.3, verbose=1)
    ours_final = stream.getvalue().split("Epoch 2/2")[0].rstrip("\n").split("\r")[-1]
    assert _mask_times(ours_final.rstrip()) == _mask_times(keras_final.rstrip())
    assert stream.getvalue().startswith("Epoch 1/2\n")


def test_bar_grows_and_redraws_in_place():
    stream = Terminal()
    bar = Progbar(4, verbose=1, interval=0.0, stream=stream)
    bar.update(1, [("loss", 2.0)])
    bar.update(4, [("loss", 0.5)], finalize=True)
    first, last = stream.getvalue().split("\r")[1:]
    assert "\x1b[32m━━━━━\x1b[0m\x1b[37m━━━━━━━━━━━━━━━\x1b[0m" in first
    assert "\x1b[32m" + "━" * 20 + "\x1b[0m" in last and last.endswith("loss: 0.5000\n")


def test_value_and_time_formats():
    assert format_value(0.12345) == "0.1235" and format_value(0.0001234) == "1.2340e-04"
    assert [format_step_time(t) for t in (2.4, 0.0052, 0.0000031, 0)] == \
        ["2s/step", "5ms/step", "3us/step", "0s/step"]


def test_epoch_header_only_for_several_epochs(capsys):
    model = Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit([[1.0, 2.0]], [[1.0]], epochs=1, verbose=2)
    assert not capsys.readouterr().out.startswith("Epoch")


def test_a_metric_of_several_values_shows_their_mean():
    stream = io.StringIO()
    Progbar(2, verbose=2, stream=stream).update(2, [("f1_score", np.array([0.25, 0.75]))],
                                                 finalize=True)
    assert "f1_score: 0.5000" in stream.getvalue()
