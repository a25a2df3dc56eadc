"""Turning x and y (numpy arrays or torch tensors) into batches, as Keras's fit does."""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import losses
from ..layers._checks import check_int


def to_tensor(a, where: str, what: str, float_dtype=torch.float32, strings: bool = False):
    """A tensor from an array-like; floating numpy data becomes float_dtype (Keras's floatx).
    With `strings` (a model whose input takes text), an array of str, bytes or object stays a
    numpy array: its first layer reads it, and indexing batches it."""
    if torch.is_tensor(a):
        return a.to(float_dtype) if torch.is_floating_point(a) and a.dtype != float_dtype else a
    try:
        arr = np.asarray(a)
    except Exception as exc:  # pragma: no cover - numpy's message is kept
        raise TypeError(f"{where}: expected {what} as a numpy array or torch tensor, got "
                        f"{type(a).__name__}.") from exc
    if arr.dtype.kind in "USO" and strings:
        return arr
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        hint = (" Text needs a model whose input takes strings: Input(dtype='string') or a "
                "first TextVectorization or StringLookup layer." if arr.dtype.kind in "USO"
                else "")
        raise TypeError(f"{where}: expected {what} of numbers, got an array of dtype "
                        f"{arr.dtype}.{hint}")
    t = torch.from_numpy(np.ascontiguousarray(arr))
    return t.to(float_dtype) if t.is_floating_point() else t


def takes_strings(model) -> bool:
    """Whether the model's input is text: an Input of dtype "string", or a first layer that
    reads strings (TextVectorization, StringLookup)."""
    from ..layers.lookup import StringLookup
    from ..layers.text_vectorization import TextVectorization
    first = getattr(model, "_input_layer", None)
    found = [first] if first is not None else []
    found += [layer for layer in getattr(model, "layers", [])[:2]]
    return any(getattr(layer, "dtype_name", None) == "string"
               or isinstance(layer, (TextVectorization, StringLookup)) for layer in found)


def to_tensors(structure, where: str, what: str, float_dtype=torch.float32,
               strings: bool = False):
    """to_tensor on every array of a list or dict of them (a model of several inputs or
    outputs), or on one."""
    if isinstance(structure, dict):
        return {k: to_tensor(v, where, f"{what}[{k!r}]", float_dtype, strings)
                for k, v in structure.items()}
    if isinstance(structure, (list, tuple)) and structure and not np.isscalar(structure[0]) \
            and all(torch.is_tensor(v) or isinstance(v, np.ndarray) for v in structure):
        return [to_tensor(v, where, f"{what}[{i}]", float_dtype, strings)
                for i, v in enumerate(structure)]
    return to_tensor(structure, where, what, float_dtype, strings)


def leaves(structure) -> list:
    if isinstance(structure, dict):
        return [structure[k] for k in sorted(structure)]
    return list(structure) if isinstance(structure, (list, tuple)) else [structure]


