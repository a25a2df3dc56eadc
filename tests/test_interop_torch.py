"""from_torch / to_torch against torch.nn itself: outputs, input gradients, parameters, refusals."""

import itertools

import pytest
import torch

from rnnkit import layers
from rnnkit.backends import native
from rnnkit.interop import from_torch, to_torch
from rnnkit.models import Sequential
from helpers import needs_native

TOL = 2e-5
KINDS = {"rnn_tanh": (torch.nn.RNN, {"nonlinearity": "tanh"}),
         "rnn_relu": (torch.nn.RNN, {"nonlinearity": "relu"}),
         "lstm": (torch.nn.LSTM, {}), "gru": (torch.nn.GRU, {})}
BACKENDS = ["reference", pytest.param("native", marks=needs_native)]
FEATURES, UNITS = 3, 5


def _module(kind, num_layers=1, bidirectional=False, batch_first=True, bias=True, **kwargs):
    cls, extra = KINDS[kind]
    return cls(FEATURES, UNITS, num_layers=num_layers, bidirectional=bidirectional,
               batch_first=batch_first, bias=bias, **extra, **kwargs).eval()


def _torch_output(module, x):
    """module's first output for batch-first x, batch-first."""
    if module.batch_first:
        return module(x)[0]
    return module(x.transpose(0, 1))[0].transpose(0, 1)


def _assert_same_function(model, module, dtype=torch.float32, tol=TOL):
    """Same output and same gradient of a random projection of it w.r.t. the input."""
    x = torch.randn(4, 6, FEATURES, dtype=dtype, requires_grad=True)
    ours, theirs = model(x), _torch_output(module, x)
    torch.testing.assert_close(ours, theirs, rtol=tol, atol=tol)
    grad_out = torch.randn_like(theirs)
    (dx_ours,) = torch.autograd.grad(ours, x, grad_out)
    (dx_theirs,) = torch.autograd.grad(theirs, x, grad_out)
    torch.testing.assert_close(dx_ours, dx_theirs, rtol=tol, atol=tol)


def _recurrent_layers(model):
    found = []
    for layer in model.layers:
        if isinstance(layer, layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, layers.RNNLayer):
            found.append(layer)
    return found


# Every kind meets every (batch_first, bias) pair, shifted so that the pair varies with the stack.
PAIRS = list(itertools.product([True, False], [True, False]))
STACKS = list(itertools.product([1, 3], [False, True]))
CASES = [(kind, n, bi, *PAIRS[(j + i) % 4])
         for i, kind in enumerate(KINDS) for j, (n, bi) in enumerate(STACKS)]
CASES += [("lstm", 2, True, False, False), ("gru", 2, False, True, False)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind,num_layers,bidirectional,batch_first,bias", CASES,
                         ids=[f"{k}-L{n}-{'bi' if b else 'uni'}-{'bf' if f else 'tm'}-"
                              f"{'bias' if c else 'nobias'}" for k, n, b, f, c in CASES])
def test_from_torch_matches_torch_nn(kind, num_layers, bidirectional, batch_first, bias, backend):
    module = _module(kind, num_layers, bidirectional, batch_first, bias)
    model = from_torch(module, backend=backend)
    assert len(model.layers) == num_layers
    _assert_same_function(model, module)
    assert {layer.last_backend for layer in _recurrent_layers(model)} == {backend}


def test_from_torch_keeps_the_module_dtype():
    module = _module("lstm", 2, bidirectional=True).double()
    model = from_torch(module, backend="reference")
    assert all(w.dtype == torch.float64 for w in model.weights)
    _assert_same_function(model, module, dtype=torch.float64, tol=1e-12)


def test_from_torch_layers_and_dropout():
    module = _module("gru", 3, dropout=0.5)
    model = from_torch(module)
    assert [type(layer).__name__ for layer in model.layers] == ["GRU", "Dropout", "GRU",
                                                                "Dropout", "GRU"]
    assert all(layer.rate == 0.5 for layer in model.layers[1::2])
    assert all(layer.return_sequences and layer.reset_after for layer in model.layers[::2])
    assert not model.training
    _assert_same_function(model, module)  # both in inference mode: no dropout
    x = torch.randn(8, 6, FEATURES)
    torch.testing.assert_close(model(x, training=False), model(x))
    assert not torch.allclose(model(x, training=True), model(x))


