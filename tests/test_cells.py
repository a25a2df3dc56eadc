"""Keras 3's cells (SimpleRNNCell, LSTMCell, GRUCell), StackedRNNCells and RNN(cell): one step
against the equations and torch.nn's cells in float64, RNN over a built-in cell against the
built-in layer bit for bit on the same backend, a user's cell against a hand-written loop,
stacks against stacked layers, Keras's dropout masks, configs and saved weights. RNN layers
kept, loaded and restored: tests/test_cells_saving.py."""

from __future__ import annotations

import pytest
import torch

from rnnkit import layers
from rnnkit.layers import (GRU, LSTM, RNN, GRUCell, Layer, LSTMCell, SimpleRNN, SimpleRNNCell,
                           StackedRNNCells)
from helpers import needs_native, outputs_and_grads

F64 = torch.float64


def _randomize(*modules, scale=0.6, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in modules:
            for w in module.weights:
                w.copy_((torch.rand(w.shape, generator=g, dtype=w.dtype) * 2 - 1) * scale)


def _step_inputs(units, states=1, features=3, batch=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, features, dtype=F64, generator=g).requires_grad_()
    hs = [(0.5 * torch.randn(batch, units, dtype=F64, generator=g)).requires_grad_()
          for _ in range(states)]
    return x, hs


# -- one step -------------------------------------------------------------------------------------
def _torch_cell(cell):
    """torch.nn's cell with the rnnkit cell's weights, gate blocks mapped by hand: LSTM keeps
    i, f, c(g), o; GRU's z, r, h become torch's r, z, n (bias rows input, recurrent)."""
    W, U, b = (w.detach() for w in cell.weights)
    if isinstance(cell, LSTMCell):
        module, order = torch.nn.LSTMCell(W.shape[0], cell.units), [0, 1, 2, 3]
        b_ih, b_hh = b, torch.zeros_like(b)
    elif isinstance(cell, GRUCell):
        module, order = torch.nn.GRUCell(W.shape[0], cell.units), [1, 0, 2]
        b_ih, b_hh = b[0], b[1]
    else:
        nonlinearity = cell.get_config()["activation"]
        module, order = torch.nn.RNNCell(W.shape[0], cell.units, nonlinearity=nonlinearity), [0]
        b_ih, b_hh = b, torch.zeros_like(b)

    def blocks(w):
        chunks = w.chunk(len(order), dim=-1)
        return torch.cat([chunks[j] for j in order], dim=-1)

    module = module.double()
    with torch.no_grad():
        for name, value in (("weight_ih", blocks(W).T), ("weight_hh", blocks(U).T),
                            ("bias_ih", blocks(b_ih)), ("bias_hh", blocks(b_hh))):
            getattr(module, name).copy_(value)
    return module


@pytest.mark.parametrize("make", [lambda: SimpleRNNCell(5),
                                  lambda: SimpleRNNCell(5, activation="relu"),
                                  lambda: LSTMCell(5), lambda: GRUCell(5)],
                         ids=["simple_rnn", "simple_rnn_relu", "lstm", "gru"])
def test_a_step_matches_torch_nn_cells_values_and_gradients(make):
    cell = make()
    cell.build((None, 3))
    cell.double()
    _randomize(cell)
    module = _torch_cell(cell)
    lstm = isinstance(cell, LSTMCell)
    x, hs = _step_inputs(5, states=2 if lstm else 1)
    out, states = cell(x, hs)
    theirs = module(x, tuple(hs)) if lstm else module(x, hs[0])
    theirs = list(theirs) if lstm else [theirs]
    for a, b in zip([out, *states], [theirs[0], *theirs]):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    ours = torch.autograd.grad(sum((s * s.cos()).sum() for s in states), [x, *hs])
    ref = torch.autograd.grad(sum((s * s.cos()).sum() for s in theirs), [x, *hs])
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_a_step_matches_the_equations():
    """Each cell's step, written out here from the equations (GRU in both forms)."""
    x, (h, c) = _step_inputs(4, states=2)
    sig, tanh = torch.sigmoid, torch.tanh
    for cell in (SimpleRNNCell(4), LSTMCell(4), GRUCell(4), GRUCell(4, reset_after=False)):
        cell.build((None, 3))
        cell.double()
        _randomize(cell, seed=3)
        W, U, b = cell.weights
        if isinstance(cell, SimpleRNNCell):
            expected = [tanh(x @ W + b + h @ U)]
            got = cell(x, [h])[1]
        elif isinstance(cell, LSTMCell):
            i, f, g, o = (x @ W + b + h @ U).chunk(4, dim=-1)
            c_new = sig(f) * c + sig(i) * tanh(g)
            expected = [sig(o) * tanh(c_new), c_new]
            got = cell(x, [h, c])[1]
        else:
            Wz, Wr, Wh = W.chunk(3, dim=-1)
            Uz, Ur, Uh = U.chunk(3, dim=-1)
            bx, bh = (b[0], b[1]) if cell.reset_after else (b, torch.zeros_like(b))
            (bxz, bxr, bxh), (bhz, bhr, bhh) = bx.chunk(3), bh.chunk(3)
            z = sig(x @ Wz + bxz + h @ Uz + bhz)
            r = sig(x @ Wr + bxr + h @ Ur + bhr)
            inner = r * (h @ Uh + bhh) if cell.reset_after else (r * h) @ Uh
            expected = [z * h + (1 - z) * tanh(x @ Wh + bxh + inner)]
            got = cell(x, [h])[1]
        for a, e in zip(got, expected):
            torch.testing.assert_close(a, e, rtol=1e-12, atol=1e-12)


def test_what_a_step_returns_as_keras():
    x, (h, c) = _step_inputs(3, states=2)
    for cell in (SimpleRNNCell(3), GRUCell(3)):
        cell.double()
        out, states = cell(x, [h])
        assert isinstance(states, list) and len(states) == 1 and states[0] is out
        out, state = cell(x, h)
        assert torch.is_tensor(state) and state is out
    cell = LSTMCell(3).double()
    out, states = cell(x, (h, c))
    assert isinstance(states, list) and len(states) == 2 and states[0] is out


def test_state_sizes_and_initial_states():
    assert SimpleRNNCell(3).state_size == 3 and GRUCell(3).state_size == 3
    assert LSTMCell(3).state_size == [3, 3]
    assert [c.output_size for c in (SimpleRNNCell(3), LSTMCell(3), GRUCell(3))] == [3, 3, 3]
    states = LSTMCell(4, dtype="float64").get_initial_state(batch_size=2)
    assert [tuple(s.shape) for s in states] == [(2, 4), (2, 4)] and states[0].dtype == F64
    assert not any(s.any() for s in states)
    assert [tuple(s.shape) for s in GRUCell(4).get_initial_state(5)] == [(5, 4)]


def test_cell_weights_are_keras_s():
    lstm, gru, gru_before = LSTMCell(4), GRUCell(4), GRUCell(4, reset_after=False)
    for cell in (lstm, gru, gru_before):
        cell.build((None, 3))
    assert lstm.weight_names == ["kernel", "recurrent_kernel", "bias"]
    assert [tuple(w.shape) for w in lstm.weights] == [(3, 16), (4, 16), (16,)]
    assert tuple(gru.bias.shape) == (2, 12) and tuple(gru_before.bias.shape) == (12,)
    assert lstm.bias[4:8].eq(1).all() and lstm.bias[:4].eq(0).all()  # unit_forget_bias
    assert SimpleRNNCell(2, use_bias=False, input_shape=(3,)).weight_names == ["kernel",
                                                                              "recurrent_kernel"]


# -- dropout masks -------------------------------------------------------------------------------
def test_dropout_masks_are_kept_until_reset():
    cell = GRUCell(4, dropout=0.5, recurrent_dropout=0.3, seed=3)
    x, h = torch.ones(6, 5), torch.ones(6, 4)
    masks = cell.get_dropout_mask(x)
    assert isinstance(masks, list) and len(masks) == 3  # one per gate, as Keras's implementation 1
    assert cell.get_dropout_mask(x) is masks
    recurrent = cell.get_recurrent_dropout_mask(h)
    assert [tuple(m.shape) for m in recurrent] == [(6, 4)] * 3
    values = torch.cat([m.flatten() for m in masks]).unique().tolist()
    assert set(values) <= {0.0, 2.0}
    cell.reset_dropout_mask()
    cell.reset_recurrent_dropout_mask()
    assert cell.get_dropout_mask(x) is not masks
    single = LSTMCell(4, dropout=0.5).get_dropout_mask(x)  # no recurrent dropout: one mask
    assert torch.is_tensor(single) and single.shape == x.shape
    assert LSTMCell(4).get_dropout_mask(x) is None


def test_a_step_in_training_uses_the_kept_masks():
    cell = SimpleRNNCell(3, dropout=0.5, recurrent_dropout=0.5, seed=0, input_shape=(4,))
    x, h = torch.randn(5, 4), torch.randn(5, 3)
    first = cell(x, [h], training=True)[0]
    torch.testing.assert_close(cell(x, [h], training=True)[0], first, rtol=0, atol=0)
    m_x, m_h = cell.get_dropout_mask(x), cell.get_recurrent_dropout_mask(h)
    W, U, b = cell.weights
    torch.testing.assert_close(first, torch.tanh((x * m_x) @ W + b + (h * m_h) @ U))
    torch.testing.assert_close(cell(x, [h])[0], torch.tanh(x @ W + b + h @ U))  # inference


# -- RNN(cell) is the built-in layer ----------------------------------------------------------
LAYER = {"SimpleRNN": (SimpleRNN, SimpleRNNCell), "LSTM": (LSTM, LSTMCell), "GRU": (GRU, GRUCell)}
RNN_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful",
            "zero_output_for_mask", "backend")


