"""Attention layers, as Keras 3 has them: Attention (Luong, dot or concat scores),
AdditiveAttention (Bahdanau) and MultiHeadAttention (in multi_head_attention.py).

Attention and AdditiveAttention take a list [query, value] or [query, value, key] (key defaults
to value) of shapes (batch, Tq, dim), (batch, Tv, dim), (batch, Tv, dim) and return
softmax(scores) · value, of shape (batch, Tq, dim):

    dot:      scores = scale · q kᵀ                         (scale: a weight when use_scale)
    concat:   scores = w · Σ_d tanh(scale · (q_i + k_j))     (w: concat_score_weight)
    additive: scores = Σ_d scale_d · tanh(q_i + k_j)         (scale: a (dim,) weight)

Masks, as Keras 3 applies them: the value mask (and the causal mask, `use_causal_mask=True`,
position i attends to j ≤ i) subtracts 1e9 from the scores it hides before the softmax (65504
in float16), so a row with every step hidden becomes a uniform average rather than NaN; the
query mask zeroes the output at padded query steps and is the output's mask.
"""

from __future__ import annotations

import torch

from ._checks import as_tensor, check_mask, check_rate, weight_dtype
from .base import Layer
from .multi_head_attention import MultiHeadAttention, _band
from . import mask_ops

__all__ = ["Attention", "AdditiveAttention", "MultiHeadAttention"]


def _big(dtype) -> float:
    """Keras's bias for hidden scores: the largest float16, or 1e9."""
    return 65504.0 if dtype == torch.float16 else 1.0e9


