"""RNN over cells kept and restored: configs (Keras's nested cell records), torch state dicts
from before the weights moved into the cell, rnnkit's model files, Keras's own files
(tests/data/make_keras_cells.py), and the symbolic (Functional) path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import layers
from rnnkit.interop import load_keras
from rnnkit.layers import (GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell,
                           StackedRNNCells)
from rnnkit.models import Sequential

CELL_FILES = Path(__file__).parent / "data" / "keras_cells"


@pytest.mark.parametrize("make", [
    lambda: RNN(LSTMCell(4, dropout=0.2, seed=3), return_sequences=True, go_backwards=True),
    lambda: RNN([GRUCell(3, reset_after=False), LSTMCell(2, unit_forget_bias=False)],
                return_state=True),
    lambda: RNN(StackedRNNCells([SimpleRNNCell(2, activation="relu"), GRUCell(2)]), stateful=True,
                batch_input_shape=(2, None, 3)),
], ids=["lstm_cell", "list", "stacked"])
def test_config_round_trips_with_the_cell_nested(make):
    rnn = make()
    config = rnn.get_config()
    assert set(config["cell"]) == {"class_name", "config"}
    again = layers.deserialize(layers.serialize(rnn))
    assert type(again.cell) is type(rnn.cell) and again.get_config() == config
    assert RNN.from_config(config).get_config() == config


def test_a_stack_s_config_nests_each_cell():
    config = RNN([GRUCell(3), LSTMCell(2)]).get_config()
    assert config["unroll"] is False and config["zero_output_for_mask"] is False
    cells = config["cell"]["config"]["cells"]
    assert [c["class_name"] for c in cells] == ["GRUCell", "LSTMCell"]
    assert cells[1]["config"]["units"] == 2 and cells[0]["config"]["reset_after"] is True


def test_sequential_from_config_round_trips_rnn_layers():
    model = Sequential([layers.Input((5, 3)), RNN(LSTMCell(4), return_sequences=True),
                        RNN([GRUCell(3), LSTMCell(2)]), layers.Dense(1)])
    again = Sequential.from_config(model.get_config())
    assert again.get_config() == model.get_config()
    again.set_weights(model.get_weights())
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(again(x), model(x), rtol=0, atol=0)


def test_the_built_in_layers_keep_their_flat_config():
    common = {"name", "trainable", "dtype", "units", "activation", "use_bias",
              "kernel_initializer", "recurrent_initializer", "bias_initializer",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "return_sequences",
              "return_state", "go_backwards", "dropout", "recurrent_dropout", "stateful",
              "zero_output_for_mask", "seed", "backend"}
    assert set(SimpleRNN(2).get_config()) == common
    assert set(LSTM(2).get_config()) == common | {"recurrent_activation", "unit_forget_bias"}
    assert set(GRU(2).get_config()) == common | {"recurrent_activation", "reset_after"}
    layer = LSTM(3, seed=4, dropout=0.1, name="encoder")
    assert layer.cell.name == "lstm_cell" and layer.cell.seed == 4 and layer.seed == 4
    assert LSTM.from_config(layer.get_config()).get_config() == layer.get_config()


def test_the_layer_reads_its_cell():
    layer = GRU(3, reset_after=False, use_bias=False, input_shape=(None, 2))
    assert isinstance(layer.cell, GRUCell) and layer.kernel is layer.cell.kernel
    assert layer.bias is None and layer.reset_after is False and layer.units == 3
    assert layer.weight_names == ["kernel", "recurrent_kernel"]
    assert layer.spec.name == "gru_reset_before" and layer.input_dim == 2


def test_torch_state_dicts_from_before_the_cell_still_load():
    """The weights were the layer's own parameters ("kernel"); now the cell's ("cell.kernel")."""
    layer = LSTM(3, input_shape=(None, 2))
    assert list(layer.state_dict()) == ["cell.kernel", "cell.recurrent_kernel", "cell.bias"]
    values = [torch.randn(w.shape) for w in layer.weights]
    layer.load_state_dict(dict(zip(["kernel", "recurrent_kernel", "bias"], values)))
    assert all(torch.equal(w, v) for w, v in zip(layer.weights, values))
    model = Sequential([layers.Input((4, 2)), GRU(3), layers.Dense(1)])
    old = {k.replace(".cell.", "."): v.clone() + 1 for k, v in model.state_dict().items()}
    assert any(k.endswith("0.kernel") for k in old)
    model.load_state_dict(old)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), old.values()))
    with pytest.raises(RuntimeError, match="Unexpected key"):
        layer.load_state_dict({**layer.state_dict(), "peephole": torch.zeros(3)})


def test_model_files_keep_rnn_layers(tmp_path):
    model = Sequential([layers.Input((5, 3)), RNN(LSTMCell(4), return_sequences=True),
                        RNN([GRUCell(3), GRUCell(2)], go_backwards=True), layers.Dense(1)])
    x = torch.randn(2, 5, 3)
    path = tmp_path / "cells.keras"
    model.save(path)
    loaded = rnnkit.load_model(path)
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    assert loaded.weight_names[3:6] == ["rnn_1/gru_cell/kernel", "rnn_1/gru_cell/recurrent_kernel",
                                        "rnn_1/gru_cell/bias"]
    model.save_weights(tmp_path / "cells.weights.h5")
    other = Sequential.from_config(model.get_config())
    other.load_weights(tmp_path / "cells.weights.h5")
    torch.testing.assert_close(other(x), model(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["cells.keras", "cells.h5"])
def test_keras_files_with_rnn_layers_over_cells_load(name):
    """Keras keys a stack's cells "gru_cell", "lstm_cell", "gru_cell_1" (not in HDF5's order)."""
    expected = np.load(CELL_FILES / "expected.npz")
    model = load_keras(CELL_FILES / name)
    assert [type(layer).__name__ for layer in model.layers] == ["RNN", "RNN", "RNN", "Dense"]
    assert [type(c).__name__ for c in model.layers[1].cell.cells] == ["GRUCell", "LSTMCell",
                                                                       "GRUCell"]
    assert model.layers[1].cell.cells[2].reset_after is False and model.layers[1].go_backwards
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["y"],
                               rtol=2e-5, atol=2e-5)


def test_a_keras_cell_rnnkit_has_not_is_refused_by_name():
    from rnnkit.interop.keras import _layer

    record = {"class_name": "RNN", "config": {"name": "r", "cell": {
        "class_name": "ConvLSTMCell", "config": {"name": "c"}}}}
    with pytest.raises(ValueError, match="rnnkit has no ConvLSTMCell cell"):
        _layer(record)


def test_functional_models_take_rnn_layers_and_their_states():
    inputs = rnnkit.Input((5, 3))
    y, h, c = RNN(LSTMCell(4), return_state=True)(inputs)
    # symbolic states take Keras's compute_output_shape: a cell's single state unwrapped
    stacked, h1, (h2, c2) = RNN([GRUCell(3), LSTMCell(2)], return_state=True)(inputs)
    model = rnnkit.Model(inputs, [y, c, stacked, h1, c2])
    outs = model(torch.randn(2, 5, 3))
    assert [tuple(o.shape) for o in outs] == [(2, 4), (2, 4), (2, 2), (2, 3), (2, 2)]