def _pair(name, batch=None, **kwargs):
    """The built-in layer and RNN over its cell, the same weights (random biases too)."""
    layer_cls, cell_cls = LAYER[name]
    rnn_kwargs = {k: kwargs.pop(k) for k in RNN_KEYS if k in kwargs}
    shape = {"batch_input_shape": (batch, None, 3)}
    layer = layer_cls(4, **kwargs, **rnn_kwargs, **shape)
    rnn = RNN(cell_cls(4, **kwargs), **rnn_kwargs, **shape)
    _randomize(layer)
    rnn.set_weights(layer.get_weights())
    return layer, rnn


CASES = [
    ("LSTM", {}, {}), ("GRU", {}, {}), ("SimpleRNN", {}, {}),
    ("GRU", {"reset_after": False, "return_sequences": True}, {}),
    ("LSTM", {"return_sequences": True, "return_state": True, "go_backwards": True}, {}),
    ("GRU", {"return_state": True}, {"initial_state": True}),
    ("LSTM", {"return_sequences": True}, {"mask": "right_padded"}),
    ("SimpleRNN", {"return_sequences": True, "go_backwards": True}, {"mask": "right_padded"}),
    ("GRU", {"return_sequences": True, "zero_output_for_mask": True}, {"mask": "holes"}),
    ("LSTM", {"dropout": 0.3, "recurrent_dropout": 0.2, "seed": 5, "return_sequences": True},
     {"training": True}),
    ("GRU", {"dropout": 0.4, "seed": 1}, {"training": True}),
    ("LSTM", {"backend": "reference", "return_state": True}, {"initial_state": True}),
]


