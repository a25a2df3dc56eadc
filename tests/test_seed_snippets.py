"""The seed document's three snippets, with only the imports changed, behave as in Keras."""

import re

import pytest

SNIPPET = """
from rnnkit.models import Sequential
from rnnkit.layers import {cell}, Dense

# define the model
model = Sequential()
model.add({cell}(units=128, input_shape=(None, 1)))
model.add(Dense(1, activation='linear'))

# compile the model
model.compile(optimizer='adam', loss='mean_squared_error')

# summarize the model
model.summary()
"""


@pytest.mark.parametrize("cell,params,total", [("SimpleRNN", "16,640", "16,769"),
                                               ("LSTM", "66,560", "66,689"),
                                               ("GRU", "50,304", "50,433")])
def test_seed_snippet_prints_keras_numbers(cell, params, total, capsys):
    exec(SNIPPET.format(cell=cell), {})
    out = capsys.readouterr().out
    assert re.search(rf"│\s+{params} │", out)
    assert "│           129 │" in out or re.search(r"│\s+129 │", out)
    assert f" Total params: {total} (" in out
