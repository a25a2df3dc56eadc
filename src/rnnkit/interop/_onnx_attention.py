"""ONNX converters for Attention, AdditiveAttention and MultiHeadAttention (inference, no padding
masks: those come from Masking or mask_zero, which the export refuses), with Keras's causal mask
and its attention scores as a second output."""

from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from ._onnx_graph import _Graph, _Value, _refuse
from ._onnx_layers import converts, reduce

_MASKED = np.float32(1e9)  # Keras subtracts 1e9 from masked scores (float32)


def _causal(g: _Graph, hint: str, scores: str) -> str:
    """Keras's causal mask on (…, Tq, Tv) scores: step i sees steps j ≤ i; the others lose
    1e9 before the softmax."""
    ones = g.op("ConstantOfShape", [g.op("Shape", [scores], hint)], hint,
                value=numpy_helper.from_array(np.ones(1, np.float32)))
    hidden = g.op("Sub", [g.const("one", np.float32(1)), g.op("Trilu", [ones], hint, upper=0)],
                  hint)
    return g.op("Sub", [scores, g.op("Mul", [hidden, g.const("masked", _MASKED)], hint)], hint)


def _attend(g, layer, scores: _Value, value: _Value, shape, use_causal_mask, return_scores):
    """softmax(scores) · value (and the softmax itself where return_scores)."""
    name = _causal(g, layer.name, scores.name) if use_causal_mask else scores.name
    weights = g.op("Softmax", [name], layer.name, axis=-1)
    out = _Value(g.op("MatMul", [weights, value.name], layer.name), shape)
    return [out, _Value(weights, scores.shape)] if return_scores else out


def _check_call(layer, mask):
    if mask is not None:
        raise _refuse(layer, "an explicit mask= has no ONNX counterpart in the export.")


@converts("Attention", "AdditiveAttention")
def _attention(g, layer, inputs, mask=None, training=None, return_attention_scores=False,
               use_causal_mask=False):
    _check_call(layer, mask)
    query, value, key = (list(inputs) + [inputs[1]])[:3]
    kind, config = type(layer).__name__, layer.get_config()
    hint = layer.name
    if kind == "Attention" and config.get("score_mode", "dot") == "dot":
        transposed = g.op("Transpose", [key.name], hint, perm=[0, 2, 1])
        scores = g.op("MatMul", [query.name, transposed], hint)
        if config["use_scale"]:
            scores = g.op("Mul", [scores, g.const(f"{hint}/scale", _f32(layer.scale))], hint)
    else:  # concat / additive: Σ_d tanh(q_d + k_d) (scaled as each layer scales)
        q = g.op("Unsqueeze", [query.name, g.ints("axis_m2", [-2])], hint)
        k = g.op("Unsqueeze", [key.name, g.ints("axis_m3", [-3])], hint)
        total = g.op("Add", [q, k], hint)
        if kind == "Attention":
            if config["use_scale"]:
                total = g.op("Mul", [total, g.const(f"{hint}/scale", _f32(layer.scale))], hint)
            scores = reduce(g, "ReduceSum", g.op("Tanh", [total], hint), [-1], hint, False)
            scores = g.op("Mul", [scores, g.const(f"{hint}/concat_score_weight",
                                                  _f32(layer.concat_score_weight))], hint)
        else:
            tanh = g.op("Tanh", [total], hint)
            if config["use_scale"]:
                tanh = g.op("Mul", [tanh, g.const(f"{hint}/scale", _f32(layer.scale))], hint)
            scores = reduce(g, "ReduceSum", tanh, [-1], hint, False)
    scores = _Value(scores, query.shape[:2] + value.shape[1:2])
    shape = query.shape[:2] + value.shape[2:]
    return _attend(g, layer, scores, value, shape, use_causal_mask, return_attention_scores)


def _f32(p) -> np.ndarray:
    return p.detach().cpu().numpy().astype(np.float32)


