"""The compiled backend against the float64 reference: values and every gradient."""

import importlib
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from rnnkit import layers
from rnnkit.backends import native
from helpers import assert_compiled_matches_eager, needs_native

pytestmark = needs_native

CONFIGS = [
    ("SimpleRNN", {}), ("SimpleRNN", {"activation": "relu"}), ("SimpleRNN", {"activation": "sigmoid"}),
    ("SimpleRNN", {"activation": "linear", "use_bias": False}),
    ("LSTM", {}), ("LSTM", {"recurrent_activation": "hard_sigmoid"}), ("LSTM", {"use_bias": False}),
    ("GRU", {}), ("GRU", {"reset_after": False}), ("GRU", {"use_bias": False}),
    ("GRU", {"reset_after": False, "use_bias": False}), ("GRU", {"recurrent_activation": "hard_sigmoid"}),
]
TOL = 1e-5


def _pair(cls, kwargs, features, units):
    """A native float32 layer and a reference float64 layer with the same random weights."""
    kwargs = {"return_sequences": True, **kwargs}
    ref = getattr(layers, cls)(units, return_state=True, backend="reference",
                               bias_initializer="random_normal", input_shape=(None, features),
                               **kwargs).double()
    nat = getattr(layers, cls)(units, return_state=True, backend="native",
                               input_shape=(None, features), **kwargs)
    nat.set_weights(ref.get_weights())
    return nat, ref


def _relative_error(a, b):
    """‖a − b‖ / ‖b‖ over the whole tensor (float32 against float64); a tensor whose norm is
    below 1e-2 (random output gradients can nearly cancel: terms of size ~1 summing to ~1e-3)
    is held to 1e-7 absolute instead, about one float32 rounding step of those terms."""
    a, b = a.detach().double(), b.detach()
    return float(torch.linalg.vector_norm(a - b)) / max(float(torch.linalg.vector_norm(b)), 1e-2)


def _fix_dropout_masks(nat, ref, x):
    """Both layers use the same dropout masks (drawn once, in each layer's dtype)."""
    masks = nat._dropout_masks(x.float(), training=True)
    for layer, dtype in ((nat, torch.float32), (ref, torch.float64)):
        fixed = tuple(None if m is None else [t.to(dtype) for t in m] for m in masks)
        layer._dropout_masks = lambda x, training, fixed=fixed: fixed


def compare(cls, kwargs, batch, time, features, units, go_backwards=False, seed=0, lengths=None):
    """lengths: a right-padded mask with these row lengths (which the native loop runs);
    dropout in kwargs: a training call, with the same fixed masks for both layers."""
    g = torch.Generator().manual_seed(seed)
    mask = None if lengths is None else torch.arange(time) < torch.tensor(lengths)[:, None]
    torch.manual_seed(seed)  # the layers' initial weights
    nat, ref = _pair(cls, {**kwargs, "go_backwards": go_backwards}, features, units)
    x = torch.randn(batch, time, features, generator=g, dtype=torch.float64)
    training = bool(kwargs.get("dropout") or kwargs.get("recurrent_dropout"))
    if training:
        _fix_dropout_masks(nat, ref, x)
    states = [0.5 * torch.randn(batch, units, generator=g, dtype=torch.float64)
              for _ in ref.spec.state_names]
    grads_out = None
    results = []
    for layer, dtype in ((ref, torch.float64), (nat, torch.float32)):
        xi = x.to(dtype).requires_grad_()
        si = [s.to(dtype).requires_grad_() for s in states]
        outs = layer(xi, initial_state=si, mask=mask, training=training)
        if grads_out is None:
            # positive weights: at T = 1 the last output and the state are the same value, and
            # random signs could make their gradients cancel to float32 noise
            grads_out = [torch.rand(o.shape, generator=g, dtype=torch.float64) + 0.5 for o in outs]
        grads = torch.autograd.grad(outs, [xi, *si, *layer.weights], [go.to(dtype) for go in grads_out])
        results.append((outs, grads))
    assert nat.last_backend == "native"
    for name, ours, theirs in [("output", results[1][0], results[0][0]), ("grad", results[1][1], results[0][1])]:
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert _relative_error(a, b) <= TOL, (name, i, _relative_error(a, b))


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=[f"{c}{k}" for c, k in CONFIGS])
# (B, T, I, H): up to native_ops.FOLDED_INPUTS inputs the loop sums d kernel, past it a product does
@pytest.mark.parametrize("shape", [(3, 7, 2, 5), (1, 1, 1, 1), (5, 4, 3, 37), (2, 3, 1, 16),
                                   (4, 5, 11, 9)])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_float64_reference(cls, kwargs, shape, go_backwards):
    compare(cls, kwargs, *shape, go_backwards=go_backwards)


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=[f"{c}{k}" for c, k in CONFIGS])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_right_padded_masks_match_float64_reference(cls, kwargs, go_backwards, zero_output):
    """Rows of every length from 0 to T (the states of a row of length 0 are its initial ones)."""
    compare(cls, {**kwargs, "zero_output_for_mask": zero_output}, 5, 6, 3, 7,
            go_backwards=go_backwards, lengths=[6, 3, 0, 1, 5])


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=[f"{c}{k}" for c, k in CONFIGS])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_recurrent_dropout_matches_float64_reference(cls, kwargs, dropout, go_backwards):
    """Fixed masks: one per gate on the state in each gate's product (and on the input)."""
    options = {**kwargs, "dropout": dropout, "recurrent_dropout": 0.4}
    compare(cls, options, 5, 6, 3, 7, go_backwards=go_backwards)
    compare(cls, options, 5, 6, 3, 7, go_backwards=go_backwards, lengths=[6, 3, 0, 1, 5])


