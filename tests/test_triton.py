"""The Triton recurrence against rnnkit's own cell steps driven by a plain loop, values and
gradients, in float32.

Without CUDA the kernels run in Triton's interpreter on CPU tensors (conftest.py sets
TRITON_INTERPRET=1 for the whole session), with the bfloat16 products emulated (its tl.dot
multiplies bfloat16 operands' raw bits); with CUDA the same tests run compiled on the GPU.
"""

import subprocess
import sys

import pytest
import torch

import triton  # a test dependency: its absence is a failure, not a skip
import triton.language as tl
from helpers import TRITON_DEVICE as DEVICE
from rnnkit.backends import triton_rnn
from rnnkit.backends.triton_common import _round_bf16
from rnnkit.cells import get

GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}
CELLS = [("simple_rnn", True), ("lstm", True), ("gru", True), ("gru", False)]
TOL = 1e-5


def spec_name(cell, reset_after):
    return "gru_reset_before" if cell == "gru" and not reset_after else cell


def reference(cell, xw, states, U, b_h, reset_after, masks, mask):
    """hs and final states by `cells/<cell>.py`'s step, a masked step keeping the states."""
    spec = get(spec_name(cell, reset_after))
    if masks is not None and len(masks) == 1:
        masks = masks * GATES[cell]  # one mask for all gates (cells/gru.py indexes masks[2])
    hs = []
    for t in range(xw.shape[1]):
        new = spec.step(xw[:, t], states, U, b_h, torch.tanh, torch.sigmoid, masks=masks)
        if mask is not None:
            keep = mask[:, t, None]
            new = tuple(torch.where(keep, n, s) for n, s in zip(new, states))
        states = new
        hs.append(states[0])
    return torch.stack(hs, dim=1), tuple(states)


def problem(cell, reset_after, B, T, H, n_masks, time_mask, seed=0):
    """Random inputs, nonzero initial states; a (B, T) mask that is not right-padded (rows
    with leading masked steps, holes, one row masked throughout)."""
    g = torch.Generator().manual_seed(seed)
    G = GATES[cell]

    def rand(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g) * scale).to(DEVICE).requires_grad_()

    xw = rand(B, T, G * H)
    states = tuple(rand(B, H, scale=0.5) for _ in range(2 if cell == "lstm" else 1))
    U = rand(H, G * H, scale=H ** -0.5)
    b_h = rand(G * H, scale=0.3) if cell == "gru" and reset_after else None
    masks = None
    if n_masks:
        masks = tuple(((torch.rand(B, H, generator=g) > 0.3).float() / 0.7).to(DEVICE)
                      for _ in range(n_masks))
    mask = None
    if time_mask:
        mask = torch.rand(B, T, generator=g) > 0.35
        mask[0, :2] = False
        mask[1, :] = False
        mask[2, :] = True
        mask = mask.to(DEVICE)
    return xw, states, U, b_h, masks, mask


def assert_close(actual, expected, name):
    err = (actual - expected).abs().max().item()
    bound = TOL * (1.0 + expected.abs().max().item())
    assert err <= bound, f"{name}: max error {err:.3g} > {bound:.3g}"


def check(cell, reset_after, B, T, H, n_masks, time_mask, outputs="both", seed=0):
    xw, states, U, b_h, masks, mask = problem(cell, reset_after, B, T, H, n_masks, time_mask,
                                              seed)
    hs, final = triton_rnn.recurrence(spec_name(cell, reset_after), xw, states, U, b_h,
                                      recurrent_masks=masks, mask=mask)
    hs_ref, final_ref = reference(cell, xw, states, U, b_h, reset_after, masks, mask)
    assert hs.shape == (B, T, H) and len(final) == len(states)
    assert_close(hs, hs_ref, "hs")
    for name, s, s_ref in zip(("h", "c"), final, final_ref):
        assert_close(s, s_ref, f"final {name}")
    g = torch.Generator().manual_seed(seed + 1)
    w = torch.randn(hs.shape, generator=g).to(DEVICE)
    ws = [torch.randn(s.shape, generator=g).to(DEVICE) for s in final]

    def loss(hs, final):
        seq = (hs * w).sum() if outputs in ("both", "sequence") else 0.0
        last = sum((s * v).sum() for s, v in zip(final, ws))
        return seq + (last if outputs in ("both", "final") else 0.0)

    inputs = {"xw": xw, "U": U, **dict(zip(("h0", "c0"), states))}
    if b_h is not None:
        inputs["b_h"] = b_h
    grads = torch.autograd.grad(loss(hs, final), list(inputs.values()))
    grads_ref = torch.autograd.grad(loss(hs_ref, final_ref), list(inputs.values()))
    for name, d, d_ref in zip(inputs, grads, grads_ref):
        assert_close(d, d_ref, f"d{name}")