def _project(g, hint, x: _Value, kernel: np.ndarray, bias, heads_last: bool) -> str:
    """x (b, T, d) through an EinsumDense kernel (d, heads, size): (b, heads, T, size)."""
    d, heads, size = kernel.shape
    y = g.op("MatMul", [x.name, g.const(f"{hint}/kernel", kernel.reshape(d, heads * size))],
             hint)
    if bias is not None:
        y = g.op("Add", [y, g.const(f"{hint}/bias", bias.reshape(heads * size))], hint)
    y = g.op("Reshape", [y, g.ints(f"{hint}/heads", [0, 0, heads, size])], hint)
    return g.op("Transpose", [y], hint, perm=[0, 2, 3, 1] if heads_last else [0, 2, 1, 3])


@converts("MultiHeadAttention")
def _multi_head_attention(g, layer, query, value, key=None, query_mask=None, value_mask=None,
                          key_mask=None, attention_mask=None, return_attention_scores=False,
                          training=None, use_causal_mask=False):
    for what, given in (("query_mask", query_mask), ("value_mask", value_mask),
                        ("key_mask", key_mask), ("attention_mask", attention_mask)):
        if given is not None:
            raise _refuse(layer, f"{what}= has no ONNX counterpart in the export.")
    config = layer.get_config()
    if config.get("attention_axes") not in (None, [1], (1,)) or len(query.shape) != 3:
        raise _refuse(layer, f"expected attention over axis 1 of (batch, time, features) inputs, "
                      f"got attention_axes={config.get('attention_axes')} and a query of shape "
                      f"{query.shape}.")
    for option, plain in (("use_gate", False), ("sliding_window", None)):
        if config.get(option, plain) != plain:
            raise _refuse(layer, f"{option}={config[option]!r}: the export writes plain "
                          "multi-head attention only.")
    key = value if key is None else key

    def weights(part):
        bias = getattr(layer, f"{part}_bias", None) if config["use_bias"] else None
        return _f32(getattr(layer, f"{part}_kernel")), None if bias is None else _f32(bias)

    (wq, bq), (wk, bk), (wv, bv), (wo, bo) = map(weights, ("query", "key", "value",
                                                          "attention_output"))
    hint = layer.name
    q = _project(g, f"{hint}/query", query, wq, bq, False)
    q = g.op("Mul", [q, g.const(f"{hint}/inverse_sqrt_key_dim",
                                np.float32(1.0 / np.sqrt(float(wq.shape[2]))))], hint)
    k = _project(g, f"{hint}/key", key, wk, bk, True)
    v = _project(g, f"{hint}/value", value, wv, bv, False)
    heads, value_dim = wo.shape[0], wo.shape[1]
    scores = _Value(g.op("MatMul", [q, k], hint),
                    (query.shape[0], int(heads), query.shape[1], key.shape[1]))
    out_dims = wo.shape[2:]
    attended = _attend(g, layer, scores, _Value(v, None), None, use_causal_mask,
                       return_attention_scores)
    context = attended[0] if return_attention_scores else attended
    y = g.op("Transpose", [context.name], hint, perm=[0, 2, 1, 3])
    y = g.op("Reshape", [y, g.ints(f"{hint}/merge_heads", [0, 0, heads * value_dim])], hint)
    y = g.op("MatMul", [y, g.const(f"{hint}/output/kernel",
                                   wo.reshape(heads * value_dim, int(np.prod(out_dims))))], hint)
    if bo is not None:
        y = g.op("Add", [y, g.const(f"{hint}/output/bias", bo.reshape(-1))], hint)
    if len(out_dims) != 1:
        y = g.op("Reshape", [y, g.ints(f"{hint}/output_shape", [0, 0, *out_dims])], hint)
    out = _Value(y, query.shape[:2] + tuple(int(d) for d in out_dims))
    return [out, attended[1]] if return_attention_scores else out