@pytest.mark.parametrize("split", ["rows", "units"])
@pytest.mark.parametrize("cls,kwargs", [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}),
                                        ("GRU", {"reset_after": False})])
def test_recurrent_dropout_on_either_split(cls, kwargs, split, monkeypatch):
    monkeypatch.setenv("RNNKIT_SPLIT", split)
    compare(cls, {**kwargs, "dropout": 0.2, "recurrent_dropout": 0.3}, 3, 5, 2, 40,
            lengths=[5, 2, 4])


@pytest.mark.parametrize("split", ["rows", "units"])
@pytest.mark.parametrize("cls,kwargs", [("LSTM", {}), ("GRU", {"reset_after": False})])
def test_right_padded_masks_on_either_split(cls, kwargs, split, monkeypatch):
    monkeypatch.setenv("RNNKIT_SPLIT", split)
    compare(cls, kwargs, 3, 5, 2, 40, lengths=[5, 2, 4])
    compare(cls, {**kwargs, "return_sequences": False}, 3, 5, 2, 40, go_backwards=True,
            lengths=[1, 5, 3])


def test_a_mask_that_is_not_right_padded_runs_on_the_reference_loop():
    layer = layers.GRU(3, input_shape=(4, 2))
    x = torch.randn(2, 4, 2)
    layer(x, mask=torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool))
    assert layer.last_backend == "native"
    left = torch.tensor([[0, 1, 1, 1], [1, 1, 1, 1]], dtype=torch.bool)
    layer(x, mask=left)
    assert layer.last_backend == "reference"
    with pytest.raises(ValueError, match="gru_1: backend='native' does not run a mask that is not "
                                         "right-padded"):
        layers.GRU(3, backend="native")(x, mask=left)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.sampled_from(CONFIGS), batch=st.integers(1, 9), time=st.integers(1, 12),
       features=st.integers(1, 5), units=st.integers(1, 40), go_backwards=st.booleans(),
       seed=st.integers(0, 2**16))
def test_random_grid_matches_float64_reference(config, batch, time, features, units, go_backwards, seed):
    compare(*config, batch, time, features, units, go_backwards=go_backwards, seed=seed)


@pytest.mark.parametrize("cls,kwargs", [("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}),
                                        ("SimpleRNN", {})])
def test_large_units(cls, kwargs):
    compare(cls, kwargs, batch=3, time=4, features=2, units=520)


def test_thread_count_does_not_change_results():
    nat, _ = _pair("LSTM", {}, 3, 24)
    x = torch.randn(9, 6, 3)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = nat(x)
        torch.set_num_threads(2)
        two = nat(x)
    finally:
        torch.set_num_threads(before)
    for a, b in zip(one, two):
        assert torch.equal(a, b)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _values_and_grads(layer, x):
    """{name: tensor} of the outputs and the gradients of a fixed weighting of them."""
    outs = layer(x)
    weights = torch.rand(outs[0].shape, generator=torch.Generator().manual_seed(1)) + 0.5
    grads = torch.autograd.grad((outs[0] * weights).sum() + outs[1].sum(), [x, *layer.weights])
    names = [f"output{i}" for i in range(len(outs))] + ["x", "kernel", "recurrent_kernel", "bias"]
    return dict(zip(names, (*outs, *grads)))


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=[f"{c}{k}" for c, k in CONFIGS])
@pytest.mark.parametrize("units", [37, 64])
def test_split_over_units_matches_reference_and_split_over_rows(cls, kwargs, units, two_threads,
                                                                monkeypatch):
    """With few batch rows the team splits the hidden units (barriers inside each step): the
    same numbers as the float64 reference, and bit for bit those of the split over rows, except
    the kernel's and the bias's gradients: each thread sums its share of the rows, so the two
    splits add the same terms in a different order."""
    monkeypatch.setenv("RNNKIT_SPLIT", "units")
    compare(cls, kwargs, batch=3, time=6, features=2, units=units, go_backwards=True)
    nat, _ = _pair(cls, kwargs, 2, units)
    x = torch.randn(3, 6, 2, requires_grad=True)
    results = {}
    for split in ("rows", "units"):
        monkeypatch.setenv("RNNKIT_SPLIT", split)
        results[split] = _values_and_grads(nat, x)
    for name, a in results["rows"].items():
        b = results["units"][name]
        if name in ("kernel", "bias"):
            torch.testing.assert_close(a, b, rtol=TOL, atol=TOL)  # float32 summation order
        else:
            assert torch.equal(a, b), name