class Attention(Layer):
    """Dot-product (Luong) attention over a list [query, value] or [query, value, key].

    Args:
        use_scale: learn a scalar `scale` multiplying the scores.
        score_mode: "dot" (q kᵀ) or "concat" (Σ tanh(q + k), times a learnt
            `concat_score_weight`).
        dropout: fraction of the attention weights dropped in training.
        seed: seed of the dropout's random numbers.

    Call arguments: `inputs` (the list), `mask` ([query_mask, value_mask], (batch, T) booleans,
    by default the inputs' Keras masks), `return_attention_scores` (also return the
    (batch, Tq, Tv) weights after masking, softmax and dropout), `training`,
    `use_causal_mask`.

    >>> q, v = torch.ones(2, 3, 4), torch.ones(2, 5, 4)
    >>> Attention()([q, v]).shape
    torch.Size([2, 3, 4])
    """

    supports_masking = True
    _keras_mask_argument = "mask"

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{self.name}: expected score_mode 'dot' or 'concat', got "
                             f"{score_mode!r}.")
        self.use_scale, self.score_mode = bool(use_scale), score_mode
        self.dropout = check_rate(self.name, "dropout", dropout)
        self._seed_generator(seed)
        self._build_now_if_shape_known()

    # -- shapes ---------------------------------------------------------------------------------
    def _check_list(self, inputs, what="inputs"):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{self.name}: expected {what} as a list [query, value] or [query, "
                             f"value, key], got {type(inputs).__name__}.")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{self.name}: expected {what} as a list of 2 or 3 (query, value, "
                             f"key), got {len(inputs)}.")
        return list(inputs)

    def _check_shapes(self, input_shape):
        if not (isinstance(input_shape, (list, tuple))
                and all(isinstance(s, (list, tuple)) for s in input_shape)):
            raise ValueError(f"{self.name}: expected inputs as a list [query, value] or [query, "
                             f"value, key], got one input of shape {tuple(input_shape)}.")
        return self._check_list(input_shape, "inputs")

    def build(self, input_shape):
        shapes = self._check_shapes(input_shape)
        if any(len(s) != 3 for s in shapes):
            raise ValueError(f"{self.name}: expected query, value (and key) of shape "
                             f"(batch, time, dim), got shapes {[tuple(s) for s in shapes]}.")
        if self.use_scale:
            self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape, "input shapes")
        return tuple(shapes[0][:-1]) + (shapes[1][-1],)

    def _has_output_shape_rule(self) -> bool:
        return False  # return_attention_scores adds an output: symbolic calls run the layer

    # -- computing ------------------------------------------------------------------------------
    def _dot_scores(self) -> bool:
        return self.score_mode == "dot"

    def _scores(self, q, k):
        """(batch, Tq, Tv) scores of the queries against the keys."""
        if self.score_mode == "dot":
            scores = q @ k.transpose(-1, -2)
            return scores * self.scale if self.use_scale else scores
        s = q.unsqueeze(-2) + k.unsqueeze(-3)
        if self.use_scale:
            s = self.scale * s
        return self.concat_score_weight * torch.tanh(s).sum(-1)

    def _tensors(self, inputs):
        xs = [as_tensor(self, x) for x in self._check_list(inputs)]
        dtype = weight_dtype(self)
        xs = [x if x.is_floating_point() else x.to(dtype) for x in xs]
        q, v = xs[0], xs[1]
        k = xs[2] if len(xs) > 2 else v
        for name, x in (("query", q), ("value", v), ("key", k)):
            if x.dim() != 3:
                raise ValueError(f"{self.name}: expected {name} of shape (batch, time, dim), got "
                                 f"shape {tuple(x.shape)}.")
        if k.shape[1] != v.shape[1]:
            raise ValueError(f"{self.name}: expected key and value of the same length, got "
                             f"shapes {tuple(k.shape)} and {tuple(v.shape)}.")
        return q, v, k

    def _masks(self, mask, q, v):
        if mask is None:
            return None, None
        mask = self._check_list(mask, "mask")
        return (check_mask(self, mask[0], q, "the query mask"),
                check_mask(self, mask[1], v, "the value mask"))

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        q, v, k = self._tensors(inputs)
        q_mask, v_mask = self._masks(mask, q, v)
        keep = None if v_mask is None else v_mask[:, None, :]
        if use_causal_mask:
            causal = _band(q.shape[1], v.shape[1], None, q.device)
            keep = causal if keep is None else keep & causal
        dropping = self._is_training(training) and self.dropout > 0
        if self._dot_scores() and not (return_attention_scores or dropping):
            out, weights = self._fused(q, k, v, keep), None
        else:
            out, weights = self._explicit(q, k, v, keep, dropping)
        if q_mask is not None:
            out = torch.where(q_mask[..., None], out, torch.zeros((), dtype=out.dtype,
                                                                  device=out.device))
        return (out, weights) if return_attention_scores else out

    def _fused(self, q, k, v, keep):
        """torch's fused attention: Keras's result, the hidden scores shifted by the same -1e9
        (an additive mask) so that a fully hidden row averages as in Keras."""
        bias = None
        if keep is not None:
            bias = torch.zeros(keep.shape, dtype=q.dtype, device=q.device).masked_fill(
                ~keep, -_big(q.dtype))
        if self.use_scale:
            q = q * self.scale
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias,
                                                                scale=1.0)

    def _explicit(self, q, k, v, keep, dropping):
        scores = self._scores(q, k)
        if keep is not None:
            scores = torch.where(keep, scores, scores - _big(scores.dtype))
        weights = torch.softmax(scores, dim=-1)
        if dropping:
            kept = self._uniform(weights.shape, weights) >= self.dropout
            weights = weights * kept.to(weights.dtype) / (1.0 - self.dropout)
        return weights @ v, weights

    def _keras_mask_ops(self, inputs, masks):
        return None if masks[0] is None else mask_ops.MaskOp(masks[0])  # ConvertToTensor

    def compute_mask(self, inputs, mask=None):
        """The query's mask (Keras: padded query steps stay padded)."""
        if mask is None:
            return None
        mask = self._check_list(mask, "mask")
        return None if mask[0] is None else as_tensor(self, mask[0])

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores = Σ_d scale_d · tanh(q_i + k_j), then as Attention.

    Args:
        use_scale: learn the (dim,) `scale` (glorot_uniform), else scale = 1.
        dropout: fraction of the attention weights dropped in training.
        seed: seed of the dropout's random numbers.

    >>> q, v = torch.ones(2, 3, 4), torch.ones(2, 5, 4)
    >>> AdditiveAttention()([q, v]).shape
    torch.Size([2, 3, 4])
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        if "score_mode" in kwargs:
            raise TypeError(f"AdditiveAttention: unexpected keyword argument 'score_mode' (its "
                            f"scores are always additive), got {kwargs['score_mode']!r}.")
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        shapes = self._check_shapes(input_shape)
        if any(len(s) != 3 for s in shapes) or shapes[0][-1] is None:
            raise ValueError(f"{self.name}: expected query, value (and key) of shape "
                             f"(batch, time, dim) with a known dim, got shapes "
                             f"{[tuple(s) for s in shapes]}.")
        if self.use_scale:
            self.add_weight(name="scale", shape=(shapes[0][-1],), initializer="glorot_uniform")
        self.built = True

    def _scores(self, q, k):
        t = torch.tanh(q.unsqueeze(-2) + k.unsqueeze(-3))
        return (self.scale * t).sum(-1) if self.use_scale else t.sum(-1)

    def _dot_scores(self) -> bool:
        return False

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
