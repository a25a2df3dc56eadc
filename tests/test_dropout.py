"""dropout and recurrent_dropout: Keras's variational masks (drawn once per call, the same at
every step, none at inference), checked against real Keras 3 with the same fixed masks, against
an unrolled loop, and by float64 gradcheck."""

import pytest
import torch

from rnnkit import layers
from rnnkit.backends import native
from helpers import Golden, assert_close, needs_native

CASES = range(len(Golden().meta["dropout"]))


def _keras_case(golden, k, backend="auto"):
    meta = golden.meta["dropout"][k]
    cls, kwargs = meta["layer"]
    layer = getattr(layers, cls)(**kwargs, input_shape=(4, 3), backend=backend)
    layer.set_weights(golden.seq(f"dropout{k}/w_init", meta["n_weights"]))
    masks = [None if not meta[f"{tag}_masks"] else
             [torch.from_numpy(m) for m in golden.seq(f"dropout{k}/{tag}_mask", meta[f"{tag}_masks"])]
             for tag in ("input", "recurrent")]
    return layer, torch.from_numpy(golden[f"dropout{k}/x"]), masks


@pytest.mark.parametrize("k", CASES)
def test_training_output_with_fixed_masks_matches_keras(golden, k, monkeypatch):
    layer, x, masks = _keras_case(golden, k)
    drawn = layer._dropout_masks(x, training=True)
    for ours, keras_masks in zip(drawn, masks):  # as many masks, of the same shapes, as Keras
        assert (ours is None) == (keras_masks is None)
        if ours is not None:
            assert [m.shape for m in ours] == [m.shape for m in keras_masks]
    monkeypatch.setattr(layer, "_dropout_masks", lambda x, training: tuple(masks))
    assert_close(layer(x, training=True), golden[f"dropout{k}/train"])


@pytest.mark.parametrize("k", CASES)
def test_no_dropout_at_inference(golden, k):
    layer, x, _ = _keras_case(golden, k)
    assert_close(layer(x), golden[f"dropout{k}/infer"])
    assert_close(layer(x, training=False), golden[f"dropout{k}/infer"])


def test_masks_are_zero_or_scaled_one_at_the_rate():
    layer = layers.GRU(50, dropout=0.25, recurrent_dropout=0.5, input_shape=(None, 40))
    inputs, recurrent = layer._dropout_masks(torch.zeros(200, 3, 40), training=True)
    assert len(inputs) == len(recurrent) == 3  # one per gate, as Keras's implementation 1
    for masks, rate in ((inputs, 0.25), (recurrent, 0.5)):
        values = torch.cat([m.flatten() for m in masks])
        assert set(values.unique().tolist()) <= {0.0, float(torch.tensor(1.0 / (1.0 - rate)))}
        assert float((values == 0).double().mean()) == pytest.approx(rate, abs=0.02)
    assert layer._dropout_masks(torch.zeros(2, 3, 40), training=False) == (None, None)


def test_the_same_masks_at_every_step():
    """A dropped input feature never reaches the output, at any step: the mask is per sequence."""
    torch.manual_seed(1)
    layer = layers.LSTM(4, dropout=0.5, return_sequences=True, input_shape=(6, 5),
                        backend="reference")
    x = torch.randn(3, 6, 5)
    captured = []
    draw = layer._dropout_masks
    layer._dropout_masks = lambda x, training: captured.append(draw(x, training)) or captured[-1]
    y = layer(x, training=True)
    (m,), _ = captured[0]
    noise = torch.randn_like(x) * (m == 0).unsqueeze(1)  # change only dropped features, all steps
    layer._dropout_masks = lambda x, training: captured[0]
    torch.testing.assert_close(layer(x + noise, training=True), y)


def _unrolled_simple_rnn(W, U, b, x, m_x, m_h):
    h = x.new_zeros(x.shape[0], U.shape[0])
    for t in range(x.shape[1]):
        h = torch.tanh((x[:, t] * m_x) @ W + b + (h * m_h) @ U)
    return h