def test_split_env_is_checked(monkeypatch):
    monkeypatch.setenv("RNNKIT_SPLIT", "columns")
    with pytest.raises(ValueError, match="RNNKIT_SPLIT"):
        native.split()


@pytest.mark.parametrize("isa", ["portable", "avx2", "avx512"])
def test_every_instruction_set_the_cpu_has(isa, monkeypatch):
    probe = importlib.import_module("rnnkit._native_portable")
    if not probe.cpu_supports(isa):
        pytest.skip(f"this CPU has no {isa}")
    mod = importlib.import_module(f"rnnkit._native_{isa}")
    monkeypatch.setattr(native, "module", lambda: mod)
    for cls, kwargs in CONFIGS:
        compare(cls, kwargs, 4, 5, 3, 21, go_backwards=True)


def test_env_forces_instruction_set():
    code = "from rnnkit.backends import native; print(native.module().ISA)"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "RNNKIT_ISA": "portable"},
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "portable"


def test_auto_takes_native_for_float32_cpu_and_reference_otherwise():
    layer = layers.GRU(4)
    layer(torch.zeros(2, 3, 1))
    assert layer.last_backend == "native"
    layer.double()
    layer(torch.zeros(2, 3, 1, dtype=torch.float64))
    assert layer.last_backend == "reference"
    relu_gru = layers.GRU(4, activation="relu")
    relu_gru(torch.zeros(2, 3, 1))
    assert relu_gru.last_backend == "reference"


def test_native_kernel_really_runs(monkeypatch):
    calls = []
    real = native.module()

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def forward(self, **args):
            calls.append("forward")
            return real.forward(**args)

        def backward(self, **args):
            calls.append("backward")
            return real.backward(**args)

    monkeypatch.setattr(native, "module", lambda: Spy())
    layer = layers.LSTM(4)
    layer(torch.randn(2, 3, 1, requires_grad=True)).sum().backward()
    assert calls == ["forward", "backward"]


def test_weights_are_packed_once_per_version(monkeypatch):
    """Packed panels are reused while the weights are unchanged and rebuilt after any change
    that bumps their version (set_weights, in-place updates under no_grad, optimizer steps)."""
    from rnnkit.backends import packing

    real, packs = native.module(), []

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def pack(self, **args):
            packs.append(args["K"])
            return real.pack(**args)

    monkeypatch.setattr(native, "module", lambda: Spy())
    nat, ref = _pair("GRU", {}, 3, 21)
    x = torch.randn(2, 5, 3)
    with torch.no_grad():
        for _ in range(3):
            nat(x)
        assert len(packs) == 2  # kernel and recurrent kernel, once
        ref.set_weights([2 * w for w in ref.get_weights()])
        nat.set_weights(ref.get_weights())
        torch.testing.assert_close(nat(x)[0], ref(x.double())[0].float(), rtol=1e-5, atol=1e-6)
        nat.recurrent_kernel.mul_(-1)
        ref.recurrent_kernel.mul_(-1)
        torch.testing.assert_close(nat(x)[0], ref(x.double())[0].float(), rtol=1e-5, atol=1e-6)
    assert len(packs) == 5  # both after set_weights, the recurrent kernel after mul_
    key = id(nat.kernel)
    assert key in packing._PANELS
    del nat
    import gc
    gc.collect()
    assert key not in packing._PANELS


