"""Input checks shared by layers: one clear error naming the layer, what it expected, what came."""

from __future__ import annotations

import math

import numpy as np
import torch


def _kind(minimum: int) -> str:
    return {0: "a non-negative integer", 1: "a positive integer"}.get(
        minimum, f"an integer of at least {minimum}")


def check_int(where: str, name: str, value, minimum: int = 1) -> int:
    """`value` as a Python int: a Python or numpy integer of at least `minimum`. Booleans,
    floats (even 8.0) and strings are refused, as Keras's shapes and counts refuse them."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: expected {name} to be {_kind(minimum)}, got {value!r} "
                        f"({type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"{where}: expected {name} to be {_kind(minimum)}, got {value!r}.")
    return int(value)


def check_units(where: str, units) -> int:
    """A layer's `units`: a positive Python or numpy integer."""
    return check_int(where, "units", units, minimum=1)


def check_rate(where: str, name: str, value, *, clip: bool = False) -> float:
    """A dropout rate as a float. Keras's Dropout refuses a rate outside [0, 1]; its recurrent
    layers clip `dropout` and `recurrent_dropout` into [0, 1] instead (clip=True). A rate that
    is not a real number, or is NaN, is an error either way (Keras would clip NaN to 0)."""
    expected = f"{where}: expected {name} to be a number between 0 and 1"
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{expected}, got {value!r} ({type(value).__name__}).")
    rate = float(value)
    if math.isnan(rate) or not (clip or 0.0 <= rate <= 1.0):
        raise ValueError(f"{expected}, got {rate}.")
    return min(1.0, max(0.0, rate)) if clip else rate


def as_tensor(layer, inputs) -> torch.Tensor:
    if isinstance(inputs, np.ndarray):
        inputs = torch.from_numpy(inputs)
    if not torch.is_tensor(inputs):
        raise TypeError(f"{layer.name}: expected a torch.Tensor or numpy array, got "
                        f"{type(inputs).__name__}.")
    return inputs


def weight_dtype(layer) -> torch.dtype:
    weights = layer.weights
    return weights[0].dtype if weights else getattr(torch, layer.dtype_name)


def check_recurrent_input(layer, inputs) -> torch.Tensor:
    """(batch, time, features) real input whose feature size matches the kernel, cast to the
    weights' dtype: integers and booleans are converted as Keras converts them."""
    x = as_tensor(layer, inputs)
    if x.dim() != 3:
        raise ValueError(f"{layer.name}: expected input of shape (batch, time, features) (rank 3), "
                         f"got shape {tuple(x.shape)} (rank {x.dim()}). For a single feature, add a "
                         "last axis: x[..., None].")
    if x.is_complex():
        raise TypeError(f"{layer.name}: expected real-valued input (float, integer or bool), got "
                        f"dtype {x.dtype}. Split it into real features, e.g. "
                        "torch.view_as_real(x).flatten(-2).")
    if x.shape[1] == 0:
        raise ValueError(f"{layer.name}: expected at least one time step, got shape {tuple(x.shape)}.")
    if x.shape[-1] != layer.input_dim:
        raise ValueError(f"{layer.name}: expected {layer.input_dim} input features (the layer was "
                         f"built for that), got shape {tuple(x.shape)} with {x.shape[-1]}.")
    return x.to(weight_dtype(layer))


def check_initial_state(layer, initial_state, x) -> tuple[torch.Tensor, ...]:
    """The initial states as a tuple in the cell's order, zeros when none are given."""
    names = layer.spec.state_names
    batch, dtype = x.shape[0], x.dtype
    if initial_state is None:
        return tuple(x.new_zeros(batch, layer.units) for _ in names)
    if torch.is_tensor(initial_state) or isinstance(initial_state, np.ndarray):
        initial_state = [initial_state]
    initial_state = list(initial_state)
    if len(initial_state) != len(names):
        raise ValueError(f"{layer.name}: expected {len(names)} initial state(s) "
                         f"({', '.join(names)}), got {len(initial_state)}.")
    states = []
    for name, s in zip(names, initial_state):
        s = as_tensor(layer, s)
        if tuple(s.shape) != (batch, layer.units):
            raise ValueError(f"{layer.name}: expected initial state {name} of shape "
                             f"({batch}, {layer.units}), got {tuple(s.shape)}.")
        states.append(s.to(device=x.device, dtype=dtype))
    return tuple(states)


def check_mask(layer, mask, x, what="a mask") -> torch.Tensor | None:
    """A (batch, time) boolean mask for x (batch, time, features), True where a step is real."""
    if mask is None:
        return None
    mask = as_tensor(layer, mask)
    if tuple(mask.shape) != tuple(x.shape[:2]):
        raise ValueError(f"{layer.name}: expected {what} of shape (batch, time) = "
                         f"{tuple(x.shape[:2])}, got shape {tuple(mask.shape)}.")
    return mask.to(device=x.device, dtype=torch.bool)
