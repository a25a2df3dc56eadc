"""The native seam refuses what it was not written for: the public ops check every tensor
before its address crosses (and the compiled core checks every buffer's size again), the
backends refuse options and activations they do not list, the packed weights follow every way
a weight can change, and the unit split is never taken with more threads than usable cores."""

import pytest
import torch

from helpers import needs_native
from rnnkit import activations, layers
from rnnkit.backends import RecurrentCall, cudnn, loops, native, reference

pytestmark = needs_native
FORWARD = torch.ops.rnnkit.recurrent_forward.default
BACKWARD = torch.ops.rnnkit.recurrent_backward.default
B, T, I, H = 2, 3, 4, 5


def _forward_args(cell="lstm", **change):
    G = native.CELLS[cell].gates if cell in native.CELLS else 4
    args = {"x": torch.randn(B, T, I), "kernel": torch.randn(I, G * H),
            "recurrent_kernel": torch.randn(H, G * H), "input_bias": torch.randn(G * H),
            "recurrent_bias": torch.randn(G * H) if cell == "gru" else None,
            "h0": torch.randn(B, H), "c0": torch.randn(B, H) if cell == "lstm" else None,
            "cell": cell, "act": "tanh", "ract": "sigmoid", "go_backwards": False,
            "full_sequence": True, "training": True, "lengths": None, "recurrent_masks": None}
    args.update(change)
    return args


@pytest.mark.parametrize("change, message", [
    ({"c0": None}, r"expected c0 of shape \(2, 5\)"),  # crashed in backward (SIGSEGV)
    ({"kernel": torch.randn(I - 1, 20)}, r"expected kernel of shape \(4, 20\)"),
    ({"input_bias": torch.randn(19)}, r"expected input_bias of shape \(20,\)"),
    ({"h0": torch.randn(B, H - 1)}, r"expected h0 of shape \(2, 5\)"),
    ({"h0": torch.randn(B, H).double()}, r"expected h0 of shape \(2, 5\) torch.float32"),
    ({"recurrent_bias": torch.randn(20)}, r"expected recurrent_bias to be None for this cell"),
    ({"lengths": torch.tensor([3, 4], dtype=torch.int32)}, r"expected lengths in 0..3"),
    ({"lengths": torch.tensor([3, 1])}, r"expected lengths of shape \(2,\) torch.int32"),
    ({"recurrent_masks": torch.ones(3, B, H)}, r"expected recurrent_masks of shape \(4, 2, 5\)"),
    ({"cell": "peephole_lstm"}, r"expected cell one of"),
    ({"act": "relu"}, r"expected activation of lstm one of \('tanh',\)"),
    ({"ract": "linear"}, r"expected recurrent activation of lstm"),
    ({"x": torch.randn(B, 0, I)}, r"expected x of shape \(B, T, I\) with every size >= 1"),
])
def test_the_forward_op_checks_every_argument(change, message):
    with pytest.raises(ValueError, match=r"rnnkit::recurrent_forward: " + message):
        FORWARD(**_forward_args(**change))


def test_the_backward_op_checks_every_argument():
    args = _forward_args()
    y, h_t, c_t, ws = FORWARD(**args)
    ok = dict(x=args["x"], kernel=args["kernel"], recurrent_kernel=args["recurrent_kernel"],
              h0=args["h0"], c0=args["c0"], y=y, ws=ws, dy=torch.ones_like(y), dh_t=None,
              dc_t=None, cell="lstm", act="tanh", ract="sigmoid", go_backwards=False,
              need_dx=True)
    BACKWARD(**ok)
    for change, message in [({"c0": None}, r"expected c0"), ({"ws": ws[:, :1]}, r"expected ws"),
                            ({"y": y[:2]}, r"expected y of shape \(3, 2, 5\)"),
                            ({"dy": torch.ones(T, B, H + 1)}, r"expected dy"),
                            ({"dc_t": torch.ones(B, 1)}, r"expected dc_t")]:
        with pytest.raises(ValueError, match=r"rnnkit::recurrent_backward: " + message):
            BACKWARD(**{**ok, **change})


