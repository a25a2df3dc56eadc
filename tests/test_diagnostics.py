"""rnnkit.diagnostics.gradient_norms against autograd over an explicit unrolled loop."""

import numpy as np
import pytest
import torch

from rnnkit import layers
from rnnkit.diagnostics import gradient_norms
from rnnkit.models import Sequential

T, I, H = 7, 2, 5


def _unrolled_states(cell, x, W, U, b, reset_after=True):
    """Each step's hidden state, written out from the equations (Keras gate orders)."""
    h = x.new_zeros(x.shape[0], H)
    c = torch.zeros_like(h)
    states = []
    for t in range(x.shape[1]):
        xw = x[:, t] @ W + (b[0] if cell == "GRU" and reset_after else b)
        if cell == "SimpleRNN":
            h = torch.tanh(xw + h @ U)
        elif cell == "LSTM":
            i, f, g, o = (xw + h @ U).chunk(4, -1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            xz, xr, xh = xw.chunk(3, -1)
            if reset_after:
                hz, hr, hh = (h @ U + b[1]).chunk(3, -1)
                z, r = torch.sigmoid(xz + hz), torch.sigmoid(xr + hr)
                cand = torch.tanh(xh + r * hh)
            else:
                hz, hr = (h @ U[:, :2 * H]).chunk(2, -1)
                z, r = torch.sigmoid(xz + hz), torch.sigmoid(xr + hr)
                cand = torch.tanh(xh + (r * h) @ U[:, 2 * H:])
            h = z * h + (1 - z) * cand
        h.retain_grad()
        states.append(h)
    return states


CASES = [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})]


@pytest.mark.parametrize("backend", ["native", "reference"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cls,kwargs", CASES, ids=[f"{c}{k}" for c, k in CASES])
def test_gradient_norms_equal_an_unrolled_loop(cls, kwargs, return_sequences, backend):
    rnn = getattr(layers, cls)(H, return_sequences=return_sequences, backend=backend,
                               bias_initializer="random_normal", **kwargs)
    model = Sequential([layers.Input((T, I)), rnn, layers.Dense(1)])
    model.compile("sgd", "mse")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, T, I, generator=g)
    y = torch.randn(3, T, 1, generator=g) if return_sequences else torch.randn(3, 1, generator=g)

    xs = x.clone().requires_grad_()
    W, U, b = (w.detach() for w in rnn.weights)
    states = _unrolled_states(cls, xs, W, U, b, kwargs.get("reset_after", True))
    dense_w, dense_b = (w.detach() for w in model.layers[-1].weights)
    out = torch.stack(states, 1) if return_sequences else states[-1]
    ((out @ dense_w + dense_b - y) ** 2).mean().backward()
    want_state = np.array([float(h.grad.norm(dim=-1).mean()) for h in states])
    want_input = xs.grad.norm(dim=-1).mean(0).numpy()

    np.testing.assert_allclose(gradient_norms(model, x, y), want_state, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(gradient_norms(model, x, y, wrt="input"), want_input, rtol=1e-5,
                               atol=1e-8)
    assert not any(p.grad is not None for p in model.parameters())  # nothing left behind
    assert rnn.state_probe is None


def test_a_masked_step_gets_no_gradient_and_layers_are_found_by_name():
    model = Sequential([layers.Input((4,)), layers.Embedding(5, 2, mask_zero=True),
                        layers.GRU(3, name="memory"), layers.Dense(1)])
    model.compile("adam", "mse")
    ids, y = np.array([[1, 2, 0, 0], [3, 4, 1, 0]]), np.zeros((2, 1))
    norms = gradient_norms(model, ids, y, layer="memory")
    assert norms.shape == (4,) and norms[3] == 0.0 and norms[0] > 0
    assert gradient_norms(model, ids, y, layer=1).tolist() == norms.tolist()
    with pytest.raises(ValueError, match="expected a SimpleRNN, LSTM or GRU layer, got dense"):
        gradient_norms(model, ids, y, layer="dense")
    with pytest.raises(ValueError, match="expected wrt one of"):
        gradient_norms(model, ids, y, wrt="weights")


def test_memory_horizon_trains_each_cell_at_each_lag_with_the_same_data():
    from rnnkit.diagnostics import memory_horizon
    from rnnkit.diagnostics.horizon import horizon_model
    from rnnkit.datasets import adding_problem

    points = memory_horizon(cells=("SimpleRNN", "GRU"), lags=(4, 6), units=3, samples=40,
                            epochs=2, batch_size=8, seed=1)
    assert [(p.cell, p.lag) for p in points] == [("SimpleRNN", 4), ("GRU", 4), ("SimpleRNN", 6),
                                                 ("GRU", 6)]
    assert all(p.chance == pytest.approx(1 / 6) and p.relative == p.val_loss / p.chance
               for p in points)
    # the reported loss is that of fitting the task's data with the given budget
    x, y = adding_problem(40, time_steps=6, lag=6, seed=1)
    model = horizon_model("GRU", "adding", 2, 3, seed=1)
    torch.manual_seed(1)
    history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.2, verbose=0)
    assert points[-1].val_loss == pytest.approx(history.history["val_loss"][-1], rel=1e-6)
    with pytest.raises(ValueError, match="expected cells among SimpleRNN, LSTM, GRU, got 'RNN'"):
        memory_horizon(cells=("RNN",), lags=(4,), samples=10, epochs=1)


def test_memory_horizon_copy_task_chance_is_blanks_then_a_uniform_guess():
    from rnnkit.datasets import copy_task
    from rnnkit.diagnostics import memory_horizon
    from rnnkit.diagnostics.horizon import COPY_LENGTH, COPY_SYMBOLS, horizon_data, horizon_model

    lag = 7
    x, y, chance = horizon_data("copy", lag, 30, seed=2)
    assert np.array_equal(x, copy_task(30, COPY_LENGTH, lag, COPY_SYMBOLS, seed=2)[0])
    # the strategy "blank, except a uniform guess among the symbols where the copy is due"
    p = np.zeros(y.shape + (COPY_SYMBOLS + 2,))
    p[..., 0] = 1.0
    p[:, -COPY_LENGTH:] = 0.0
    p[:, -COPY_LENGTH:, 1:COPY_SYMBOLS + 1] = 1.0 / COPY_SYMBOLS
    cross_entropy = -np.log(np.take_along_axis(p, y[..., None], -1)).mean()
    assert chance == pytest.approx(cross_entropy, rel=1e-12)

    seen = []
    points = memory_horizon(cells=("LSTM",), lags=(lag,), task="copy", units=4, samples=30,
                            epochs=1, batch_size=10, seed=2, on_point=seen.append)
    assert seen == points and points[0].chance == chance
    model = horizon_model("LSTM", "copy", x.shape[-1], 4, seed=2)
    torch.manual_seed(2)
    history = model.fit(x, y, epochs=1, batch_size=10, validation_split=0.2, verbose=0)
    assert points[0].val_loss == pytest.approx(history.history["val_loss"][-1], rel=1e-6)
    with pytest.raises(ValueError, match="expected task one of .*, got 'sort'"):
        memory_horizon(lags=(4,), task="sort")
