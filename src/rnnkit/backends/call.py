"""One call of a recurrent layer, described once: what the cell is, what it computes with and
which options are on. Every backend answers `refusal(call)` (None, or why it cannot compute
exactly this) and `run(call)`; each lists what it was written for and refuses the rest, so an
option added to a layer later is refused by every fast backend until it learns it.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import torch

from .. import activations
from ..cells import CellSpec


class RecurrentCall(NamedTuple):
    """Everything a backend needs to run, or refuse, one call of a recurrent layer.

    x: (batch, time, features); states: the initial states in the cell's order; kernel
    (features, G·units) and recurrent_kernel (units, G·units) in Keras layout; input_bias
    (G·units,) or None; recurrent_bias (G·units,) only where the spec has one; mask: (batch,
    time) bool or None; input_masks / recurrent_masks: Keras's dropout masks (one per gate
    block, or one for all) or None. `options` holds anything else the layer computes with (empty
    for Keras's three cells): a backend that does not list an option refuses the call.
    `memo` keeps what is computed from the data once (the rows' lengths). Immutable, and a
    tuple: building one costs a few microseconds per layer call.
    """

    layer: str
    spec: CellSpec
    activation: Callable
    recurrent_activation: Callable | None
    x: torch.Tensor
    states: tuple
    kernel: torch.Tensor
    recurrent_kernel: torch.Tensor
    input_bias: torch.Tensor | None
    recurrent_bias: torch.Tensor | None
    mask: torch.Tensor | None = None
    input_masks: tuple | None = None
    recurrent_masks: tuple | None = None
    go_backwards: bool = False
    return_sequences: bool = False
    return_state: bool = False
    zero_output_for_mask: bool = False
    state_probe: Callable | None = None
    options: Mapping[str, Any] = {}
    memo: dict | None = None

    @property
    def weights(self) -> tuple:
        return tuple(w for w in (self.kernel, self.recurrent_kernel, self.input_bias,
                                 self.recurrent_bias) if w is not None)

    @property
    def act(self) -> str | None:
        """The activation's registered name; None for a custom callable."""
        return activations.registered_name(self.activation)

    @property
    def ract(self) -> str | None:
        """The recurrent activation's name; None for a cell without one (SimpleRNN)."""
        if self.spec.family == "simple_rnn":
            return None
        return activations.registered_name(self.recurrent_activation) or "<custom>"

    def activations_text(self) -> str:
        text = f"activation '{self.act or activations.serialize(self.activation)}'"
        if self.ract is not None:
            text += f" and recurrent_activation '{self.ract}'"
        return text

    @property
    def autocast(self) -> torch.dtype | None:
        """The lower-precision dtype of torch.autocast on x's device, or None when it is off."""
        device = self.x.device.type
        return torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else None

    @property
    def lengths(self) -> torch.Tensor | None:
        """Each row's number of real steps, (batch,) int32, when the mask is right-padded (no
        real step after a padded one); else None (and None without a mask). Computed once."""
        if self.mask is None:
            return None
        memo = self.memo if self.memo is not None else {}
        if "lengths" not in memo:
            lengths = self.mask.sum(1)
            steps = torch.arange(self.mask.shape[1], device=self.mask.device)
            padded = bool((self.mask == (steps < lengths[:, None])).all())
            memo["lengths"] = lengths.to(torch.int32) if padded else None
        return memo["lengths"]

    def unknown_options(self, known=()) -> str | None:
        """The options a backend does not list, for its refusal."""
        extra = sorted(set(self.options) - set(known))
        return f"option(s) {', '.join(extra)}" if extra else None

    def right_padded_refusal(self) -> str | None:
        """Why a loop that runs each row to its length cannot take this call's mask, or None."""
        if self.mask is None:
            return None
        if torch.compiler.is_compiling():  # right-padded or not is a question about data
            return "a mask under torch.compile"
        if self.lengths is None:
            return "a mask that is not right-padded (a padded step before a real one)"
        return None

    def input_dropout_refusal(self) -> str | None:
        """Why a loop that runs per-gate input dropout as one block-diagonal input product
        (loops._dropped_inputs) cannot run this call, or None: its zero blocks meet every
        feature, and an infinite one gives inf·0 = NaN where the reference loop's gate products
        (each its own) give ±inf. Whether x holds one is a question about data."""
        if self.input_masks is None or len(self.input_masks) < 2:
            return None
        if torch.compiler.is_compiling():
            return "per-gate input dropout under torch.compile"
        if bool(torch.isinf(self.x).any()):
            return "an infinite input under per-gate input dropout"
        return None

    def weights_refusal(self) -> str | None:
        """Why the weights and states cannot meet x in one kernel (device or dtype), or None."""
        device, dtype = self.x.device, self.x.dtype
        for t in (*self.weights, *self.states):
            if t.device != device or t.dtype != dtype:
                return (f"inputs ({self.x.dtype} on {self.x.device}) unlike the weights "
                        f"({t.dtype} on {t.device})")
        return None