def test_the_compiled_core_checks_every_buffer_size_again():
    """Below the Python checks: a buffer whose element count disagrees with the sizes is refused
    by the core itself, before a kernel reads it."""
    mod = native.module()
    W = mod.VECTOR_WIDTH
    # every buffer stays referenced here while the core holds its address
    x, h, w, u, y, h_t = (torch.zeros(n) for n in (T * B * I, B * H, I * W, H * W, B * H, B * H))
    good = dict(cell=native.CELLS["simple_rnn"].code, B=B, T=T, I=I, H=H, Hp=W, act=1, ract=0,
                seq=False, training=False, threads=1, split=0, cores=1, x=native.buf(x),
                Wx=native.buf(w), bx=(0, 0), U=native.buf(u), bh=(0, 0), h0=native.buf(h),
                c0=(0, 0), y=native.buf(y), hT=native.buf(h_t), cT=(0, 0), ws=(0, 0),
                len=(0, 0), padded_first=False, rm=(0, 0))
    mod.forward(**good)
    short = torch.zeros(B * H - 1)
    for change, message in [({"h0": native.buf(short)}, "h0 has 9 elements, expected 10"),
                            ({"c0": native.buf(h)}, "c0 is not used by this cell"),
                            ({"x": (0, 0)}, "x is required"),
                            ({"Hp": 3 * W}, "Hp must be H rounded up"),
                            ({"act": 3}, "not built for activation 3"),
                            ({"cell": 7}, "unknown cell code 7")]:
        with pytest.raises(ValueError, match=message):
            mod.forward(**{**good, **change})


def test_a_weight_reshaped_through_data_is_refused_not_read_past():
    layer = layers.GRU(H, backend="native", input_shape=(None, I))
    layer.recurrent_kernel.data = layer.recurrent_kernel.data[:3].clone()
    with pytest.raises(ValueError, match=r"rnnkit::recurrent_forward: expected kernel of shape "
                                         r"\(4, 9\) torch.float32 on cpu, got shape \(4, 15\)"):
        layer(torch.randn(B, T, I))


def _call(layer, x, **change):
    states = tuple(x.new_zeros(x.shape[0], layer.units) for _ in layer.spec.state_names)
    call = layer._describe(x, states, None, None, None)
    assert isinstance(call, RecurrentCall)
    return call._replace(**change)


def test_an_option_no_backend_lists_is_refused_by_every_fast_one():
    """An option added to a cell (say, peepholes) is never computed as the plain cell."""
    layer = layers.LSTM(H, input_shape=(None, I))
    call = _call(layer, torch.randn(B, T, I), options={"peepholes": True})
    assert "peepholes" in native.refusal(call)
    assert "peepholes" in cudnn.refusal(call)
    assert "peepholes" in loops.triton_refusal(call) or "triton" in loops.triton_refusal(call)
    assert "peepholes" in reference.refusal(call)  # its step takes no such argument


def test_a_custom_activation_is_never_taken_for_the_named_one():
    def tanh(x):  # the same name, another function
        return torch.tanh(x) * 0.5

    layer = layers.SimpleRNN(H, activation=tanh, input_shape=(None, I))
    call = _call(layer, torch.randn(B, T, I))
    assert call.act is None and "activation" in native.refusal(call)
    assert "activation" in cudnn.refusal(call)
    layer(torch.randn(B, T, I))
    assert layer.last_backend == "reference"