def _call_args(call, x, states):
    mask = None
    if call.get("mask") == "right_padded":
        mask = torch.arange(x.shape[1]) < torch.tensor([5, 3, 1])[:, None]
    elif call.get("mask") == "holes":
        mask = torch.tensor([[1, 0, 1, 1, 0], [0, 0, 1, 0, 1], [1, 1, 1, 1, 1]], dtype=torch.bool)
    initial = None
    if call.get("initial_state"):
        g = torch.Generator().manual_seed(7)
        initial = [torch.randn(x.shape[0], 4, generator=g).requires_grad_() for _ in range(states)]
    return {"mask": mask, "training": call.get("training")}, initial


@pytest.mark.parametrize("name,kwargs,call", CASES)
def test_rnn_over_a_cell_is_the_layer_bit_for_bit(name, kwargs, call):
    layer, rnn = _pair(name, **kwargs)
    x = torch.randn(3, 5, 3, generator=torch.Generator().manual_seed(2)).requires_grad_()
    extra, initial = _call_args(call, x, 2 if name == "LSTM" else 1)
    ours = outputs_and_grads(rnn, x, initial_state=initial, **extra)
    theirs = outputs_and_grads(layer, x, initial_state=initial, **extra)
    assert rnn.last_backend == layer.last_backend
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)


@needs_native
@pytest.mark.parametrize("cell", [SimpleRNNCell, LSTMCell, GRUCell])
def test_rnn_over_a_built_in_cell_runs_natively(cell):
    rnn = RNN(cell(8), return_sequences=True)
    x = torch.randn(2, 6, 3, requires_grad=True)
    rnn(x).sum().backward()
    assert rnn.last_backend == "native"
    assert LSTM(8)(x).shape == (2, 8)


def test_stateful_rnn_over_a_cell_carries_states_as_the_layer():
    layer, rnn = _pair("LSTM", batch=2, stateful=True, return_state=True)
    x = torch.randn(2, 4, 3)
    for _ in range(2):
        for a, b in zip(rnn(x), layer(x)):
            assert torch.equal(a, b)
    assert all(torch.equal(a, b) for a, b in zip(rnn.states, layer.states))
    rnn.reset_states()
    assert not any(s.any() for s in rnn.states)


