"""Attention, AdditiveAttention and MultiHeadAttention: the layer contract for each
configuration, values and gradients against numpy formulas and torch.nn.MultiheadAttention,
Keras's mask semantics (value, query, causal, fully hidden rows on both of Keras's paths), masks
reaching MultiHeadAttention from tensors and through a Functional graph, training vs inference,
and every error. Keras's own numbers: tests/test_keras_layer_cases.py -k attention."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import layers
from helpers import fresh_names, run_layer_test  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_names")

MASK = torch.tensor([[True, True, True, True], [True, True, False, False]])


# -- the layer contract -------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, n_weights", [
    ({}, 0), ({"use_scale": True}, 1), ({"score_mode": "concat"}, 1),
    ({"score_mode": "concat", "use_scale": True}, 2)])
def test_attention_contract(kwargs, n_weights):
    run_layer_test(layers.Attention, kwargs, [(None, 5, 3), (None, None, 3)], (None, 5, 3),
                   expected_num_trainable_weights=n_weights, supports_masking=True,
                   run_training_check=n_weights > 0)


def test_attention_contract_with_key_and_query_mask():
    data = [torch.randn(2, 4, 3), torch.randn(2, 6, 2), torch.randn(2, 6, 3)]
    run_layer_test(layers.Attention, {"use_scale": True}, [(None, 4, 3), (None, 6, 2),
                                                           (None, 6, 3)], (None, 4, 2),
                   expected_num_trainable_weights=1, supports_masking=True, input_data=data,
                   input_mask=MASK, expected_mask=MASK)


@pytest.mark.parametrize("use_scale, n_weights", [(True, 1), (False, 0)])
def test_additive_attention_contract(use_scale, n_weights):
    run_layer_test(layers.AdditiveAttention, {"use_scale": use_scale},
                   [(None, 5, 3), (None, None, 3)], (None, 5, 3),
                   expected_num_trainable_weights=n_weights, supports_masking=True,
                   run_training_check=n_weights > 0)


@pytest.mark.parametrize("kwargs, shapes, out, n_weights", [
    ({"num_heads": 2, "key_dim": 3}, {"query": (None, 4, 5), "value": (None, None, 6)},
     (None, 4, 5), 8),
    ({"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 7},
     {"query": (None, 4, 5), "value": (None, 6, 3), "key": (None, 6, 2)}, (None, 4, 7), 8),
    ({"num_heads": 2, "key_dim": 2, "use_bias": False, "use_gate": True,
      "output_shape": (2, 3)}, {"query": (None, 4, 5), "value": (None, 4, 5)},
     (None, 4, 2, 3), 5),
])
def test_multi_head_attention_contract(kwargs, shapes, out, n_weights):
    run_layer_test(layers.MultiHeadAttention, kwargs, shapes, out,
                   expected_num_trainable_weights=n_weights, supports_masking=True)


def test_multi_head_attention_contract_with_query_mask():
    data = {"query": torch.randn(2, 4, 3), "value": torch.randn(2, 4, 3)}
    run_layer_test(layers.MultiHeadAttention, {"num_heads": 2, "key_dim": 2},
                   {"query": (None, 4, 3), "value": (None, 4, 3)}, (None, 4, 3),
                   expected_num_trainable_weights=8, supports_masking=True, input_data=data,
                   input_mask=MASK, expected_mask=MASK)


def test_multi_head_attention_weights_in_keras_order_and_shapes():
    mha = layers.MultiHeadAttention(2, 3, value_dim=4, output_shape=5, use_gate=True)
    mha(torch.zeros(1, 2, 6), torch.zeros(1, 3, 7), torch.zeros(1, 3, 8))
    assert mha.weight_names == ["query_kernel", "query_bias", "key_kernel", "key_bias",
                                "gate_kernel", "gate_bias", "value_kernel", "value_bias",
                                "attention_output_kernel", "attention_output_bias"]
    assert [tuple(w.shape) for w in mha.weights] == [
        (6, 2, 3), (2, 3), (8, 2, 3), (2, 3), (6, 2, 4), (2, 4), (7, 2, 4), (2, 4),
        (2, 4, 5), (5,)]
    assert mha.get_config()["attention_axes"] == (1,)


def test_projection_kernels_use_keras_fans():
    """Keras 3.15: glorot_uniform over (dim, heads, key_dim) takes fan_in=dim,
    fan_out=heads·key_dim (limit √(6/(fan_in+fan_out))), the output kernel heads·value_dim in."""
    torch.manual_seed(0)
    mha = layers.MultiHeadAttention(8, 16)
    mha(torch.zeros(1, 2, 64), torch.zeros(1, 2, 64))
    for kernel, (fan_in, fan_out) in ((mha.query_kernel, (64, 128)),
                                      (mha.attention_output_kernel, (128, 64))):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        assert 0.95 * limit < kernel.abs().max().item() <= limit


# -- values against independent references ------------------------------------------------------
def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _reference(scores, v, q_mask=None, keep=None):
    """Keras's Attention: hidden scores minus 1e9, softmax, weights · v, padded queries 0."""
    if keep is not None:
        scores = np.where(keep, scores, scores - 1e9)
    w = _softmax(scores)
    out = w @ v
    if q_mask is not None:
        out = np.where(q_mask[..., None], out, 0.0)
    return out, w


