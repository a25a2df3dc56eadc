"""MultiHeadAttention, as Keras 3 has it (Vaswani et al., "Attention is all you need").

For query x_q (batch, T, dim_q), value x_v (batch, S, dim_v) and key x_k (batch, S, dim_k,
default the value), with N heads:

    q = x_q W_q + b_q        (batch, T, N, key_dim)     W_q: (dim_q, N, key_dim)
    k = x_k W_k + b_k        (batch, S, N, key_dim)
    v = x_v W_v + b_v        (batch, S, N, value_dim)
    a = softmax(q kᵀ / √key_dim) over S, per head     (batch, N, T, S): the attention scores
    y = (a v) W_o + b_o      (batch, T, *output_shape)  W_o: (N, value_dim, *output_shape)

Keras computes the projections with EinsumDense sublayers; rnnkit keeps their kernels and biases
as the layer's own weights, in Keras's order (query, key, gate, value, attention_output) and
shapes, and Keras files keep them under query_dense/, key_dense/, ... (`_keras_parts`).

Masks, as Keras 3 combines them: the query's mask hides rows, the value's (and key's) columns,
`attention_mask` (batch, T, S) and the causal and sliding-window masks whatever they say; a
hidden score never counts. A row with every score hidden (a padded query step) differs between
Keras's two paths, and rnnkit keeps both: its fused path (no dropout, no scores asked for) gives
the uniform average of the values (a large negative number, not NaN), its einsum path (dropout
> 0 or return_attention_scores) zero weights, hence the output bias alone. The query's mask is
the output's mask. A `query_mask` argument is honoured, the query tensor's Keras mask used
when none is given (Keras 3.15 reads only the tensor's and ignores the argument).
"""

from __future__ import annotations

import inspect
import math

import torch

from .. import initializers
from ._checks import as_tensor, check_int, check_rate, weight_dtype
from .base import Layer
from ._keras_objects import objects_config, set_objects

__all__ = ["MultiHeadAttention"]

_PARTS = ("query", "key", "gate", "value", "attention_output")


def _projection_init(init):
    """Keras 3.15's EinsumDense gives a variance-scaling initializer the kernel's true fans (input
    axes → output axes), those of the matrix it flattens to; other initializers see the shape."""
    if not isinstance(init, initializers.VarianceScaling):
        return init

    def draw(shape, dtype=None, fan_in_axes=1):
        rows = math.prod(shape[:fan_in_axes])
        return torch.as_tensor(init((rows, math.prod(shape[fan_in_axes:])), dtype=dtype)
                               ).reshape(shape)
    return draw


def _mask_fill(keep, scores):
    """Keras's Softmax mask: hidden scores become -1e9 (-3e4 in float16)."""
    big = -3e4 if scores.dtype == torch.float16 else -1e9
    return torch.where(keep, scores, torch.full((), big, dtype=scores.dtype,
                                                device=scores.device))