# -- a user's cell, and stacks -------------------------------------------------------------------
class MinimalRNNCell(Layer):
    """Keras's documented example of a cell: output = x K + h U, state = output."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
        self.add_weight(name="recurrent_kernel", shape=(self.units, self.units))

    def call(self, inputs, states):
        output = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _minimal_loop(x, K, U, h, mask=None, backwards=False, zero_output=False):
    """The loop Keras defines, by hand: masked steps keep h and repeat the previous output."""
    steps = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    outputs, previous = [], torch.zeros_like(h)
    for t in steps:
        new = x[:, t] @ K + h @ U
        keep = torch.ones(x.shape[0], 1, dtype=torch.bool) if mask is None else mask[:, t, None]
        h = torch.where(keep, new, h)
        previous = torch.where(keep, new, torch.zeros_like(new) if zero_output else previous)
        outputs.append(previous)
    return torch.stack(outputs, dim=1), h


@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_a_users_cell_runs_keras_s_loop(backwards, zero_output):
    rnn = RNN(MinimalRNNCell(3), return_sequences=True, return_state=True,
              go_backwards=backwards, zero_output_for_mask=zero_output).double()
    x = torch.randn(3, 5, 2, dtype=F64, requires_grad=True)
    mask = torch.tensor([[1, 1, 1, 0, 0], [0, 1, 0, 1, 1], [1, 1, 1, 1, 1]], dtype=torch.bool)
    h0 = torch.randn(3, 3, dtype=F64, requires_grad=True)
    y, h = rnn(x, initial_state=[h0], mask=mask)
    K, U = rnn.weights
    y_ref, h_ref = _minimal_loop(x, K, U, h0, mask, backwards, zero_output)
    torch.testing.assert_close(y, y_ref, rtol=0, atol=1e-14)
    torch.testing.assert_close(h, h_ref, rtol=0, atol=1e-14)
    assert rnn.last_backend == "reference" and rnn.weight_names == ["kernel", "recurrent_kernel"]
    assert torch.autograd.gradcheck(lambda x, h0: rnn(x, initial_state=[h0], mask=mask)[0],
                                    (x, h0))


def test_a_plain_object_with_call_and_state_size_is_a_cell():
    class Doubling:
        state_size = 2

        def call(self, inputs, states):
            h = 2 * states[0] + inputs
            return h, [h]

    rnn = RNN(Doubling(), return_sequences=True)
    x = torch.ones(1, 3, 2)
    torch.testing.assert_close(rnn(x)[0], torch.tensor([[1.0, 1.0], [3.0, 3.0], [7.0, 7.0]]))
    assert rnn.weights == [] and rnn.compute_output_shape((1, 3, 2)) == (1, 3, 2)
    with pytest.raises(ValueError, match="rnn_1: expected a cell with a `state_size`"):
        RNN(object.__new__(type("NoState", (), {"call": lambda self, x, s: (x, s)})),
            name="rnn_1")


def test_a_stack_is_two_stacked_layers():
    torch.manual_seed(0)
    stacked = RNN([LSTMCell(4), GRUCell(3)], return_sequences=True, return_state=True,
                  input_shape=(None, 2)).double()
    first = LSTM(4, return_sequences=True, return_state=True, input_shape=(None, 2),
                 dtype="float64")
    second = GRU(3, return_sequences=True, return_state=True, input_shape=(None, 4),
                 dtype="float64")
    _randomize(stacked)
    first.set_weights(stacked.get_weights()[:3])
    second.set_weights(stacked.get_weights()[3:])
    x = torch.randn(3, 6, 2, dtype=F64)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 0, 1, 1, 1, 1], [1] * 6], dtype=torch.bool)
    y, (h1, c1), (h2,) = stacked(x, mask=mask)
    y1, h1_ref, c1_ref = first(x, mask=mask)
    y_ref, h2_ref = second(y1, mask=mask)
    for a, b in ((y, y_ref), (h1, h1_ref), (c1, c1_ref), (h2, h2_ref)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert stacked.compute_output_shape((3, 6, 2)) == [(3, 6, 3), [(3, 4), (3, 4)], (3, 3)]
    assert stacked.weight_names[:4] == ["lstm_cell/kernel", "lstm_cell/recurrent_kernel",
                                        "lstm_cell/bias", "gru_cell/kernel"]


def test_a_stack_takes_its_states_nested_or_flat_and_carries_them():
    rnn = RNN([GRUCell(3), LSTMCell(2)], return_state=True, input_shape=(None, 2), name="stack")
    x = torch.randn(4, 5, 2)
    h1, h2, c2 = torch.randn(4, 3), torch.randn(4, 2), torch.randn(4, 2)
    nested, flat = rnn(x, initial_state=[[h1], [h2, c2]]), rnn(x, initial_state=[h1, h2, c2])
    assert all(torch.equal(a, b) for a, b in zip(tree_leaves(nested), tree_leaves(flat)))
    with pytest.raises(ValueError, match=r"stack: expected 3 initial state\(s\), got 2"):
        rnn(x, initial_state=[h1, h2])
    with pytest.raises(ValueError, match=r"stack: expected initial state 1 of shape \(4, 2\), "
                                         r"got \(4, 3\)"):
        rnn(x, initial_state=[h1, h1, c2])
    stateful = RNN([GRUCell(3), LSTMCell(2)], stateful=True, batch_input_shape=(4, None, 2))
    stateful.set_weights(rnn.get_weights())
    first, second = stateful(x[:, :2]), stateful(x[:, 2:])
    assert [[tuple(s.shape) for s in group] for group in stateful.states] == [[(4, 3)],
                                                                              [(4, 2), (4, 2)]]
    torch.testing.assert_close(second, rnn(x)[0])
    stateful.reset_states()
    torch.testing.assert_close(stateful(x[:, :2]), first)


def tree_leaves(structure):
    if isinstance(structure, (list, tuple)):
        return [leaf for s in structure for leaf in tree_leaves(s)]
    return [structure]


def test_the_loop_over_a_cell_draws_the_masks_the_fast_backends_take():
    """A stack of one seeded cell runs Keras's loop over its call; RNN over the cell itself
    runs on rnnkit's backends: the same masks (from the same seed), the same outputs."""
    kwargs = {"dropout": 0.3, "recurrent_dropout": 0.4, "seed": 11}
    fast = RNN(LSTMCell(4, **kwargs), return_sequences=True, input_shape=(None, 3))
    loop = RNN(StackedRNNCells([LSTMCell(4, **kwargs)]), return_sequences=True,
               input_shape=(None, 3))
    _randomize(fast)
    loop.set_weights(fast.get_weights())
    x = torch.randn(2, 6, 3)
    for _ in range(2):  # new masks for each sequence, the same in both
        torch.testing.assert_close(loop(x, training=True), fast(x, training=True))
    assert loop.last_backend == "reference"
    assert loop.cell.cells[0].get_dropout_mask(x[:, 0]) is not None  # none kept after a call
    torch.testing.assert_close(loop(x), fast(x))