def _qvk(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 4, 3, generator=g, dtype=torch.float64) for _ in range(3)]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("scores", [False, True])
def test_attention_dot_matches_formula(causal, scores):
    q, v, k = _qvk()
    layer = layers.Attention(use_scale=True).double()
    layer.build([(None, 4, 3)] * 3)
    with torch.no_grad():
        layer.scale.fill_(0.7)
    q_mask = torch.tensor([[True, True, False, True], [True, True, True, False]])
    v_mask = torch.tensor([[False, True, True, True], [True, False, True, False]])
    got = layer([q, v, k], mask=[q_mask, v_mask], use_causal_mask=causal,
                return_attention_scores=scores)
    keep = v_mask.numpy()[:, None, :]
    if causal:
        keep = keep & np.tril(np.ones((4, 4), bool))[None]
    out, w = _reference(0.7 * q.numpy() @ k.numpy().transpose(0, 2, 1), v.numpy(),
                        q_mask.numpy(), keep)
    if scores:
        np.testing.assert_allclose(got[1].detach().numpy(), w, atol=1e-12)
        got = got[0]
    np.testing.assert_allclose(got.detach().numpy(), out, atol=1e-12)


def test_attention_concat_and_additive_match_formulas():
    q, v, k = _qvk(1)
    concat = layers.Attention(score_mode="concat", use_scale=True).double()
    concat.build([(None, 4, 3)] * 3)
    with torch.no_grad():
        concat.scale.fill_(0.5)
        concat.concat_score_weight.fill_(1.5)
    s = 1.5 * np.tanh(0.5 * (q.numpy()[:, :, None] + k.numpy()[:, None])).sum(-1)
    np.testing.assert_allclose(concat([q, v, k]).detach().numpy(), _reference(s, v.numpy())[0],
                               atol=1e-12)
    additive = layers.AdditiveAttention().double()
    additive([q, v, k])
    scale = additive.scale.detach().numpy()
    s = (scale * np.tanh(q.numpy()[:, :, None] + k.numpy()[:, None])).sum(-1)
    np.testing.assert_allclose(additive([q, v, k]).detach().numpy(),
                               _reference(s, v.numpy())[0], atol=1e-12)


def test_attention_fully_hidden_row_is_a_uniform_average_on_both_paths():
    """Keras subtracts 1e9 from hidden scores: in float32 small scores all round to -1e9."""
    q, v, _ = (t.float() for t in _qvk(2))
    q = q * 0.1
    v_mask = torch.tensor([[False] * 4, [True, False, False, False]])
    layer = layers.Attention()
    fused = layer([q, v], mask=[None, v_mask])
    explicit, w = layer([q, v], mask=[None, v_mask], return_attention_scores=True)
    torch.testing.assert_close(fused, explicit)
    torch.testing.assert_close(fused[0], v[0].mean(0).expand(4, 3))
    torch.testing.assert_close(fused[1], v[1, 0].expand(4, 3))
    assert not torch.isnan(fused).any()


