"""The compiled loop against the reference loop over generated layer configurations: every cell
and activation the core lists, sizes across the vector width, masks, dropout, initial states,
go_backwards — and NaN or inf planted in the input, a weight or an initial state. Outputs and
the gradients of every input, weight and initial state must agree, NaN for NaN and inf for inf
(the reference runs in float64, the native loop in float32)."""

import importlib
import math
import os

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import needs_native
from rnnkit import layers
from rnnkit.backends import native

pytestmark = needs_native
# CI runs the same 150 examples every time; RNNKIT_FUZZ_EXAMPLES=N runs N random ones
EXAMPLES = os.environ.get("RNNKIT_FUZZ_EXAMPLES")
SETTINGS = settings(max_examples=int(EXAMPLES or 150), deadline=None, derandomize=not EXAMPLES,
                    suppress_health_check=list(HealthCheck))
CELLS = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU", "gru_reset_before": "GRU"}


@st.composite
def configurations(draw):
    spec = draw(st.sampled_from(sorted(CELLS)))
    info = native.CELLS[spec]
    options = {"activation": draw(st.sampled_from(info.activations)),
               "use_bias": draw(st.booleans()),
               "return_sequences": draw(st.booleans()),
               "return_state": draw(st.booleans()),
               "go_backwards": draw(st.booleans())}
    if info.recurrent_activations:
        options["recurrent_activation"] = draw(st.sampled_from(info.recurrent_activations))
    if spec.startswith("gru"):
        options["reset_after"] = spec == "gru"
    if draw(st.booleans()):
        options["dropout"] = draw(st.sampled_from([0.2, 0.5]))
        options["recurrent_dropout"] = draw(st.sampled_from([0.0, 0.3]))
    B, T = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    return {"cls": CELLS[spec], "options": options, "B": B, "T": T,
            "I": draw(st.integers(1, 4)), "H": draw(st.sampled_from([1, 3, 8, 16, 17, 33])),
            "lengths": draw(st.none() | st.lists(st.integers(0, T), min_size=B, max_size=B)),
            "states": draw(st.booleans()),
            "plant": draw(st.sampled_from([None, "x", "weight", "state"])),
            "value": draw(st.sampled_from([math.nan, math.inf, -math.inf])),
            "where": draw(st.integers(0, 10 ** 6)), "seed": draw(st.integers(0, 2 ** 16))}


def _twins(c):
    made = []
    for backend in ("auto", "reference"):
        torch.manual_seed(c["seed"])
        layer = getattr(layers, c["cls"])(c["H"], backend=backend, seed=c["seed"], **c["options"])
        layer.build((None, None, c["I"]))
        made.append(layer)
    native_layer, reference_layer = made
    with torch.no_grad():  # gates from saturated to linear; states bounded even when linear
        for w in native_layer.weights:
            w.uniform_(-1.5, 1.5).div_(math.sqrt(w.shape[0]) if w.dim() == 2 else 3.0)
    reference_layer.set_weights(native_layer.get_weights())
    return native_layer, reference_layer.double()


def _inputs(c, g):
    x = torch.randn(c["B"], c["T"], c["I"], generator=g)
    count = 2 if c["cls"] == "LSTM" else 1
    states = [torch.randn(c["B"], c["H"], generator=g) * 0.5 for _ in range(count)]
    mask = None
    if c["lengths"] is not None:
        mask = torch.arange(c["T"])[None, :] < torch.tensor(c["lengths"])[:, None]
    return x, states if c["states"] else None, mask


def _plant(c, x, states, weights):
    """NaN or ±inf at one position of x, a weight or an initial state."""
    targets = {"x": [x], "weight": weights, "state": states or [x]}[c["plant"]]
    t = targets[c["where"] % len(targets)]
    with torch.no_grad():
        t[torch.unravel_index(torch.tensor(c["where"] % t.numel()), t.shape)] = c["value"]


def _run(layer, x, states, mask, dtype):
    x = x.to(dtype).requires_grad_()
    states = None if states is None else [s.to(dtype).requires_grad_() for s in states]
    out = layer(x, initial_state=states, mask=mask, training=True)
    out = out if isinstance(out, list) else [out]
    loss = sum((o * torch.cos(o)).sum() for o in out)
    wrt = [x, *layer.weights, *(states or [])]
    return [o.detach() for o in out] + list(torch.autograd.grad(loss, wrt, allow_unused=True))


def _instruction_sets():
    probe = importlib.import_module("rnnkit._native_portable") if native.available() else None
    return [isa for isa in native.ISAS if probe is not None and probe.cpu_supports(isa)]


@SETTINGS
@given(configurations())
def test_native_equals_the_reference_values_gradients_and_nan_positions(c):
    check(c)


@pytest.mark.parametrize("isa", _instruction_sets())
def test_every_instruction_set_the_cpu_has(isa, monkeypatch):
    """The same check, fewer examples, on each build the CPU can run (the default one above)."""
    monkeypatch.setattr(native, "_MODULE", importlib.import_module(f"rnnkit._native_{isa}"))
    fewer = settings(SETTINGS, max_examples=int(EXAMPLES or 40))
    fewer(given(configurations())(lambda c: check(c)))()


def check(c):
    fast, slow = _twins(c)
    g = torch.Generator().manual_seed(c["seed"])
    x, states, mask = _inputs(c, g)
    if c["plant"] is not None:
        _plant(c, x, states, [w for w in fast.weights])
        slow.set_weights(fast.get_weights())
    got = _run(fast, x, states, mask, torch.float32)
    want = _run(slow, x, states, mask, torch.float64)
    gated_dropout = (c["cls"] != "SimpleRNN" and c["options"].get("dropout", 0)
                     and c["options"].get("recurrent_dropout", 0))
    # (loops._dropped_inputs: an infinite x meets the zero blocks of its block-diagonal product)
    expected = "reference" if gated_dropout and bool(torch.isinf(x).any()) else "native"
    assert fast.last_backend == expected, c
    for k, (a, b) in enumerate(zip(got, want)):
        if a is None or b is None:
            assert a is None and b is None, (k, c)
            continue
        finite = b[torch.isfinite(b)]
        scale = max(1.0, float(finite.abs().max())) if finite.numel() else 1.0
        torch.testing.assert_close(a.double(), b, rtol=2e-4, atol=2e-4 * scale, equal_nan=True,
                                   msg=lambda m: f"output/gradient {k} of {c}: {m}")


@pytest.mark.parametrize("spec", sorted(CELLS))
def test_one_nan_in_the_input_reaches_the_loss_on_every_activation(spec):
    """The bug this guards: the native kernel turned a NaN into ordinary numbers, so training
    on one bad sample corrupted the weights with a finite loss."""
    info = native.CELLS[spec]
    for act in info.activations:
        for ract in info.recurrent_activations or ("sigmoid",):
            options = {"activation": act}
            if info.recurrent_activations:
                options["recurrent_activation"] = ract
            if spec.startswith("gru"):
                options["reset_after"] = spec == "gru"
            layer = getattr(layers, CELLS[spec])(8, backend="native", **options)
            x = torch.randn(3, 4, 2)
            x[1, 2, 0] = math.nan
            y = layer(x)
            assert layer.last_backend == "native"
            assert bool(y[1].isnan().all()), (spec, act, ract)
            assert not bool(y[[0, 2]].isnan().any()), (spec, act, ract)