def test_from_torch_bidirectional_layout():
    model = from_torch(_module("lstm", 2, bidirectional=True))
    first = model.layers[0]
    assert type(first).__name__ == "Bidirectional" and first.merge_mode == "concat"
    assert not first.forward_layer.go_backwards and first.backward_layer.go_backwards
    assert model(torch.zeros(2, 4, FEATURES)).shape == (2, 4, 2 * UNITS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_round_trip_gives_the_same_parameters(kind, bidirectional, bias):
    module = _module(kind, 2, bidirectional, batch_first=False, bias=bias, dropout=0.25)
    back = to_torch(from_torch(module))
    assert (type(back), back.batch_first, back.dropout, back.num_layers, back.bidirectional,
            back.hidden_size, back.input_size, back.bias, back.mode) == (
        type(module), True, 0.25, 2, bidirectional, UNITS, FEATURES, bias, module.mode)
    original, returned = dict(module.named_parameters()), dict(back.named_parameters())
    assert original.keys() == returned.keys()
    for name, p in original.items():
        if kind == "gru" or "bias" not in name:
            assert torch.equal(returned[name], p), name
        elif "bias_ih" in name:  # one Keras bias b = bias_ih + bias_hh, exported as bias_ih
            assert torch.equal(returned[name], p + original[name.replace("_ih", "_hh")]), name
        else:
            assert torch.equal(returned[name], torch.zeros_like(p)), name
    # a module in that form (bias_hh = 0) comes back bit for bit
    again = dict(to_torch(from_torch(back)).named_parameters())
    assert all(torch.equal(again[name], p) for name, p in returned.items())


CELLS = [("SimpleRNN", {}), ("SimpleRNN", {"activation": "relu"}), ("LSTM", {}), ("GRU", {}),
         ("LSTM", {"use_bias": False})]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cls,kwargs", CELLS, ids=[c + str(k) for c, k in CELLS])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_to_torch_of_one_layer(cls, kwargs, return_sequences, backend):
    layer = getattr(layers, cls)(UNITS, return_sequences=return_sequences, backend=backend,
                                 bias_initializer="random_normal", input_shape=(None, FEATURES),
                                 **kwargs)
    module = to_torch(layer)
    assert module.batch_first and not module.training
    x = torch.randn(4, 6, FEATURES, requires_grad=True)
    ours, theirs = layer(x), module(x)[0]
    if not return_sequences:  # torch returns the whole sequence; the layer its last step
        theirs = theirs[:, -1]
    torch.testing.assert_close(ours, theirs, rtol=TOL, atol=TOL)
    assert layer.last_backend == backend
    grad_out = torch.randn_like(ours)
    torch.testing.assert_close(torch.autograd.grad(ours, x, grad_out)[0],
                               torch.autograd.grad(theirs, x, grad_out)[0], rtol=TOL, atol=TOL)


def test_to_torch_of_a_keras_style_lstm_stack():
    model = Sequential([layers.Input((None, FEATURES)), layers.LSTM(8, return_sequences=True),
                        layers.Dropout(0.3), layers.LSTM(8)])
    module = to_torch(model)
    assert (module.num_layers, module.dropout, module.hidden_size) == (2, 0.3, 8)
    # unit_forget_bias: the forget block (torch's second, as Keras's) starts at 1, bias_hh at 0
    for k in range(2):
        bias_ih = getattr(module, f"bias_ih_l{k}")
        assert torch.equal(bias_ih, torch.cat([torch.zeros(8), torch.ones(8), torch.zeros(16)]))
        assert torch.equal(getattr(module, f"bias_hh_l{k}"), torch.zeros(32))
    x = torch.randn(4, 6, FEATURES)
    torch.testing.assert_close(model(x), module(x)[0][:, -1], rtol=TOL, atol=TOL)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
def test_to_torch_of_a_bidirectional_stack(cls, backend):
    """The last Bidirectional returns one vector: its forward direction's last state and its
    backward direction's, which ends at the first step: torch's h_n, not output[:, -1]."""
    def recurrent(**kwargs):
        return getattr(layers, cls)(UNITS, bias_initializer="random_normal", backend=backend,
                                    **kwargs)

    model = Sequential([layers.Bidirectional(recurrent(return_sequences=True),
                                             input_shape=(None, FEATURES)),
                        layers.Bidirectional(recurrent())])
    module = to_torch(model)
    assert module.bidirectional and module.num_layers == 2
    x = torch.randn(4, 6, FEATURES)
    h_n = module(x)[1]
    h_n = h_n[0] if cls == "LSTM" else h_n
    torch.testing.assert_close(model(x), torch.cat([h_n[-2], h_n[-1]], -1), rtol=TOL, atol=TOL)
    model.pop()
    _assert_same_function(model, to_torch(model))


def test_to_torch_carries_trainable_and_training():
    layer = layers.GRU(UNITS, input_shape=(None, FEATURES), trainable=False)
    assert not any(p.requires_grad for p in to_torch(layer).parameters())
    model = Sequential([layers.GRU(UNITS, return_sequences=True, input_shape=(None, FEATURES))])
    model.train()
    assert to_torch(model).training


# -- refusals -------------------------------------------------------------------------------------
@pytest.mark.parametrize("module", [torch.nn.Linear(2, 3), torch.nn.LSTMCell(2, 3)],
                         ids=["Linear", "LSTMCell"])
def test_from_torch_refuses_other_modules(module):
    with pytest.raises(TypeError, match=f"expected a torch.nn.RNN.*got .*{type(module).__name__}"):
        from_torch(module)


def test_from_torch_refuses_projections():
    with pytest.raises(ValueError, match="proj_size=2.*expected proj_size=0"):
        from_torch(torch.nn.LSTM(3, 5, proj_size=2))


def _seq(*items):
    return Sequential(list(items))


SHAPE = {"input_shape": (None, FEATURES)}
LSTM, GRU = layers.LSTM, layers.GRU
# (id, what to export, the message expected); built inside each test, with fresh layer names
REFUSALS = [
    ("gru-reset-before", lambda: GRU(4, reset_after=False, **SHAPE),
     r"'gru' \(GRU\) has reset_after=False; expected reset_after=True"),
    ("rnn-sigmoid", lambda: layers.SimpleRNN(4, activation="sigmoid", **SHAPE),
     r"activation='sigmoid'; expected 'tanh' or 'relu'"),
    ("lstm-relu", lambda: LSTM(4, activation="relu", **SHAPE),
     r"activation='relu'; expected 'tanh'"),
    ("gru-hard-sigmoid", lambda: GRU(4, recurrent_activation="hard_sigmoid", **SHAPE),
     r"recurrent_activation='hard_sigmoid'; expected 'sigmoid'"),
    ("go-backwards", lambda: LSTM(4, go_backwards=True, **SHAPE),
     "go_backwards=True; expected go_backwards=False: torch.nn reverses time only in "
     "Bidirectional"),
    ("stateful", lambda: LSTM(4, stateful=True, batch_size=2, **SHAPE),
     "stateful=True; expected stateful=False"),
    ("not-built", lambda: LSTM(4), r"'lstm' is not built"),
    ("merge-sum", lambda: layers.Bidirectional(LSTM(4), merge_mode="sum", **SHAPE),
     r"merge_mode='sum'; torch.nn concatenates the two directions, expected merge_mode"),
    ("units", lambda: _seq(LSTM(4, return_sequences=True, **SHAPE), LSTM(6)),
     r"'lstm_1' \(LSTM\) has units=6; expected units=4 as layer 'lstm'"),
    ("mixed-cells", lambda: _seq(LSTM(4, return_sequences=True, **SHAPE), GRU(4)),
     r"'gru' \(GRU\) has another cell type than layer 'lstm' \(LSTM\)"),
    ("mixed-bias", lambda: _seq(LSTM(4, return_sequences=True, **SHAPE), LSTM(4, use_bias=False)),
     "use_bias=False; expected use_bias=True"),
    ("mixed-nonlinearity", lambda: _seq(layers.SimpleRNN(4, return_sequences=True, **SHAPE),
                                        layers.SimpleRNN(4, activation="relu")),
     "activation='relu'; expected 'tanh' as layer 'simple_rnn': torch.nn.RNN has one"),
    ("dense", lambda: _seq(LSTM(4, **SHAPE), layers.Dense(1)), r"'dense' \(Dense\) has no place"),
    ("dropout-last", lambda: _seq(LSTM(4, **SHAPE), layers.Dropout(0.1)), "ends with a Dropout"),
    ("dropout-first", lambda: _seq(layers.Dropout(0.1, **SHAPE), LSTM(4)),
     "before the first recurrent"),
    ("dropout-rates", lambda: _seq(LSTM(4, return_sequences=True, **SHAPE), layers.Dropout(0.1),
                                   LSTM(4, return_sequences=True), LSTM(4)),
     r"dropout rates \[0.1, 0.0\]"),
    ("dropout-twice", lambda: _seq(LSTM(4, return_sequences=True, **SHAPE), layers.Dropout(0.1),
                                   layers.Dropout(0.1), LSTM(4)), "second Dropout in a row"),
    ("half-bidirectional", lambda: _seq(LSTM(4, return_sequences=True, **SHAPE),
                                        layers.Bidirectional(LSTM(4))),
     "'bidirectional' is Bidirectional but layer 'lstm' is not"),
    ("half-bidirectional-2", lambda: _seq(layers.Bidirectional(LSTM(4, return_sequences=True),
                                                               **SHAPE), LSTM(4)),
     "'lstm_1' is not Bidirectional but layer 'bidirectional' is"),
    ("reversed-bidirectional", lambda: layers.Bidirectional(LSTM(4, go_backwards=True),
                                                            backward_layer=LSTM(4), **SHAPE),
     "go_backwards=True forward and False backward; expected False and True"),
    ("embedding-mask", lambda: _seq(layers.Embedding(9, 3, mask_zero=True), LSTM(4)),
     r"'embedding' \(Embedding\) makes a mask"),
    ("masking", lambda: _seq(layers.Masking(**SHAPE), LSTM(4)), r"\(Masking\) makes a mask"),
]


@pytest.mark.parametrize("make,message", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_to_torch_refuses_what_torch_cannot_compute(make, message):
    with pytest.raises(ValueError, match=message):
        to_torch(make())


@pytest.mark.parametrize("key", ["dropout", "recurrent_dropout"])
def test_to_torch_refuses_dropout_inside_a_layer(key):
    with pytest.raises(ValueError, match=f"{key}=0.2; expected {key}=0: torch.nn has no"):
        to_torch(LSTM(4, **{key: 0.2}, **SHAPE))


def test_to_torch_refuses_other_objects():
    with pytest.raises(TypeError, match="got torch.nn.modules.rnn.LSTM"):
        to_torch(torch.nn.LSTM(2, 3))