def _torch_mha(mha, d):
    """torch.nn.MultiheadAttention with mha's weights (Keras's (d, N, H) kernels transposed)."""
    ref = torch.nn.MultiheadAttention(d, mha.num_heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([getattr(mha, f"{p}_kernel").reshape(d, d).T
                                            for p in ("query", "key", "value")]))
        ref.in_proj_bias.copy_(torch.cat([getattr(mha, f"{p}_bias").reshape(d)
                                          for p in ("query", "key", "value")]))
        ref.out_proj.weight.copy_(mha.attention_output_kernel.reshape(d, d).T)
        ref.out_proj.bias.copy_(mha.attention_output_bias)
    return ref


@pytest.mark.parametrize("scores", [False, True])
def test_multi_head_attention_matches_torch_values_and_gradients(scores):
    torch.manual_seed(0)
    mha = layers.MultiHeadAttention(2, 3).double()
    q = torch.randn(2, 4, 6, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 5, 6, dtype=torch.float64, requires_grad=True)
    mha(q, v)
    with torch.no_grad():
        for w in mha.weights:
            w.uniform_(-0.5, 0.5)
    ref = _torch_mha(mha, 6)
    v_mask = torch.tensor([[True, True, True, False, True], [True, False, True, True, True]])
    ours = mha(q, v, value_mask=v_mask, return_attention_scores=scores)
    theirs, weights = ref(q, v, v, key_padding_mask=~v_mask, average_attn_weights=False)
    if scores:
        torch.testing.assert_close(ours[1], weights)
        ours = ours[0]
    torch.testing.assert_close(ours, theirs)
    got = torch.autograd.grad((ours * torch.cos(ours)).sum(), [q, v])
    want = torch.autograd.grad((theirs * torch.cos(theirs)).sum(), [q, v])
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


def test_multi_head_attention_gradcheck():
    torch.manual_seed(1)
    mha = layers.MultiHeadAttention(2, 2, value_dim=3, output_shape=2, use_gate=True).double()
    q = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, True, False, True], [True, True, True, True]])
    assert torch.autograd.gradcheck(
        lambda a, b: mha(a, b, value_mask=mask, use_causal_mask=True), (q, v))


def test_multi_head_attention_fused_path_runs_and_equals_the_einsum_path(monkeypatch):
    torch.manual_seed(2)
    mha = layers.MultiHeadAttention(2, 3)
    q, v = torch.randn(2, 4, 5), torch.randn(2, 6, 5)
    calls = []
    sdpa = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda *a, **k: calls.append(k) or sdpa(*a, **k))
    v_mask = torch.tensor([[True] * 6, [True, True, False, True, False, False]])
    for kwargs in ({}, {"value_mask": v_mask}, {"use_causal_mask": True},
                   {"value_mask": v_mask, "use_causal_mask": True}):
        fused = mha(q, v, **kwargs)
        explicit, _ = mha(q, v, return_attention_scores=True, **kwargs)
        torch.testing.assert_close(fused, explicit)
    assert len(calls) == 4 and calls[2]["is_causal"] and calls[2]["attn_mask"] is None


def test_multi_head_attention_fully_hidden_rows_follow_keras_paths():
    """Keras: the fused kernel averages every value uniformly; the einsum path (scores asked
    for, or dropout) zeroes the weights, leaving the output bias."""
    torch.manual_seed(3)
    mha = layers.MultiHeadAttention(2, 3)
    q = torch.randn(2, 4, 5)
    q_mask = torch.tensor([[True, True, False, False], [True] * 4])
    fused = mha(q, q, query_mask=q_mask)
    explicit, scores = mha(q, q, query_mask=q_mask, return_attention_scores=True)
    torch.testing.assert_close(fused[:, :2], explicit[:, :2])
    torch.testing.assert_close(fused[1], explicit[1])
    assert not torch.isnan(fused).any()
    assert torch.all(scores[0, :, 2:] == 0)
    torch.testing.assert_close(explicit[0, 2], mha.attention_output_bias.detach())
    v = q @ mha.value_kernel.reshape(5, -1) + mha.value_bias.reshape(-1)
    uniform = v[0].mean(0) @ mha.attention_output_kernel.reshape(6, 5) + mha.attention_output_bias
    torch.testing.assert_close(fused[0, 2], uniform)


