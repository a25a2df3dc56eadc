"""model.summary() prints Keras 3's table, character for character."""

import pytest

from rnnkit import layers
from rnnkit.layers import GRU, LSTM, Dense, SimpleRNN
from rnnkit.models import Sequential
from rnnkit.utils import clear_session
from helpers import Golden

SUMMARIES = Golden().meta["summaries"]


def _seed_model(cell, **kwargs):
    model = Sequential()
    model.add(cell(units=128, input_shape=(None, 1), **kwargs))
    model.add(Dense(1, activation="linear"))
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


MODELS = {
    "simple_rnn_seed": lambda: _seed_model(SimpleRNN),
    "lstm_seed": lambda: _seed_model(LSTM),
    "gru_seed": lambda: _seed_model(GRU),
    "gru_reset_before_seed": lambda: _seed_model(GRU, reset_after=False),
    "stack": lambda: Sequential([layers.Input((None, 3)), LSTM(16, return_sequences=True),
                                 GRU(8, return_sequences=True), SimpleRNN(4),
                                 Dense(2, activation="softmax")]),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("columns", ["120", "80"])
def test_summary_text_matches_keras(name, columns, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", columns)
    model = MODELS[name]()
    model.summary()
    text = capsys.readouterr().out
    if columns == "120":
        assert text == SUMMARIES[name]["text"]
    elif name == "lstm_seed":
        assert text == SUMMARIES["lstm_seed_cols80"]["text"]
    assert model.count_params() == SUMMARIES[name]["total"]
    ours = [[layer.name, type(layer).__name__, layer.count_params()] for layer in model.layers]
    assert ours == [[row[0], row[1], row[3]] for row in SUMMARIES[name]["per_layer"]]


def test_second_model_gets_numbered_names(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "120")
    _seed_model(LSTM)
    second = _seed_model(LSTM)
    second.summary()
    assert capsys.readouterr().out == SUMMARIES["names_second"]["text"]


def test_clear_session_restarts_names():
    _seed_model(LSTM)
    clear_session()
    assert _seed_model(LSTM).layers[0].name == "lstm"


def test_summary_after_training_counts_optimizer_slots(monkeypatch, capsys):
    """Keras adds the built optimizer's variables (slots + iteration + learning rate) to the
    total: Adam on GRU(4)->Dense(1) (89 weights) reports 180 optimizer params, total 269."""
    import numpy as np
    monkeypatch.setenv("COLUMNS", "120")
    model = Sequential([layers.Input((None, 1)), GRU(4), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((4, 3, 1)), np.zeros((4, 1)), verbose=0)
    model.summary()
    text = capsys.readouterr().out
    assert " Total params: 269 (1.05 KB)\n" in text
    assert " Optimizer params: 180 (720.00 B)\n" in text


def test_unbuilt_model_summary_marks_layers_unbuilt(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "120")
    Sequential([LSTM(4), Dense(1)]).summary()
    assert "0 (unbuilt)" in capsys.readouterr().out
