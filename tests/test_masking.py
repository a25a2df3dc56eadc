"""Masks (Masking, Embedding(mask_zero=True)) and Bidirectional against real Keras 3: summaries,
predictions and three training steps whose loss leaves masked output steps out."""

import numpy as np
import pytest
import torch

from rnnkit import layers, optimizers
from rnnkit.backends import native, reference
from rnnkit.models import Sequential
from helpers import assert_close, needs_native

MODELS = ["masked_simple_rnn", "masked_lstm", "masked_gru_stack", "embedding",
          "bidirectional_backward_layer", "bidirectional_concat", "bidirectional_sum",
          "bidirectional_mul", "bidirectional_ave"]


def _layer(spec, backend):
    cls, kwargs = spec
    kwargs = {k: _layer(v, backend) if k in ("layer", "backward_layer") else v
              for k, v in kwargs.items()}
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        kwargs["backend"] = backend
    return getattr(layers, cls)(**kwargs)


def _model(golden, name, backend="auto"):
    meta = golden.meta["masked"]["models"][name]
    return Sequential([layers.Input(tuple(meta["input_shape"]))]
                      + [_layer(s, backend) for s in meta["layers"]])


@pytest.mark.parametrize("name", MODELS)
def test_summary_matches_keras(golden, name, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "120")
    model = _model(golden, name)
    model.compile(optimizer=optimizers.Adam(0.01), loss="mean_squared_error")
    model.set_weights(golden.seq(f"{name}/w_init", golden.meta["masked"]["models"][name]["n_weights"]))
    model.train_on_batch(golden[f"{name}/x"], golden[f"{name}/y"])  # builds the optimizer
    model.summary()
    assert capsys.readouterr().out == golden.meta["masked"]["models"][name]["summary"]["text"]


@pytest.mark.parametrize("backend", ["reference", "auto"])
@pytest.mark.parametrize("name", MODELS)
def test_prediction_and_training_match_keras(golden, name, backend):
    meta = golden.meta["masked"]["models"][name]
    model = _model(golden, name, backend)
    model.set_weights(golden.seq(f"{name}/w_init", meta["n_weights"]))
    x, y = golden[f"{name}/x"], golden[f"{name}/y"]
    assert_close(model.predict(x, verbose=0), golden[f"{name}/predict"])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mean_squared_error")
    losses = [model.train_on_batch(x, y) for _ in range(3)]
    np.testing.assert_allclose(losses, meta["losses"], rtol=2e-5)
    for got, want in zip(model.get_weights(), golden.seq(f"{name}/step3_w", meta["n_weights"])):
        assert_close(got, want)


def test_bidirectional_merge_none_with_states_matches_keras(golden):
    layer = layers.Bidirectional(layers.LSTM(3, return_sequences=True, return_state=True),
                                 merge_mode=None, input_shape=(5, 2))
    meta = golden.meta["bidirectional_states"]
    layer.set_weights(golden.seq("bidirectional_states/w_init", meta["n_weights"]))
    x = torch.from_numpy(golden["bidirectional_states/x"])
    outputs = layer(x, mask=x.abs().sum(-1) > 0)
    assert len(outputs) == meta["n_outputs"] == 6
    for k, out in enumerate(outputs):
        assert_close(out, golden[f"bidirectional_states/out{k}"])


def _unrolled_lstm(layer, x, mask, zero_output):
    """Keras's masked loop written out step by step, for one LSTM."""
    W, U, b = layer.kernel, layer.recurrent_kernel, layer.bias
    h = c = x.new_zeros(x.shape[0], layer.units)
    out, outputs = x.new_zeros(x.shape[0], layer.units), []
    for t in range(x.shape[1]):
        i, f, g, o = (x[:, t] @ W + b + h @ U).chunk(4, -1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        m = mask[:, t, None]
        h, c = torch.where(m, h_new, h), torch.where(m, c_new, c)
        out = torch.where(m, h_new, torch.zeros_like(h) if zero_output else out)
        outputs.append(out)
    return torch.stack(outputs, 1), h, c


@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_steps_keep_state_and_repeat_output(zero_output):
    layer = layers.LSTM(4, return_sequences=True, return_state=True, input_shape=(6, 3),
                        zero_output_for_mask=zero_output, backend="reference")
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    layer.double()
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [0, 0, 1, 0, 1, 1]], dtype=torch.bool)
    y, h, c = layer(x, mask=mask)
    want = _unrolled_lstm(layer, x, mask, zero_output)
    for got, expected in zip((y, h, c), want):
        torch.testing.assert_close(got, expected)
    # masked steps' inputs change nothing
    x2 = torch.where(mask[..., None], x, torch.randn_like(x))
    for got, expected in zip(layer(x2, mask=mask), (y, h, c)):
        torch.testing.assert_close(got, expected)