def test_masks_of_the_outputs_as_keras():
    x, mask = torch.zeros(2, 3, 1), torch.tensor([[True, True, False], [True, False, False]])
    assert RNN(LSTMCell(2), return_sequences=True).compute_mask(x, mask) is mask
    assert RNN(LSTMCell(2)).compute_mask(x, mask) is None
    masks = RNN(LSTMCell(2), return_state=True, return_sequences=True).compute_mask(
        x, [mask, None])
    assert masks[0] is mask and masks[1:] == [None, None]
    assert RNN([GRUCell(2), LSTMCell(2)], return_state=True).compute_mask(x, mask) == [None] * 4


def test_a_compiled_stack_matches_eager():
    from helpers import assert_compiled_matches_eager
    from rnnkit.models import Sequential

    model = Sequential([layers.Input((5, 3)), RNN([GRUCell(4), LSTMCell(2)],
                                                 return_sequences=True), layers.Dense(1)])
    assert_compiled_matches_eager(model, torch.randn(2, 5, 3))


@needs_native
def test_bidirectional_over_a_cell_equals_bidirectional_over_the_layer():
    torch.manual_seed(0)
    layer = layers.Bidirectional(LSTM(3, return_sequences=True, return_state=True))
    over_cell = layers.Bidirectional(RNN(LSTMCell(3), return_sequences=True, return_state=True))
    x = torch.randn(2, 5, 4)
    layer(x), over_cell(x)
    over_cell.set_weights(layer.get_weights())
    mask = torch.tensor([[True] * 3 + [False] * 2, [True] * 5])
    for a, b in zip(layer(x, mask=mask), over_cell(x, mask=mask)):
        assert torch.equal(a, b)
    assert over_cell.forward_layer.last_backend == over_cell.backward_layer.last_backend == "native"