def test_the_python_side_reads_the_cores_table():
    """hard_sigmoid is a SimpleRNN activation rnnkit knows but the core is not built for: auto
    falls back to the reference loop (it used to raise), and native refuses it by name."""
    assert native.CELLS["simple_rnn"].activations == ("linear", "tanh", "sigmoid", "relu")
    layer = layers.SimpleRNN(H, activation="hard_sigmoid", input_shape=(None, I))
    twin = layers.SimpleRNN(H, activation="hard_sigmoid", backend="reference",
                            input_shape=(None, I))
    twin.set_weights(layer.get_weights())
    x = torch.randn(B, T, I)
    torch.testing.assert_close(layer(x), twin(x), rtol=0, atol=0)
    assert layer.last_backend == "reference"
    layer.backend = "native"
    with pytest.raises(ValueError, match="does not run simple_rnn with activation 'hard_sigmoid'"):
        layer(x)


@pytest.mark.parametrize("change", ["in_place", "data_assignment", "load_state_dict",
                                    "set_weights", "increment_version"])
def test_packed_weights_follow_every_way_a_weight_changes(change):
    """After each kind of change the native loop computes with the new weights (the reference
    loop on the same weights says what that is)."""
    nat = layers.LSTM(H, backend="native", input_shape=(None, I))
    ref = layers.LSTM(H, backend="reference", input_shape=(None, I))
    x = torch.randn(B, T, I)
    with torch.no_grad():
        nat(x)  # packs the weights as they are
        new = [w * -2 + 0.1 for w in nat.get_weights()]
        if change == "in_place":
            nat.recurrent_kernel.mul_(-2).add_(0.1)
            nat.kernel.mul_(-2).add_(0.1)
        elif change == "data_assignment":
            nat.kernel.data = torch.as_tensor(new[0])
            nat.recurrent_kernel.data = torch.as_tensor(new[1])
        elif change == "load_state_dict":
            nat.load_state_dict({"kernel": torch.as_tensor(new[0]),
                                 "recurrent_kernel": torch.as_tensor(new[1]), "bias": nat.bias})
        elif change == "set_weights":
            nat.set_weights(new[:2] + [nat.get_weights()[2]])
        else:  # what a collective writing through .data does, as the distributed loop marks it
            nat.kernel.data.copy_(torch.as_tensor(new[0]))
            nat.recurrent_kernel.data.copy_(torch.as_tensor(new[1]))
            for w in (nat.kernel, nat.recurrent_kernel):
                torch.autograd.graph.increment_version(w)
        ref.set_weights(nat.get_weights())
        torch.testing.assert_close(nat(x), ref(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("threads, cores, expected", [
    (2, 2, True), (4, 2, False), (8, 2, False), (2, 1, False), (1, 8, False)])
def test_the_unit_split_needs_a_core_per_thread(threads, cores, expected):
    """LSTM(512), batch 1: split over units only when every thread has a core (on 2 cores the
    split at 8 threads took 1.4 s where the row split takes 14 ms)."""
    mod = native.module()
    assert mod.splits_units(B=1, H=512, threads=threads, split=0, cores=cores) is expected
    assert mod.splits_units(B=1, H=512, threads=threads, split=2, cores=cores) is True  # forced


def test_usable_cores_reads_affinity_and_cgroup_quota(monkeypatch, tmp_path):
    monkeypatch.setattr(native.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(native, "_cgroup_quota", lambda: None)
    assert native.usable_cores() == 4
    monkeypatch.setattr(native, "_cgroup_quota", lambda: 2)
    assert native.usable_cores() == 2


def test_oversubscribed_unit_split_still_computes_the_same(monkeypatch):
    """Forced to split units with more threads than cores, the barrier yields and the numbers
    stay those of the row split."""
    layer = layers.LSTM(64, backend="native", return_sequences=True, input_shape=(None, I))
    x = torch.randn(1, 20, I)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2 * native.CORES + 1)
        monkeypatch.setenv("RNNKIT_SPLIT", "units")
        units = layer(x)
        monkeypatch.setenv("RNNKIT_SPLIT", "rows")
        rows = layer(x)
    finally:
        torch.set_num_threads(threads)
    torch.testing.assert_close(units, rows, rtol=1e-6, atol=1e-6)