def test_missing_extension_falls_back_with_one_warning(monkeypatch):
    monkeypatch.setattr(native, "module", lambda: None)
    monkeypatch.setattr(native, "_warned", False)
    with pytest.warns(RuntimeWarning, match="compiled core is not installed"):
        layers.LSTM(3)(torch.zeros(1, 2, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = layers.LSTM(3)
        layer(torch.zeros(1, 2, 1))
    assert layer.last_backend == "reference"


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_opcheck(cell):
    g = torch.Generator().manual_seed(len(cell))
    G = native.CELLS[cell].gates
    B, T, I, H = 2, 3, 2, 5
    x = torch.randn(B, T, I, generator=g, requires_grad=True)
    k = torch.randn(I, G * H, generator=g, requires_grad=True)
    u = torch.randn(H, G * H, generator=g, requires_grad=True)
    b = torch.randn(G * H, generator=g, requires_grad=True)
    bh = torch.randn(G * H, generator=g, requires_grad=True) if cell == "gru" else None
    h0 = torch.randn(B, H, generator=g, requires_grad=True)
    c0 = torch.randn(B, H, generator=g, requires_grad=True) if cell == "lstm" else None
    args = (x, k, u, b, bh, h0, c0, cell, "tanh", "sigmoid", False, True, True)
    torch.library.opcheck(torch.ops.rnnkit.recurrent_forward.default, args)
    lengths = torch.tensor([3, 1], dtype=torch.int32)
    masks = (torch.rand(G, B, H, generator=g) > 0.3).float() / 0.7
    torch.library.opcheck(torch.ops.rnnkit.recurrent_forward.default, args + (lengths, masks))


def test_torch_compile_fullgraph_matches_eager():
    from rnnkit.models import Sequential
    model = Sequential([layers.Input((None, 2)), layers.LSTM(8, return_sequences=True),
                        layers.GRU(4, reset_after=False), layers.Dense(1)])
    assert_compiled_matches_eager(model, torch.randn(3, 5, 2))
    assert model.layers[0].last_backend == "native"


@pytest.mark.parametrize("cls,kwargs", [("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}),
                                        ("SimpleRNN", {})])
def test_weight_gradients_when_the_input_needs_none(cls, kwargs):
    """A model's input needs no gradient: backward skips dx, and the weights' gradients are
    still those of the float64 reference."""
    nat, ref = _pair(cls, kwargs, 3, 13)
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    grads = [torch.autograd.grad(layer(xi)[0].square().sum(), layer.weights)
             for layer, xi in ((ref, x), (nat, x.float()))]
    for ours, theirs in zip(grads[1], grads[0]):
        assert _relative_error(ours, theirs) <= TOL


def test_openmp_team_and_own_threads_agree():
    """The loop runs on torch's OpenMP runtime when it is found, else on rnnkit's own threads;
    both split the rows the same way, so results are identical."""
    nat, _ = _pair("GRU", {"reset_after": False}, 3, 24)
    x = torch.randn(9, 6, 3, requires_grad=True)
    results = []
    try:
        for enabled in (False, True):
            native.use_openmp(enabled)
            y = nat(x)[0]
            results.append((y, *torch.autograd.grad(y.sum(), [x, *nat.weights])))
    finally:
        native.use_openmp(native.USES_OPENMP)
    for a, b in zip(*results):
        assert torch.equal(a, b)


def test_returned_output_and_state_never_share_storage():
    """return_sequences=False returns the final state as the output: a copy of it when the
    state is returned too, so editing one in place leaves the other alone."""
    layer = layers.GRU(3, return_state=True, backend="native", input_shape=(None, 2))
    x = torch.randn(2, 4, 2, requires_grad=True)
    out, h = layer(x)
    assert out.data_ptr() != h.data_ptr()
    torch.testing.assert_close(out, h)


def test_an_empty_batch_trains_on_the_reference_loop():
    """The compiled loop is not written for an empty batch: auto runs it on the reference loop,
    and backend='native' refuses it by name."""
    for cls in ("LSTM", "GRU", "SimpleRNN"):
        layer = getattr(layers, cls)(4, return_sequences=True, input_shape=(5, 3))
        x = torch.zeros(0, 5, 3, requires_grad=True)
        layer(x, training=True).sum().backward()
        assert layer.last_backend == "reference" and x.grad.shape == x.shape
        assert all(float(w.grad.abs().sum()) == 0 for w in layer.weights)
        layer.backend = "native"
        with pytest.raises(ValueError, match="backend='native' does not run an empty batch"):
            layer(x)


def test_unbounded_states_past_a_rows_length_give_finite_gradients():
    """relu states grow without bound where the kernel runs past a row's length; those steps
    must not turn the recurrent kernel's gradient into inf · 0."""
    fast, slow = (layers.SimpleRNN(4, activation="relu", input_shape=(200, 2), backend=b)
                  for b in ("native", "reference"))
    for layer in (fast, slow):
        layer.set_weights([np.ones((2, 4), "float32"), 2 * np.eye(4, dtype="float32"),
                           np.zeros(4, "float32")])
    x = torch.ones(2, 200, 2)
    mask = torch.arange(200) < torch.tensor([3, 5])[:, None]
    grads = [torch.autograd.grad(layer(x, mask=mask).sum(), layer.weights) for layer in (fast, slow)]
    for a, b in zip(*grads):
        assert torch.isfinite(a).all()
        torch.testing.assert_close(a, b)