# -- masks ----------------------------------------------------------------------------------------
def test_multi_head_attention_reads_the_tensors_keras_masks():
    torch.manual_seed(4)
    mha = layers.MultiHeadAttention(2, 2)
    q, v = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    want = mha(q, v, query_mask=MASK, value_mask=MASK)
    q._keras_mask, v._keras_mask = MASK, MASK
    got = mha(q, v)
    torch.testing.assert_close(got, want)
    assert torch.equal(got._keras_mask, MASK)


def test_masks_reach_multi_head_attention_through_a_graph():
    torch.manual_seed(5)
    x = rnnkit.Input((None,), dtype="int32")
    e = layers.Embedding(10, 4, mask_zero=True)(x)
    mha = layers.MultiHeadAttention(2, 2)
    a = mha(query=e, value=e)
    out = layers.GRU(3, return_sequences=True)(a)
    model = rnnkit.Model(x, out)
    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0]])
    mask = ids != 0
    emb = model.layers[1](ids)
    manual = model.layers[3](mha(emb, emb, query_mask=mask, value_mask=mask), mask=mask)
    torch.testing.assert_close(model(ids), manual)
    bare = emb.detach().clone()  # no Keras mask on it
    assert not torch.allclose(model.layers[3](mha(bare, bare)), manual)  # the masks count


def test_attention_mask_list_and_output_mask_in_a_graph():
    q_in, v_in = rnnkit.Input((None, 3)), rnnkit.Input((None, 3))
    mq, mv = layers.Masking()(q_in), layers.Masking()(v_in)
    att = layers.Attention()
    model = rnnkit.Model([q_in, v_in], layers.LSTM(2, return_sequences=True)(att([mq, mv])))
    q, v = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    q[1, 2:] = 0
    v[0, 1] = 0
    q_mask, v_mask = (q != 0).any(-1), (v != 0).any(-1)
    manual = model.layers[-1](att([q, v], mask=[q_mask, v_mask]), mask=q_mask)
    torch.testing.assert_close(model([q, v]), manual)
    assert torch.equal(att.compute_mask([q, v], [q_mask, v_mask]), q_mask)
    assert att.compute_mask([q, v], None) is None


def test_attention_mask_argument_combines_with_masks_and_causal():
    torch.manual_seed(6)
    mha = layers.MultiHeadAttention(1, 2)
    q = torch.randn(1, 3, 2)
    allow = torch.tensor([[[True, False, True], [True, True, True], [False, True, True]]])
    _, scores = mha(q, q, attention_mask=allow, use_causal_mask=True,
                    return_attention_scores=True)
    keep = allow & torch.tril(torch.ones(3, 3, dtype=torch.bool))
    assert torch.equal(scores[0, 0] > 0, keep[0])
    window = layers.MultiHeadAttention(1, 2, sliding_window=1)
    _, scores = window(q, q, return_attention_scores=True)
    assert torch.equal(scores[0, 0] > 0, torch.eye(3, dtype=torch.bool))


# -- training vs inference ------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: layers.Attention(dropout=0.5, seed=1),
    lambda: layers.MultiHeadAttention(2, 2, dropout=0.5, seed=1)])
def test_dropout_only_in_training_and_seeded(make):
    torch.manual_seed(7)
    layer = make()
    q = torch.randn(2, 4, 3)
    call = ((lambda **k: layer([q, q], **k)) if isinstance(layer, layers.Attention)
            else (lambda **k: layer(q, q, **k)))
    quiet = call()
    torch.testing.assert_close(call(training=False), quiet)
    noisy = call(training=True)
    assert not torch.allclose(noisy, quiet)
    again = make()
    (again([q, q]) if isinstance(again, layers.Attention) else again(q, q))  # builds it
    again.load_state_dict(layer.state_dict())
    call2 = ((lambda **k: again([q, q], **k)) if isinstance(again, layers.Attention)
             else (lambda **k: again(q, q, **k)))
    torch.testing.assert_close(call2(training=True), noisy)