@pytest.mark.parametrize("time_mask", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("n_masks", [0, 1, "G"], ids=["no_dropout", "one_mask", "gate_masks"])
@pytest.mark.parametrize("cell,reset_after", CELLS,
                         ids=["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_matches_cell_steps(cell, reset_after, n_masks, time_mask):
    n = GATES[cell] if n_masks == "G" else n_masks
    B = 20 if time_mask else 3  # 20: a second, partly filled block of 16 rows
    check(cell, reset_after, B=B, T=6, H=20, n_masks=n, time_mask=time_mask)


@pytest.mark.parametrize("cell,reset_after", CELLS,
                         ids=["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_streamed_weights_in_column_blocks(cell, reset_after, monkeypatch):
    """U reloaded every step in 32-unit tiles: two column and two K blocks of H = 40."""
    monkeypatch.setattr(triton_rnn, "RESIDENT_BYTES", 0)
    monkeypatch.setattr(triton_rnn, "BLOCK_H", 32)
    assert not triton_rnn._plan(5, 40, GATES[cell], False, torch.device(DEVICE)).resident
    check(cell, reset_after, B=5, T=5, H=40, n_masks=GATES[cell], time_mask=True)


@pytest.mark.parametrize("outputs", ["sequence", "final"])
def test_gradient_of_one_output_only(outputs):
    check("lstm", True, B=4, T=7, H=20, n_masks=0, time_mask=True, outputs=outputs, seed=3)


def test_plan_blocks_and_residency():
    cpu = torch.device("cpu")
    assert triton_rnn._plan(3, 20, 4, False, cpu) == triton_rnn._Plan(16, 32, 32, 32, True, 8)
    assert triton_rnn._plan(32, 256, 4, False, cpu) == triton_rnn._Plan(16, 64, 64, 256, False, 4)
    assert triton_rnn._plan(32, 128, 1, False, cpu).resident is False  # a 128 × 128 tile spills
    assert triton_rnn._plan(32, 256, 4, True, cpu) == triton_rnn._Plan(16, 128, 128, 256, False, 8)
    assert triton_rnn._plan(5000, 128, 1, True, cpu).block_b == 64


def test_refuses_what_it_does_not_compute():
    xw, states, U, b_h, masks, mask = problem("lstm", True, 3, 4, 8, 0, False)
    with pytest.raises(ValueError, match="expected xw torch.float32.*got torch.float64"):
        triton_rnn.recurrence("lstm", xw.double(), states, U, None)
    with pytest.raises(ValueError, match="expected cell"):
        triton_rnn.recurrence("rnn", xw, states, U, None)
    with pytest.raises(ValueError, match=r"expected U torch.float32 of shape \(8, 32\)"):
        triton_rnn.recurrence("lstm", xw, states, U[:, :16], None)
    with pytest.raises(ValueError, match=r"expected \(h0, c0\)"):
        triton_rnn.recurrence("lstm", xw, states[:1], U, None)
    with pytest.raises(ValueError, match="reset_after=True only"):
        triton_rnn.recurrence("lstm", xw, states, U, torch.zeros(32, device=DEVICE))
    with pytest.raises(ValueError, match="expected 1 or 4 recurrent masks"):
        triton_rnn.recurrence("lstm", xw, states, U, None, recurrent_masks=(states[0],) * 2)
    with pytest.raises(ValueError, match="expected mask torch.bool"):
        triton_rnn.recurrence("lstm", xw, states, U, None, mask=torch.ones(3, 4, device=DEVICE))


def test_available_and_lazy_import():
    assert triton_rnn.available(torch.zeros(1, device=DEVICE))
    code = "import sys, rnnkit; assert 'triton' not in sys.modules, 'rnnkit imported triton'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("cell,reset_after", CELLS,
                         ids=["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_bf16_products(cell, reset_after, monkeypatch):
    """bf16=True against the reference whose products take bf16-rounded operands (products of
    bf16 values are exact in float32; only the summation order differs). That order can move
    an operand across a bf16 rounding boundary now and then, which changes the results
    downstream by about one bf16 step of one term (~1e-4 here); so: most elements to float32
    rounding, all within a few such steps, and far closer than to the float32 function."""
    xw, states, U, b_h, masks, mask = problem(cell, reset_after, 20, 6, 40, GATES[cell], True)
    hs, _ = triton_rnn.recurrence(spec_name(cell, reset_after), xw, states, U, b_h,
                                  recurrent_masks=masks, mask=mask, bf16=True)
    hs_fp32, _ = reference(cell, xw, states, U, b_h, reset_after, masks, mask)
    matmul = torch.Tensor.__matmul__
    monkeypatch.setattr(torch.Tensor, "__matmul__", lambda a, b: matmul(_round(a), _round(b)))
    hs_ref, _ = reference(cell, xw, states, U, b_h, reset_after, masks, mask)
    monkeypatch.undo()
    err = (hs - hs_ref).abs().flatten()
    assert torch.quantile(err, 0.9) <= TOL
    assert err.max() <= 1e-3
    assert (hs_fp32 - hs_ref).abs().max() > 10 * torch.quantile(err, 0.9)
    # the backward's products take bf16 operands too (dG_t and U); autograd of the rounded
    # reference multiplies in float32, so only about bf16's resolution is expected here
    w = torch.randn_like(hs)
    grads = torch.autograd.grad((hs * w).sum(), [xw, U])
    grads_ref = torch.autograd.grad((hs_ref * w).sum(), [xw, U])
    for d, d_ref in zip(grads, grads_ref):
        assert (d - d_ref).abs().max() <= 2e-2 * (1.0 + d_ref.abs().max())


def _round(t):
    return t.to(torch.bfloat16).float()


@triton.jit
def _round_kernel(x, y, N: tl.constexpr):
    i = tl.arange(0, N)
    tl.store(y + i, _round_bf16(tl.load(x + i)))


def test_bf16_rounding_emulated_like_torch():
    """The interpreter's bf16 emulation rounds as torch (and CUDA) do: to nearest, ties to
    even (its own cast truncates), also at ties, overflow, subnormals, zeros, inf and NaN."""
    assert triton_rnn._INTERPRETED == (DEVICE == "cpu")
    bits = [0x3F800000, 0x3F808000, 0x3F818000, 0x3F808001, 0x3F817FFF, 0x3F80FFFF, 0xBF808000,
            0xBF818000, 0x7F7FFFFF, 0x7F7F7FFF, 0x00000001, 0x00018000, 0x00008000, 0x00000000,
            0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFFFFFFF, 0x477FE000]
    special = torch.tensor(bits, dtype=torch.int64).to(torch.int32).view(torch.float32)
    g = torch.Generator().manual_seed(0)
    x = torch.cat([special, torch.randn(64 - len(bits), generator=g) * 10.0]).to(DEVICE)
    y = torch.empty_like(x)
    _round_kernel[(1,)](x, y, N=64)
    expected = x.to(torch.bfloat16).float()
    assert torch.equal(y.isnan(), expected.isnan())
    ok = ~expected.isnan()
    assert torch.equal(y[ok].view(torch.int32), expected[ok].view(torch.int32))