def test_gradients_for_fixed_masks_by_gradcheck():
    layer = layers.SimpleRNN(3, dropout=0.3, recurrent_dropout=0.3, input_shape=(4, 2),
                             backend="reference").double()
    x = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    m_x = (torch.rand(2, 2) > 0.3).double() / 0.7
    m_h = (torch.rand(2, 3) > 0.3).double() / 0.7
    layer._dropout_masks = lambda x, training: ([m_x], [m_h])
    W, U, b = layer.weights
    torch.testing.assert_close(layer(x, training=True), _unrolled_simple_rnn(W, U, b, x, m_x, m_h))
    assert torch.autograd.gradcheck(lambda x, W, U, b: layer(x, training=True), (x, W, U, b))


@needs_native
@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
def test_dropout_runs_natively_and_matches_the_reference(cls):
    torch.manual_seed(2)
    x = torch.randn(3, 5, 4, requires_grad=True)
    options = {"dropout": 0.4, "recurrent_dropout": 0.3, "return_sequences": True,
               "input_shape": (5, 4)}
    fast = getattr(layers, cls)(6, **options)
    slow = getattr(layers, cls)(6, **options, backend="reference")
    slow.set_weights(fast.get_weights())
    masks = fast._dropout_masks(x, training=True)
    results = []
    for layer in (fast, slow):
        layer._dropout_masks = lambda x, training: masks
        y = layer(x, training=True)
        grads = torch.autograd.grad(y.square().sum(), [x, *layer.weights])
        results.append((y, *grads))
    assert fast.last_backend == "native" and slow.last_backend == "reference"
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@needs_native
def test_recurrent_dropout_runs_natively():
    layer = layers.GRU(3, dropout=0.1, recurrent_dropout=0.2, input_shape=(4, 2))
    layer(torch.zeros(2, 4, 2), training=True)
    assert layer.last_backend == "native"


def test_a_rate_of_one_as_in_keras():
    """Keras's SimpleRNN drops everything at rate 1; its LSTM and GRU drop nothing."""
    x = torch.randn(2, 3, 4)
    rnn = layers.SimpleRNN(3, dropout=1.0, recurrent_dropout=1.0, input_shape=(3, 4))
    inputs, recurrent = rnn._dropout_masks(x, training=True)
    assert float(inputs[0].abs().sum()) == float(recurrent[0].abs().sum()) == 0.0
    torch.testing.assert_close(rnn(x, training=True), torch.tanh(rnn.bias).expand(2, 3))
    lstm = layers.LSTM(3, dropout=1.0, input_shape=(3, 4))
    assert lstm._dropout_masks(x, training=True) == (None, None)


def test_a_seed_repeats_the_masks():
    draws = []
    for _ in range(2):
        layer = layers.GRU(3, dropout=0.5, recurrent_dropout=0.5, seed=7, input_shape=(3, 4))
        torch.manual_seed(len(draws))  # the global generator plays no part
        draws.append(layer._dropout_masks(torch.zeros(5, 3, 4), training=True))
    for a, b in zip(*draws):
        for m, n in zip(a, b):
            torch.testing.assert_close(m, n)
    assert layers.GRU(3, seed=7).get_config()["seed"] == 7


@pytest.mark.parametrize("name", ["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_one_recurrent_mask_is_that_mask_for_every_gate(name):
    from rnnkit import activations
    from rnnkit.cells import _spec

    spec = _spec.get(name)
    g = torch.Generator().manual_seed(0)
    states = tuple(torch.randn(2, 4, generator=g) for _ in spec.state_names)
    xw = torch.randn(2, 4 * spec.gates, generator=g)
    U = torch.randn(4, 4 * spec.gates, generator=g)
    m = (torch.rand(2, 4, generator=g) > 0.3).float() / 0.7
    args = (xw, states, U, None, activations.tanh, activations.sigmoid)
    one = spec.step(*args, masks=[m])
    each = spec.step(*args, masks=[m] * spec.gates)
    for a, b in zip(one, each):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