def take(structure, idx):
    """The samples `idx` of every tensor (or numpy array of strings) of the structure."""
    def one(v):
        return v[idx.cpu().numpy() if isinstance(v, np.ndarray) and torch.is_tensor(idx)
                 else idx]
    if isinstance(structure, dict):
        return {k: one(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [one(v) for v in structure]
    return one(structure)


def to_device(structure, device):
    """Tensors moved to `device`; numpy arrays of strings stay (their layer reads them)."""
    def one(v):
        return v if isinstance(v, np.ndarray) else v.to(device)
    if isinstance(structure, dict):
        return {k: one(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [one(v) for v in structure]
    return one(structure)


def count(structure) -> int:
    return int(leaves(structure)[0].shape[0])


def check_lengths(where: str, x, y, allow_empty: bool = False) -> int:
    """check_same_length over every array of x and y (lists or dicts of them, or one each)."""
    xs, ys = leaves(x), ([] if y is None else leaves(y))
    if len(xs) == 1 and len(ys) <= 1:
        return check_same_length(where, xs[0], ys[0] if ys else None, allow_empty)
    for t in xs + ys:
        if t.ndim == 0:
            raise ValueError(f"{where}: expected every input and target with a batch axis, "
                             "got a scalar.")
    sizes = {int(t.shape[0]) for t in xs + ys}
    if len(sizes) != 1:
        raise ValueError(f"{where}: expected every input and target to have the same number of "
                         f"samples, got x with {[int(t.shape[0]) for t in xs]} and y with "
                         f"{[int(t.shape[0]) for t in ys]}.")
    n = sizes.pop()
    if n == 0 and not allow_empty:
        raise ValueError(f"{where}: expected at least one sample, got none.")
    return n


def check_same_length(where: str, x: torch.Tensor, y: torch.Tensor | None,
                      allow_empty: bool = False) -> int:
    """The number of samples; x and y must agree on it, and (unless allow_empty) have some:
    a loss or a prediction over nothing is meaningless, as Keras also finds."""
    if x.ndim == 0:
        raise ValueError(f"{where}: expected x with a batch axis, got a scalar.")
    if y is not None and y.ndim == 0:
        raise ValueError(f"{where}: expected y with a batch axis, got a scalar.")
    if y is not None and y.shape[0] != x.shape[0]:
        raise ValueError(f"{where}: expected x and y to have the same number of samples, got x "
                         f"with {x.shape[0]} (shape {tuple(x.shape)}) and y with {y.shape[0]} "
                         f"(shape {tuple(y.shape)}).")
    if x.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{where}: expected at least one sample, got x of shape "
                         f"{tuple(x.shape)}.")
    return int(x.shape[0])


def check_targets(where: str, y_shape: tuple, output_shape, loss) -> None:
    """y's shape against the model's output shape (batch axis first, None where unknown), read
    as rnnkit's losses read targets (losses.Loss.__call__, Keras's rules): the same shape, or
    one axis of size 1 fewer or more (y (n,) for an output (batch, 1)); class ids for a sparse
    loss: the output's shape without its class axis, or with it of size 1. Losses that read
    targets their own way (a user's function or __call__) are not checked."""
    if (type(loss).fn is None or type(loss).__call__ is not losses.Loss.__call__
            or not _is_shape(output_shape) or len(output_shape) < 2):
        return
    y, out = tuple(y_shape[1:]), tuple(output_shape[1:])
    if loss.sparse:
        wanted = [out[:-1], out[:-1] + (1,)]
    else:
        wanted = [out] + ([out[:-1]] if out[-1] in (1, None) else [])
    if any(len(y) == len(w) and all(b is None or a == b for a, b in zip(y, w))
           for w in wanted + ([] if loss.sparse else [out + (1,)])):
        return
    n = y_shape[0]
    shapes = " or ".join(str((n, *w)) for w in wanted)
    hint = ("one class id per sample (and time step)" if loss.sparse else
            "one target per output value, or a last layer with as many units as y has columns")
    raise ValueError(f"{where}: expected y of shape {shapes} for the model's output of shape "
                     f"{tuple(output_shape)} and the loss {loss.name}, got y of shape "
                     f"{tuple(y_shape)}. Give {hint}.")


def _is_shape(shape) -> bool:
    return isinstance(shape, (tuple, list)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in shape)


def check_batch_size(where: str, value, name: str = "batch_size", default=None):
    """Keras's batch sizes: None means `default` (None: the data's own rule, Keras's
    ceil(samples / steps) with steps, else 32); else a positive Python or numpy integer."""
    return default if value is None else check_int(where, name, value)


def fit_options(where: str, batch_size=None, epochs=1, initial_epoch=0,
                validation_batch_size=None, shuffle=True) -> dict:
    """fit's loop arguments checked up front, Keras's defaults filled in."""
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"{where}: expected shuffle to be True or False, got {shuffle!r} "
                        f"({type(shuffle).__name__}).")
    batch_size = check_batch_size(where, batch_size)  # None stays None: see batches_for
    return {"batch_size": batch_size, "epochs": check_int(where, "epochs", epochs, minimum=0),
            "initial_epoch": check_int(where, "initial_epoch", initial_epoch, minimum=0),
            "validation_batch_size": check_batch_size(where, validation_batch_size,
                                                      "validation_batch_size", batch_size),
            "shuffle": bool(shuffle)}


def validation_split(where: str, x, y, fraction: float):
    """Keras's split: the last `fraction` of the samples, taken before any shuffling."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"{where}: expected validation_split in (0, 1), got {fraction}.")
    n = count(x)
    split_at = int(math.floor(n * (1.0 - fraction)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"{where}: validation_split={fraction} leaves an empty training or "
                         f"validation set for {n} samples.")
    first, rest = slice(0, split_at), slice(split_at, n)
    return (take(x, first), take(y, first)), (take(x, rest), take(y, rest))


def sample_order(n: int, shuffle: bool) -> torch.Tensor:
    """The order of an epoch's samples: a permutation from torch's global generator, or 0..n-1."""
    return torch.randperm(n) if shuffle else torch.arange(n)


def batch_indices(n: int, batch_size: int, shuffle: bool) -> list[torch.Tensor]:
    return list(sample_order(n, shuffle).split(batch_size))


def num_batches(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))


def check_validation_freq(where: str, value):
    """Keras's validation_freq: a positive integer (every n-th epoch) or a collection of
    epoch numbers counted from 1."""
    if isinstance(value, (list, tuple, set, range)):
        return {check_int(where, "each epoch of validation_freq", v) for v in value}
    return check_int(where, "validation_freq", value)


def validates(epoch: int, freq) -> bool:
    """Whether fit validates after `epoch` (counted from 0), as Keras decides."""
    return (epoch + 1) in freq if isinstance(freq, set) else (epoch + 1) % freq == 0


def sample_weights(where: str, sample_weight, class_weight, y, float_dtype=torch.float32):
    """Keras's per-sample weights of (x, y): `sample_weight` as given ((n,), or (n, time) for
    sequence outputs; one array for every output, or a list or dict of them), or the weight
    `class_weight` gives each sample's class (one output only); None for neither."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError(f"{where}: expected sample_weight or class_weight, got both; Keras "
                         "takes one of them.")
    if class_weight is not None:
        return class_weights(where, class_weight, y, float_dtype)
    if sample_weight is None:
        return None
    weights = to_tensors(sample_weight, where, "sample_weight", float_dtype)
    n = count(y)
    for w in leaves(weights):
        if w.dim() == 0 or w.shape[0] != n:
            raise ValueError(f"{where}: expected sample_weight with one entry per sample ({n}), "
                             f"got shape {tuple(w.shape)}.")
    return weights


def class_weights(where: str, class_weight, y, float_dtype=torch.float32) -> torch.Tensor:
    """The weight of each sample's class, as Keras reads it: the class is the argmax of one-hot
    targets, else the (rounded) target itself; a class missing from the dict weighs 1."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"{where}: expected class_weight as a dict of class -> weight, got "
                        f"{type(class_weight).__name__}.")
    if not torch.is_tensor(y):
        raise ValueError(f"{where}: class_weight applies to a model of one output, as in Keras; "
                         "got several targets. Pass sample_weight instead.")
    labels = y
    if labels.dim() > 1:
        labels = labels.argmax(-1) if labels.shape[-1] != 1 else labels.squeeze(-1)
    if labels.dim() != 1:
        raise ValueError(f"{where}: class_weight needs one class per sample, got targets of "
                         f"shape {tuple(y.shape)}; pass sample_weight for sequence targets.")
    table = {int(k): float(v) for k, v in class_weight.items()}
    ids = torch.round(labels.double()).long().tolist()
    return torch.tensor([table.get(i, 1.0) for i in ids], dtype=float_dtype)