class MultiHeadAttention(Layer):
    """Multi-head dot-product attention of `query` over `value` (and `key`).

    Args:
        num_heads: number of heads N.
        key_dim: size of each head's queries and keys.
        value_dim: size of each head's values (default key_dim).
        dropout: fraction of the attention scores dropped in training.
        use_bias: add biases to the four projections.
        output_shape: the output's trailing shape (int or tuple); default the query's dim.
        attention_axes: the axes attended over; only the time axis (None, 1, -2) is supported.
        sliding_window: attend only to keys within this distance (|i - j| < window).
        flash_attention: Keras's switch for a fused kernel; rnnkit always uses torch's fused
            attention where it gives Keras's result, so this only keeps Keras's checks (no
            dropout, no attention scores).
        use_gate: multiply each head's output by sigmoid(x_q W_g + b_g) before the output
            projection.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: for every projection's kernel and bias.
        seed: seed of the dropout's random numbers.

    Call arguments: query (batch, T, dim), value (batch, S, dim), key (default value),
    query_mask/value_mask/key_mask ((batch, T|S) booleans, by default the tensors' Keras masks),
    attention_mask ((batch, T, S) booleans, True where attention is allowed),
    return_attention_scores (also return the (batch, N, T, S) scores), training,
    use_causal_mask.

    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> mha(torch.ones(3, 5, 8), torch.ones(3, 6, 8)).shape
    torch.Size([3, 5, 8])
    """

    supports_masking = True
    _keras_mask_argument = "arguments"
    # where Keras's files keep the projections' variables (layers/<key>/<part>/vars), in the
    # order of the weights (the gate has no public property in Keras: its attribute's name)
    _keras_parts = ("query_dense", "key_dense", "_gate_dense", "value_dense", "output_dense")

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        if activity_regularizer is not None:
            raise NotImplementedError(f"{self.name}: activity_regularizer is not supported (Keras "
                                      "applies it to each projection's output as well).")
        self.num_heads = check_int(self.name, "num_heads", num_heads)
        self.key_dim = check_int(self.name, "key_dim", key_dim)
        self.value_dim = (self.key_dim if value_dim is None
                          else check_int(self.name, "value_dim", value_dim))
        self.dropout = check_rate(self.name, "dropout", dropout)
        self.use_bias, self.use_gate = bool(use_bias), bool(use_gate)
        self._output_shape = self._check_output_shape(output_shape)
        self.attention_axes = self._check_axes(attention_axes)
        self.sliding_window = (None if sliding_window is None
                               else check_int(self.name, "sliding_window", sliding_window))
        self.flash_attention = bool(flash_attention)
        if self.flash_attention and self.dropout > 0:
            raise ValueError(f"{self.name}: flash_attention=True takes no dropout, got "
                             f"dropout={self.dropout}; set dropout=0.0 or drop flash_attention.")
        set_objects(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                    kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                    kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self._seed_generator(seed)

    def _check_output_shape(self, output_shape):
        if not output_shape:
            return None
        shape = (output_shape,) if not isinstance(output_shape, (list, tuple)) else output_shape
        return tuple(check_int(self.name, "output_shape", d) for d in shape)

    def _check_axes(self, axes):
        if axes is None:
            return None
        if not isinstance(axes, (int, list, tuple)) or isinstance(axes, bool):
            raise ValueError(f"{self.name}: expected attention_axes as an int, list or tuple, got "
                             f"{axes!r}.")
        axes = (axes,) if isinstance(axes, int) else tuple(axes)
        if axes not in ((1,), (-2,)):
            raise NotImplementedError(f"{self.name}: attention_axes={axes} is not supported; "
                                      "rnnkit attends over the time axis only (None, 1 or -2).")
        return (1,)

    # -- building -------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        """Builds from the query's, value's and key's shapes (Keras's build takes all three)."""
        if not self.built:
            q, v, k = self._bound_tensors(args, kwargs)
            device = next((t.device for t in (q, v, k) if isinstance(t, torch.Tensor)), None)
            self.build_on(tuple(tuple(t.shape) if t is not None else None for t in (q, v, k)),
                          device)
        return super().forward(*args, **kwargs)

    def _bound_tensors(self, args, kwargs):
        try:
            bound = inspect.signature(self.call).bind(*args, **kwargs).arguments
        except TypeError as err:
            raise TypeError(f"{self.name}: expected call(query, value, key=None, ...), got "
                            f"{len(args)} positional and keywords {sorted(kwargs)}: {err}.") from None
        return bound["query"], bound["value"], bound.get("key")

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and query_shape and isinstance(query_shape[0], (tuple, type(None))):
            query_shape, value_shape, key_shape = query_shape  # from forward: all three
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        shapes = {"query": query_shape, "value": value_shape, "key": key_shape}
        for name, shape in shapes.items():
            if len(shape) != 3 or shape[-1] is None:
                raise NotImplementedError(
                    f"{self.name}: expected {name} of shape (batch, time, dim) with a known dim "
                    f"(rnnkit supports rank-3 inputs only), got {tuple(shape)}.")
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"{self.name}: expected value and key to agree on every axis but "
                             f"the last, got {tuple(value_shape)} and {tuple(key_shape)}.")
        n = self.num_heads
        out = self._output_shape or (query_shape[-1],)
        sizes = {"query": (query_shape[-1], n, self.key_dim),
                 "key": (key_shape[-1], n, self.key_dim),
                 "gate": (query_shape[-1], n, self.value_dim) if self.use_gate else None,
                 "value": (value_shape[-1], n, self.value_dim),
                 "attention_output": (n, self.value_dim, *out)}
        for part, shape in sizes.items():
            if shape is not None:
                self._add_projection(part, shape, 2 if part == "attention_output" else 1)
        self.attention_axes = (1,)
        self.built = True

    def _add_projection(self, part, shape, fan_in_axes):
        draw = _projection_init(self.kernel_initializer)
        init = draw if draw is self.kernel_initializer else (
            lambda s, dtype=None: draw(s, dtype, fan_in_axes))
        self.add_weight(name=f"{part}_kernel", shape=shape, initializer=init,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight(name=f"{part}_bias", shape=shape[fan_in_axes:],
                            initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                            constraint=self.bias_constraint)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if (value_shape is not None and key_shape is not None
                and tuple(value_shape[1:-1]) != tuple(key_shape[1:-1])):
            raise ValueError(f"{self.name}: expected value and key to agree on every axis but "
                             f"the last, got {tuple(value_shape)} and {tuple(key_shape)}.")
        query_shape = tuple(query_shape)
        return query_shape[:-1] + self._output_shape if self._output_shape else query_shape

    def _has_output_shape_rule(self) -> bool:
        return False  # several inputs, and the scores as a second output: symbolic calls run it

    # -- computing ------------------------------------------------------------------------------
    def _project(self, part, x, fan_in_axes=1):
        """x (..., fan-in axes) times the part's kernel, plus its bias, as Keras's EinsumDense."""
        kernel = getattr(self, f"{part}_kernel")
        fan_in = math.prod(kernel.shape[:fan_in_axes])
        y = x.reshape(*x.shape[:x.dim() - fan_in_axes], fan_in) @ kernel.reshape(fan_in, -1)
        if self.use_bias:
            y = y + getattr(self, f"{part}_bias").reshape(-1)
        return y.reshape(*x.shape[:x.dim() - fan_in_axes], *kernel.shape[fan_in_axes:])

    def _tensor(self, x, name, dim):
        x = as_tensor(self, x)
        if not x.is_floating_point():
            x = x.to(weight_dtype(self))
        if x.dim() != 3 or x.shape[-1] != dim:
            raise ValueError(f"{self.name}: expected {name} of shape (batch, time, {dim}), got "
                             f"shape {tuple(x.shape)}.")
        return x

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        if self.flash_attention and return_attention_scores:
            raise ValueError(f"{self.name}: flash_attention=True cannot return the attention "
                             "scores; drop return_attention_scores or flash_attention.")
        if query_mask is None:  # Keras reads the query's own mask
            query_mask = getattr(query, "_keras_mask", None)
        x_q = self._tensor(query, "query", self.query_kernel.shape[0])
        x_v = self._tensor(value, "value", self.value_kernel.shape[0])
        x_k = x_v if key is None else self._tensor(key, "key", self.key_kernel.shape[0])
        if x_k.shape[:2] != x_v.shape[:2]:
            raise ValueError(f"{self.name}: expected key and value of the same batch and length, "
                             f"got shapes {tuple(x_k.shape)} and {tuple(x_v.shape)}.")
        keep = self._keep(x_q, x_v, query_mask, value_mask, key_mask, attention_mask)
        causal_only = use_causal_mask and keep is None and self.sliding_window is None
        if use_causal_mask and not causal_only:
            causal = _band(x_q.shape[1], x_v.shape[1], None, x_q.device)
            keep = causal if keep is None else keep & causal
        if self.sliding_window is not None:
            band = _band(x_q.shape[1], x_v.shape[1], self.sliding_window, x_q.device)
            keep = band if keep is None else keep & band
        q, k, v = (self._project("query", x_q), self._project("key", x_k),
                   self._project("value", x_v))
        if return_attention_scores or self.dropout > 0:
            heads, scores = self._explicit(q, k, v, keep, training, causal_only)
        else:
            heads, scores = self._fused(q, k, v, keep, causal_only), None
        if self.use_gate:
            heads = heads * torch.sigmoid(self._project("gate", x_q))
        y = self._project("attention_output", heads, fan_in_axes=2)
        if query_mask is not None and not torch.compiler.is_compiling():
            y._keras_mask = as_tensor(self, query_mask).to(device=y.device, dtype=torch.bool)
        return (y, scores) if return_attention_scores else y

    def _keep(self, x_q, x_v, query_mask, value_mask, key_mask, attention_mask):
        """(batch or 1, T, S) booleans, True where query i may attend to key j; None: all."""
        keep = None
        for name, m, axis, x in (("query", query_mask, -1, x_q), ("value", value_mask, -2, x_v),
                                 ("key", key_mask, -2, x_v)):
            if m is None:
                continue
            m = as_tensor(self, m)
            if tuple(m.shape) != tuple(x.shape[:2]):
                raise ValueError(f"{self.name}: expected {name}_mask of shape (batch, time) = "
                                 f"{tuple(x.shape[:2])}, got {tuple(m.shape)}.")
            m = m.to(device=x.device, dtype=torch.bool).unsqueeze(axis)
            keep = m if keep is None else keep & m
        if attention_mask is not None:
            m = as_tensor(self, attention_mask).to(device=x_q.device, dtype=torch.bool)
            keep = m if keep is None else m & keep
        return keep

    def _explicit(self, q, k, v, keep, training, causal_only):
        """Keras's own path (needed for the scores and for dropout): einsums and a masked
        softmax."""
        q = q * (1.0 / math.sqrt(self.key_dim))
        scores = torch.einsum("bsnh,btnh->bnts", k, q)
        if causal_only:
            keep = _band(q.shape[1], k.shape[1], None, q.device)
        if keep is not None:
            keep = keep[:, None]
            scores = _mask_fill(keep, scores)
        scores = torch.softmax(scores, dim=-1)
        if keep is not None:  # Keras's Softmax zeroes hidden weights: a fully hidden row is 0
            scores = torch.where(keep, scores, torch.zeros((), dtype=scores.dtype,
                                                           device=scores.device))
        weights = scores
        if self._is_training(training) and self.dropout > 0:
            kept = self._uniform(scores.shape, scores) >= self.dropout
            weights = scores * kept.to(scores.dtype) / (1.0 - self.dropout)
        return torch.einsum("bnts,bsnh->btnh", weights, v), scores

    def _fused(self, q, k, v, keep, causal_only):
        """torch's scaled_dot_product_attention; a row that hides every key would be NaN there,
        so it attends to all and is then replaced by the uniform average Keras gives it."""
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (batch, N, time, features)
        full = None
        if keep is not None:
            full = ~keep.any(-1, keepdim=True)  # (batch, T, 1): rows hiding every key
            keep = (keep | full)[:, None]
        out = torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=keep, is_causal=causal_only, scale=1.0 / math.sqrt(self.key_dim))
        if full is not None:
            out = torch.where(full[:, None], v.mean(-2, keepdim=True), out)
        return out.transpose(1, 2)

    # -- config ---------------------------------------------------------------------------------
    def get_config(self):
        def listed(value):
            return None if value is None else tuple(value)
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "output_shape": listed(self._output_shape),
                "attention_axes": listed(self.attention_axes),
                "sliding_window": self.sliding_window,
                **objects_config(self, "kernel_initializer", "bias_initializer",
                                 "kernel_regularizer", "bias_regularizer"),
                "activity_regularizer": None,
                **objects_config(self, "kernel_constraint", "bias_constraint"), "seed": self.seed}


def _band(tq: int, ts: int, window, device) -> torch.Tensor:
    """(1, T, S) booleans: causal (key j ≤ query i) when window is None, else |i - j| < window."""
    i = torch.arange(tq, device=device)[:, None]
    j = torch.arange(ts, device=device)[None, :]
    return ((j <= i) if window is None else (i - j).abs() < window)[None]