def test_mask_gradients_by_float64_gradcheck():
    mask = torch.tensor([[1, 1, 0, 1], [1, 1, 1, 0]], dtype=torch.bool)
    W, U, b = (torch.randn(s, dtype=torch.float64, requires_grad=True) for s in ((2, 9), (3, 9), (9,)))
    x = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    from rnnkit.cells import GRU_RESET_BEFORE_SPEC

    def f(x, W, U, b):
        states = (x.new_zeros(2, 3),)
        return reference.loop(spec=GRU_RESET_BEFORE_SPEC, x=x, kernel=W, recurrent_kernel=U,
                              input_bias=b, recurrent_bias=None, states=states,
                              activation=torch.tanh, recurrent_activation=torch.sigmoid,
                              return_sequences=True, mask=mask)[0]
    assert torch.autograd.gradcheck(f, (x, W, U, b))


def test_mask_must_fit_the_input():
    layer = layers.GRU(2, input_shape=(4, 1))
    with pytest.raises(ValueError, match=r"gru: expected a mask of shape \(batch, time\) = \(3, 4\), "
                                         r"got shape \(3, 5\)"):
        layer(torch.zeros(3, 4, 1), mask=torch.ones(3, 5, dtype=torch.bool))


def test_masks_flow_through_a_sequential_as_in_keras():
    model = Sequential([layers.Input((4,)), layers.Embedding(5, 2, mask_zero=True),
                        layers.SimpleRNN(3, return_sequences=True), layers.Dense(2),
                        layers.Activation("tanh"), layers.LSTM(2)])
    ids = torch.tensor([[1, 2, 0, 0], [3, 0, 4, 1]])
    model(ids)
    assert model._output_mask is None  # the last LSTM returns no sequence, so no mask
    model.pop()
    model(ids)
    torch.testing.assert_close(model._output_mask, ids != 0)


def test_masked_loss_is_the_mean_over_real_steps():
    model = Sequential([layers.Input((3, 1)), layers.Masking(),
                        layers.SimpleRNN(2, return_sequences=True)])
    model.compile("sgd", "mse")
    x = torch.tensor([[[1.0], [2.0], [0.0]], [[1.0], [0.0], [0.0]]])
    y = torch.randn(2, 3, 2)
    loss = model.evaluate(x, y, verbose=0)
    with torch.no_grad():
        per_step = (model(x) - y).square().mean(-1)
    keep = torch.tensor([[1.0, 1, 0], [1, 0, 0]])
    assert loss == pytest.approx(float((per_step * keep).sum() / keep.sum()), rel=1e-6)


def test_bidirectional_weights_and_errors():
    bi = layers.Bidirectional(layers.GRU(3, return_sequences=True), input_shape=(None, 2))
    assert bi.forward_layer.name == "forward_gru" and bi.backward_layer.name == "backward_gru"
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    assert bi.count_params() == 2 * bi.forward_layer.count_params()
    assert bi.weight_names[:3] == ["forward_layer/kernel", "forward_layer/recurrent_kernel",
                                   "forward_layer/bias"]
    with pytest.raises(ValueError, match="expected merge_mode one of"):
        layers.Bidirectional(layers.GRU(3), merge_mode="max")
    with pytest.raises(TypeError, match=r"expected layer to be a recurrent layer \(SimpleRNN, LSTM, "
                                        r"GRU or RNN over a cell\), got Dense"):
        layers.Bidirectional(layers.Dense(3))
    with pytest.raises(ValueError, match="agree on return_sequences"):
        layers.Bidirectional(layers.GRU(3), backward_layer=layers.GRU(3, go_backwards=True,
                                                                       return_sequences=True))
    odd = layers.Bidirectional(layers.GRU(3), backward_layer=layers.LSTM(5, go_backwards=True))
    assert odd.compute_output_shape((None, 4, 2)) == (None, 8)
    assert odd(torch.zeros(2, 4, 2)).shape == (2, 8)


