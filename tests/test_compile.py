"""torch.compile(model, fullgraph=True) over every layer and option, on both backends: the same
outputs and parameter gradients as eager."""

import pytest
import torch

from rnnkit import layers
from rnnkit.models import Sequential
from helpers import assert_compiled_matches_eager

BACKENDS = ["auto", "reference"]


@pytest.fixture(autouse=True)
def own_inductor_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))  # no code compiled earlier
    torch._dynamo.reset()


def _masked_ids():
    return torch.tensor([[1, 2, 3, 4, 5], [3, 1, 2, 0, 0], [0, 4, 0, 2, 1]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_masks_bidirectional_and_both_gru_forms(backend):
    model = Sequential([
        layers.Input((5,)), layers.Embedding(6, 3, mask_zero=True),
        layers.Bidirectional(layers.LSTM(4, return_sequences=True, backend=backend)),
        layers.GRU(3, return_sequences=True, reset_after=False, go_backwards=True, backend=backend),
        layers.TimeDistributed(layers.Dense(2)), layers.Activation("relu"),
        layers.SimpleRNN(2, backend=backend)])
    assert_compiled_matches_eager(model, _masked_ids())


@pytest.mark.parametrize("merge_mode", [  # each compile takes half a minute on 2 cores
    "sum", pytest.param("mul", marks=pytest.mark.slow), pytest.param("ave", marks=pytest.mark.slow)])
def test_every_merge_mode_and_a_backward_layer(merge_mode):
    model = Sequential([
        layers.Input((5, 2)), layers.Masking(),
        layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode=merge_mode,
                             backward_layer=layers.LSTM(3, return_sequences=True,
                                                        go_backwards=True)),
        layers.Bidirectional(layers.SimpleRNN(2, activation="relu"), merge_mode=merge_mode),
        layers.Dense(1)])
    x = torch.randn(3, 5, 2)
    x[1, 3:] = 0
    assert_compiled_matches_eager(model, x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_in_training_with_fixed_masks(backend):
    rnns = [layers.LSTM(4, dropout=0.3, recurrent_dropout=0.3, return_sequences=True,
                        backend=backend),
            layers.GRU(3, dropout=0.3, backend=backend)]
    model = Sequential([layers.Input((5, 2)), *rnns, layers.Dense(1)])
    x = torch.randn(3, 5, 2)
    for layer in rnns:  # draw once, then the compiled and eager calls use the same masks
        masks = layer._dropout_masks(torch.zeros(3, 5, layer.input_dim), training=True)
        layer._dropout_masks = lambda x, training, masks=masks: masks
    compiled = torch.compile(model, fullgraph=True)
    torch.testing.assert_close(compiled(x, training=True), model(x, training=True))


def test_seeded_dropout_compiles():
    """A seeded layer's own generator serves eager calls; compiled code draws from torch's."""
    model = Sequential([layers.Input((5, 2)), layers.GRU(3, dropout=0.3, recurrent_dropout=0.2,
                                                         seed=3),
                        layers.Dropout(0.2, seed=1), layers.Dense(1)])
    x = torch.randn(2, 5, 2)
    y = torch.compile(model, fullgraph=True)(x, training=True)
    assert y.shape == (2, 1) and torch.isfinite(y).all()
    torch.testing.assert_close(torch.compile(model, fullgraph=True)(x), model(x))


@pytest.mark.parametrize("backend", BACKENDS)
def test_stateful_layers_carry_states_when_compiled(backend):
    def build():
        return Sequential([layers.Input((4, 2), batch_size=3),
                           layers.LSTM(3, stateful=True, return_sequences=True, backend=backend),
                           layers.Bidirectional(layers.GRU(2, stateful=True, backend=backend))])
    eager, other = build(), build()
    other.set_weights(eager.get_weights())
    compiled = torch.compile(other, fullgraph=True)
    for _ in range(3):
        x = torch.randn(3, 4, 2)
        torch.testing.assert_close(compiled(x), eager(x))
    for a, b in zip(other.layers, eager.layers):
        for s, t in zip(a.states, b.states):
            torch.testing.assert_close(s, t)
