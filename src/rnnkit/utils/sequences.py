"""Array helpers Keras 3 keeps in `keras.utils`: `pad_sequences`, `to_categorical`, `normalize`.

They take and return NumPy arrays as Keras's do; `to_categorical` and `normalize` also take a
torch tensor and then answer with one (Keras's backend-tensor path, on PyTorch).
"""

from __future__ import annotations

import numpy as np
import torch

_SIDES = ("pre", "post")
# Keras's backend.epsilon(): the floor of a norm in the tensor path of `normalize`.
_EPSILON = 1e-7


def _sample_shape(sequences) -> tuple:
    """The shape of one step, read from the first non-empty sequence (as Keras reads it)."""
    for idx, s in enumerate(sequences):
        try:
            n = len(s)
        except TypeError as e:
            raise ValueError(f"pad_sequences: `sequences` must be a list of iterables; the entry "
                             f"at position {idx} is not one: {s!r}") from e
        if n:
            try:
                return np.asarray(s).shape[1:]
            except ValueError as e:
                raise ValueError(f"pad_sequences: the steps of the sequence at position {idx} "
                                 f"have different shapes ({e})") from e
    return ()


def _check_pad_arguments(maxlen, dtype, padding, truncating, value) -> None:
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in _SIDES:
            raise ValueError(f'pad_sequences: {name} type "{side}" not understood; '
                             f'expected "pre" or "post".')
    if maxlen is not None and (isinstance(maxlen, bool) or int(maxlen) != maxlen or maxlen < 0):
        raise ValueError(f"pad_sequences: `maxlen` must be None or an int >= 0, got {maxlen!r}.")
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"pad_sequences: `dtype` {dtype} cannot hold the string `value` "
                         f"{value!r}; pass dtype=object for strings of any length.")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads (or truncates) sequences to one length: a `(num_samples, maxlen, ...)` array.

    Args:
        sequences: List of sequences; each a list (or array) of integers, or of equal-shaped
            vectors (then the output has their shape after `maxlen`).
        maxlen: Length of the output; `None` means the longest sequence's length.
        dtype: Output dtype; `object` (or a NumPy string dtype) for strings.
        padding: `"pre"` or `"post"`: where `value` is added to a short sequence.
        truncating: `"pre"` or `"post"`: which end of a long sequence is cut.
        value: The padding value (a float, or a string with a string dtype).

    Returns:
        A NumPy array of shape `(len(sequences), maxlen) + step_shape`.

    >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2).tolist()
    [[0, 1], [2, 3], [5, 6]]
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: `sequences` must be a sized iterable (a list of "
                         f"sequences), got {type(sequences).__name__}.")
    _check_pad_arguments(maxlen, dtype, padding, truncating, value)
    sample_shape = _sample_shape(sequences)
    lengths = [len(s) for s in sequences]
    if maxlen is None:
        if not lengths:
            raise ValueError("pad_sequences: cannot infer `maxlen` from an empty list of "
                             "sequences; pass maxlen.")
        maxlen = max(lengths)
    maxlen = int(maxlen)
    x = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return x
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: the steps of the sequence at position {idx} have "
                             f"shape {kept.shape[1:]}, expected {sample_shape} (the first "
                             f"non-empty sequence's).")
        if padding == "post":
            x[idx, :len(kept)] = kept
        else:
            x[idx, maxlen - len(kept):] = kept
    return x


def _check_classes(x: np.ndarray, num_classes) -> int:
    if not num_classes:  # Keras infers the count for None and for 0 alike
        if x.size == 0:
            raise ValueError("to_categorical: cannot infer `num_classes` from an empty input; "
                             "pass num_classes.")
        num_classes = int(x.max()) + 1
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"to_categorical: class values must lie in [0, {num_classes - 1}] for "
                         f"num_classes={num_classes}, got values from {x.min()} to {x.max()}.")
    return int(num_classes)


def to_categorical(x, num_classes=None):
    """Converts class indices to one-hot rows (the class axis last).

    Float labels are truncated to integers, and a trailing axis of size 1 is replaced by the
    class axis (labels of shape `(n, 1)` give `(n, num_classes)`), as in Keras 3.

    Args:
        x: Array-like (or torch tensor) of integers from 0 to `num_classes - 1`.
        num_classes: Number of classes; `None` (or 0) means `max(x) + 1`.

    Returns:
        A float64 NumPy array of shape `x.shape (trailing 1 dropped) + (num_classes,)`, or a
        float32 torch tensor on `x`'s device where `x` is a torch tensor.

    >>> to_categorical([0, 2], num_classes=3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if isinstance(x, torch.Tensor):
        out = to_categorical(x.detach().cpu().numpy(), num_classes)
        return torch.as_tensor(out, dtype=torch.float32, device=x.device)
    x = np.array(x, dtype="int64")
    shape = x.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = x.reshape(-1)
    num_classes = _check_classes(flat, num_classes)
    out = np.zeros((flat.shape[0], num_classes))
    out[np.arange(flat.shape[0]), flat] = 1
    return out.reshape(shape + (num_classes,))


def _normalize_tensor(x: torch.Tensor, axis, order) -> torch.Tensor:
    """Keras's `ops.nn.normalize`: the norm floored at epsilon, `x * rsqrt` for order 2."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: for a tensor `order` must be an int >= 1, got {order!r}.")
    if x.dim() == 0:
        x = x.unsqueeze(0)
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if order == 2:
        inv_norm = torch.rsqrt(x.square().sum(dim=axis, keepdim=True))
        return x * torch.clamp(inv_norm, max=1.0 / _EPSILON)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=_EPSILON)


def normalize(x, axis=-1, order=2):
    """Divides `x` by its `order`-norm along `axis` (a zero norm divides by 1).

    Args:
        x: NumPy array (or torch tensor) to normalize.
        axis: The axis along which the norm is taken.
        order: The norm's order, as `np.linalg.norm`'s `ord` (2 for L2).

    Returns:
        A normalized copy: a NumPy array for NumPy input; for a torch tensor, a tensor computed
        as Keras's `ops.normalize` does (the norm floored at 1e-7, `order` an int >= 1).

    >>> normalize(np.array([[3.0, 4.0]])).tolist()
    [[0.6, 0.8]]
    """
    if isinstance(x, torch.Tensor):
        return _normalize_tensor(x, axis, order)
    x = np.asarray(x)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise ValueError(f"normalize: `axis` must be an int, got {axis!r}.")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"normalize: `axis` {axis} is out of range for an input of "
                         f"shape {x.shape} (a scalar has no axis to normalize along).")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    # Keras writes `axis or -1` here, which puts axis 0's norm back on the last axis; the norm
    # belongs on the axis it was taken along.
    return x / np.expand_dims(norm, axis)