def test_scores_sum_to_one_in_inference():
    q = torch.randn(2, 4, 3)
    _, w = layers.Attention(dropout=0.5)([q, q], return_attention_scores=True)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4))
    _, s = layers.MultiHeadAttention(2, 2, dropout=0.5)(q, q, return_attention_scores=True)
    torch.testing.assert_close(s.sum(-1), torch.ones(2, 2, 4))


# -- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, words", [
    (lambda: layers.Attention(score_mode="sum"), ValueError, "score_mode 'dot' or 'concat'"),
    (lambda: layers.Attention(dropout=2.0), ValueError, "dropout"),
    (lambda: layers.AdditiveAttention(score_mode="dot"), TypeError, "score_mode"),
    (lambda: layers.MultiHeadAttention(0, 2), ValueError, "num_heads"),
    (lambda: layers.MultiHeadAttention(2, 2.0), TypeError, "key_dim"),
    (lambda: layers.MultiHeadAttention(2, 2, value_dim=-1), ValueError, "value_dim"),
    (lambda: layers.MultiHeadAttention(2, 2, output_shape="x"), TypeError, "output_shape"),
    (lambda: layers.MultiHeadAttention(2, 2, attention_axes=(2,)), NotImplementedError,
     "attention_axes"),
    (lambda: layers.MultiHeadAttention(2, 2, attention_axes="1"), ValueError, "attention_axes"),
    (lambda: layers.MultiHeadAttention(2, 2, activity_regularizer="l2"), NotImplementedError,
     "activity_regularizer"),
    (lambda: layers.MultiHeadAttention(2, 2, dropout=0.1, flash_attention=True), ValueError,
     "flash_attention"),
])
def test_constructor_errors(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_call_errors():
    att = layers.Attention(name="att")
    x = torch.randn(2, 4, 3)
    with pytest.raises(ValueError, match="att: expected inputs as a list"):
        att(x)
    with pytest.raises(ValueError, match="list of 2 or 3"):
        layers.Attention()([x])
    with pytest.raises(ValueError, match="value mask of shape"):
        att([x, x], mask=[None, torch.ones(2, 5, dtype=torch.bool)])
    with pytest.raises(ValueError, match="key and value of the same length"):
        att([x, x, torch.randn(2, 5, 3)])
    mha = layers.MultiHeadAttention(2, 2, name="mha")
    with pytest.raises(NotImplementedError, match="mha: expected query of shape"):
        mha(torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5))
    mha = layers.MultiHeadAttention(2, 2, name="mha2")
    with pytest.raises(ValueError, match="value and key to agree"):
        mha(x, x, torch.randn(2, 5, 3))
    mha(x, x)
    with pytest.raises(ValueError, match=r"expected query of shape \(batch, time, 3\)"):
        mha(torch.randn(2, 4, 2), x)
    with pytest.raises(ValueError, match="value_mask of shape"):
        mha(x, x, value_mask=torch.ones(2, 3, dtype=torch.bool))
    flash = layers.MultiHeadAttention(2, 2, flash_attention=True)
    with pytest.raises(ValueError, match="cannot return the attention scores"):
        flash(x, x, return_attention_scores=True)


def test_configs_round_trip_with_keras_keys():
    mha = layers.MultiHeadAttention(2, 3, output_shape=4, kernel_regularizer="l2", seed=5)
    config = mha.get_config()
    assert list(config)[3:] == ["num_heads", "key_dim", "value_dim", "dropout", "use_bias",
                                "use_gate", "output_shape", "attention_axes", "sliding_window",
                                "kernel_initializer", "bias_initializer", "kernel_regularizer",
                                "bias_regularizer", "activity_regularizer", "kernel_constraint",
                                "bias_constraint", "seed"]
    assert config["output_shape"] == (4,) and config["attention_axes"] is None
    assert layers.MultiHeadAttention.from_config(config).get_config() == config
    assert "score_mode" not in layers.AdditiveAttention().get_config()
    assert layers.Attention(score_mode="concat").get_config()["score_mode"] == "concat"
