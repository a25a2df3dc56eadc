"""RNN(cell) for every Keras cell and a user's cell, StackedRNNCells, and one cell step against
Keras 3 itself (tests/data/make_keras_functional.py wrote the fixtures)."""

from __future__ import annotations

import json

import pytest
import torch

import rnnkit as keras
from rnnkit import layers
from helpers import (FunctionalGolden, assert_close, flat, fresh_names,  # noqa: F401
                     keras_table_rows, one_or_list, shapes, summary_of)

GOLDEN = FunctionalGolden()
CELLS = GOLDEN.meta["cells"]


pytestmark = pytest.mark.usefixtures("fresh_names")


# -- RNN(cell), StackedRNNCells, a custom cell, single steps ---------------------------------------


class MinimalRNNCell(keras.layers.Layer):
    """The custom cell of Keras's RNN docstring, with an output_size."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform", name="recurrent_kernel")

    def call(self, inputs, states):
        prev_output = states[0]
        h = torch.matmul(inputs, self.kernel)
        output = h + torch.matmul(prev_output, self.recurrent_kernel)
        return output, [output]


CELL_CASES = {
    "simple": (lambda: layers.RNN(layers.SimpleRNNCell(3), return_sequences=True), False, 0),
    "simple_state_backwards": (lambda: layers.RNN(layers.SimpleRNNCell(3, activation="relu"),
                                                  return_state=True, go_backwards=True),
                               False, 0),
    "lstm": (lambda: layers.RNN(layers.LSTMCell(3)), False, 0),
    "lstm_state_seq": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True,
                                          return_state=True), False, 0),
    "lstm_backwards": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True,
                                          go_backwards=True), False, 0),
    "lstm_initial_state": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True,
                                              return_state=True), False, 2),
    "gru": (lambda: layers.RNN(layers.GRUCell(3), return_sequences=True, return_state=True),
            False, 0),
    "gru_reset_before": (lambda: layers.RNN(layers.GRUCell(3, reset_after=False),
                                            return_sequences=True), False, 0),
    "gru_reset_before_backwards": (lambda: layers.RNN(layers.GRUCell(3, reset_after=False),
                                                      return_state=True, go_backwards=True),
                                   False, 0),
    "masked_lstm": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True,
                                       return_state=True), True, 0),
    "masked_gru_backwards": (lambda: layers.RNN(layers.GRUCell(3), return_sequences=True,
                                                go_backwards=True), True, 0),
    "masked_simple": (lambda: layers.RNN(layers.SimpleRNNCell(3)), True, 0),
    "stacked_list": (lambda: layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)],
                                        return_sequences=True, return_state=True), False, 0),
    "stacked_cells": (lambda: layers.RNN(layers.StackedRNNCells([layers.LSTMCell(3),
                                                                 layers.GRUCell(2)])),
                      False, 0),
    "stacked_masked": (lambda: layers.RNN(layers.StackedRNNCells(
        [layers.SimpleRNNCell(2), layers.GRUCell(3, reset_after=False)]),
        return_sequences=True), True, 0),
    "custom": (lambda: layers.RNN(MinimalRNNCell(3), return_sequences=True, return_state=True),
               False, 0),
    "custom_stacked": (lambda: layers.RNN([MinimalRNNCell(2), layers.LSTMCell(3)]), False, 0),
}


def test_every_cell_case_of_the_fixtures_is_built_here():
    assert sorted(CELL_CASES) == sorted(CELLS)


def cell_model(name):
    """Input((5, 2)) [-> Masking] -> the RNN layer (initial states as extra Inputs)."""
    make_rnn, masked, n_states = CELL_CASES[name]
    inputs = keras.Input((5, 2))
    x = layers.Masking()(inputs) if masked else inputs
    rnn = make_rnn()
    state_inputs = []
    if n_states:
        state_inputs = [keras.Input((3,)) for _ in range(n_states)]
        outputs = rnn(x, initial_state=state_inputs)
    else:
        outputs = rnn(x)
    model = keras.Model([inputs] + state_inputs if state_inputs else inputs, outputs)
    return model, rnn


@pytest.mark.parametrize("name", sorted(CELL_CASES))
def test_rnn_of_cells_matches_keras(name, monkeypatch, capsys):
    meta = CELLS[name]
    model, rnn = cell_model(name)
    assert [list(w.shape) for w in rnn.get_weights()] == meta["rnn_weight_shapes"]
    assert [layer.name for layer in model.layers] == meta["layer_names"]
    assert type(rnn.cell).__name__ == meta["cell_class"]
    assert json.loads(json.dumps(rnn.cell.state_size)) == meta["cell_state_size"]
    assert json.loads(json.dumps(rnn.cell.output_size)) == meta["cell_output_size"]
    model.set_weights(GOLDEN.all(f"cells/{name}/w"))
    xs = GOLDEN.all(f"cells/{name}/x")
    result = model.predict(one_or_list(xs), verbose=0)
    assert shapes(result) == meta["output_structure"]
    for ours, theirs in zip(flat(result), GOLDEN.all(f"cells/{name}/out"), strict=True):
        assert_close(ours, theirs)
    ours, theirs = summary_of(model, monkeypatch, capsys, "120"), meta["summary"]["120"]
    if CELL_CASES[name][1]:  # masked: Keras adds its mask ops (NotEqual, Any) as rows
        assert keras_table_rows(ours) == keras_table_rows(theirs)
        assert ours.splitlines()[-3:] == theirs.splitlines()[-3:]
    else:
        assert ours == theirs


@pytest.mark.parametrize("name", sorted(CELL_CASES))
def test_rnn_of_cells_config_matches_keras(name):
    meta = CELLS[name]
    _, rnn = cell_model(name)
    ours = rnn.get_config()
    for key in ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                "zero_output_for_mask"):
        assert ours[key] == meta["rnn_config"][key], key
    assert ours["cell"]["class_name"] == meta["rnn_config"]["cell"]["class_name"]


STEP_CELLS = {
    "simple_rnn_cell": lambda: layers.SimpleRNNCell(3),
    "lstm_cell": lambda: layers.LSTMCell(3),
    "gru_cell": lambda: layers.GRUCell(3),
    "gru_cell_reset_before": lambda: layers.GRUCell(3, reset_after=False),
    "stacked_cells": lambda: layers.StackedRNNCells([layers.LSTMCell(3), layers.GRUCell(3)]),
}


@pytest.mark.parametrize("name", sorted(STEP_CELLS))
def test_one_cell_step_matches_keras(name):
    meta = GOLDEN.meta["steps"][name]
    cell = STEP_CELLS[name]()
    cell.build((None, 2))
    assert [list(w.shape) for w in cell.get_weights()] == meta["weight_shapes"]
    cell.set_weights(GOLDEN.all(f"step/{name}/w"))
    flat = GOLDEN.all(f"step/{name}/h0_")
    h0 = [flat[:2], flat[2]] if name == "stacked_cells" else flat
    y, states = cell(GOLDEN[f"step/{name}/x"], h0)
    assert_close(y, GOLDEN[f"step/{name}/out"])
    assert shapes(states) == meta["states_structure"]
    flat_states = states[0] + [states[1]] if name == "stacked_cells" else states
    for ours, theirs in zip(flat_states, GOLDEN.all(f"step/{name}/state"), strict=True):
        assert_close(ours, theirs)
    assert json.loads(json.dumps(cell.state_size)) == meta["state_size"]
    assert cell.output_size == meta["output_size"]
    initial = cell.get_initial_state(batch_size=4)
    assert shapes(initial) == meta["initial_state_structure"]