def test_bidirectional_is_the_two_directions_merged():
    bi = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="concat",
                              input_shape=(None, 2))
    x = torch.randn(2, 5, 2)
    forward = layers.LSTM(3, return_sequences=True, input_shape=(None, 2))
    forward.set_weights(bi.forward_layer.get_weights())
    backward = layers.LSTM(3, return_sequences=True, input_shape=(None, 2))
    backward.set_weights(bi.backward_layer.get_weights())
    torch.testing.assert_close(bi(x), torch.cat([forward(x), backward(x.flip(1)).flip(1)], -1))


@needs_native
@pytest.mark.parametrize("name", MODELS)
def test_right_padded_rows_run_natively_and_match_keras(golden, name):
    """Rows 0 and 1 of the fixtures are whole and right-padded: alone, they run natively."""
    meta = golden.meta["masked"]["models"][name]
    model = _model(golden, name, backend="native")
    model.set_weights(golden.seq(f"{name}/w_init", meta["n_weights"]))
    assert_close(model.predict(golden[f"{name}/x"][:2], verbose=0), golden[f"{name}/predict"][:2])


def test_masked_steps_before_the_first_real_one_output_zeros():
    """Keras's backends disagree when the initial state is not zero (TensorFlow and PyTorch:
    zeros, JAX: the initial state); rnnkit outputs zeros, on both backends. go_backwards meets a
    right-padded row's padding first."""
    x = torch.randn(2, 4, 3)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0]], dtype=torch.bool)
    h0 = torch.randn(2, 5)
    slow = layers.SimpleRNN(5, return_sequences=True, go_backwards=True, input_shape=(4, 3),
                            backend="reference")
    y = slow(x, mask=mask, initial_state=h0)
    assert float(y[0, :2].abs().sum()) == float(y[1, :1].abs().sum()) == 0.0
    if native.available():
        fast = layers.SimpleRNN(5, return_sequences=True, go_backwards=True, input_shape=(4, 3))
        fast.set_weights(slow.get_weights())
        torch.testing.assert_close(fast(x, mask=mask, initial_state=h0), y)
        assert fast.last_backend == "native"


def test_bidirectional_refuses_a_layer_that_runs_backwards():
    with pytest.raises(ValueError, match="expected the forward and backward layers to differ in "
                                         "go_backwards"):
        layers.Bidirectional(layers.LSTM(3, go_backwards=True))


def test_losses_and_metrics_without_a_mask_argument_still_work():
    """Masks reach losses and metrics only when the output has one: objects written with the
    (y_true, y_pred) signature keep working."""
    from rnnkit import losses, metrics

    class Plain(losses.Loss):
        def __init__(self):
            super().__init__(name="plain")

        def __call__(self, y_true, y_pred):
            return (y_true - y_pred).abs().mean()

    class Seen(metrics.Metric):
        def __init__(self):
            super().__init__(lambda t, p: (t - p).abs(), "seen")

        def update_state(self, y_true, y_pred):
            super().update_state(y_true, y_pred)

    model = Sequential([layers.Input((3, 1)), layers.SimpleRNN(2), layers.Dense(1)])
    model.compile("sgd", Plain(), metrics=[Seen()])
    logs = model.train_on_batch(torch.randn(4, 3, 1), torch.randn(4, 1), return_dict=True)
    assert set(logs) == {"loss", "seen"}


def test_a_call_of_several_tensor_arguments_gets_no_mask_filled_in():
    """Keras 3 fills in `mask` only for a call of one tensor argument: lstm(x, initial_state=...)
    runs as if unmasked (tests/data/make_keras_layers_mask_order.py has Keras's numbers), while its
    output still carries x's mask; an explicit mask= is used."""
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3)
    x[1, 2:] = 0
    masked = layers.Masking()(x)
    lstm = layers.LSTM(5, return_sequences=True)
    h, c = torch.randn(2, 5), torch.randn(2, 5)
    got = lstm(masked, initial_state=[h, c])
    torch.testing.assert_close(got, lstm(masked.clone(), initial_state=[h, c]))  # no mask
    assert torch.equal(got._keras_mask, masked._keras_mask)
    explicit = lstm(masked, initial_state=[h, c], mask=masked._keras_mask)
    assert not torch.allclose(explicit, got)
    torch.testing.assert_close(explicit[1, 2:], explicit[1, 1:2].expand(2, 5))  # steps held
