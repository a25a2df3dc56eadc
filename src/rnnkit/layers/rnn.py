"""RNN: Keras's recurrent layer over any cell; the three built-in cells run on the fast backends."""

from __future__ import annotations

import numpy as np
import torch

from .. import backends
from ..utils import tree
from ._checks import as_tensor, check_mask, check_recurrent_input
from .base import Layer
from .cell_loop import run_cell
from .dropout_rnn_cell import DropoutRNNCell
from .rnn_cells import RecurrentCell
from .cell_protocol import cell_output_size, cell_weights, check_cell, zeros_for
from .stacked_rnn_cells import StackedRNNCells


def describes_calls(cell) -> bool:
    """Whether RNN runs `cell` as a RecurrentCall on rnnkit's backends: one of the three
    built-in cells (or a subclass that keeps their step and initial states)."""
    return (isinstance(cell, RecurrentCell) and type(cell).call is RecurrentCell.call
            and type(cell).get_initial_state is RecurrentCell.get_initial_state)


def reset_dropout_masks(cell) -> None:
    """Forget the dropout masks `cell` (and every cell of a StackedRNNCells) keeps."""
    if isinstance(cell, DropoutRNNCell):
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
    if isinstance(cell, StackedRNNCells):
        for inner in cell.cells:
            reset_dropout_masks(inner)


class RNN(Layer):
    """Keras's recurrent layer: runs a cell over (batch, time, features).

    Args:
        cell: an rnnkit cell (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells), a list of
            cells (made a StackedRNNCells), or any object with `call(inputs, states[,
            training])` returning (output, new states) and `state_size` (an int or a list of
            ints), optionally `output_size` and `get_initial_state(batch_size)`.
        return_sequences: return the output of every step (batch, time, output size).
        return_state: also return the final states: [output, *states].
        go_backwards: process the sequence reversed (and return the outputs in that order).
        stateful: carry the final states into the next call (a fixed batch size).
        unroll: accepted for Keras's sake; the loop is the same either way.
        zero_output_for_mask: masked steps output zeros instead of the previous output.
        backend: for the built-in cells, "auto", "reference", "native", "cudnn" or "triton"
            (rnnkit.backends; `last_backend` tells which one ran). Other cells run Keras's loop
            over their `call`, differentiated by autograd ("reference").

    Call: layer(x, initial_state=None, mask=None, training=None), mask (batch, time) True at
    real steps (masked steps keep the states and repeat the previous output).

    >>> from rnnkit.layers import LSTMCell
    >>> RNN(LSTMCell(4), return_sequences=True)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 4])
    """

    supports_masking = True
    _keras_mask_argument = "mask"

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, *, backend="auto",
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell, self.name)
        size = cell.state_size
        if not (isinstance(size, int) or (isinstance(size, (list, tuple)) and size)):
            raise ValueError(f"{self.name}: expected the cell's state_size to be an int or a list "
                             f"of ints (one per state), got {size!r}.")
        self.cell = cell
        self._describes_calls = describes_calls(cell)  # run on rnnkit's backends
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.backend = backends.check(backend, self.name)
        self.last_backend: str | None = None
        self.state_probe = None  # rnnkit.diagnostics: sees every step's state (reference loop)
        self._features = None
        self._build_now_if_shape_known()

    @property
    def state_size(self) -> list:
        """Keras's RNN.state_size: the cell's, as a list."""
        size = self.cell.state_size
        return [size] if isinstance(size, int) else list(size)

    # -- weights --------------------------------------------------------------------------------
    @property
    def input_dim(self) -> int | None:
        if not self.built:
            return None
        return self.cell.kernel.shape[0] if self._describes_calls else self._features

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"{self.name}: expected input of shape (batch, time, features), "
                             f"got shape {input_shape}.")
        if input_shape[-1] is None:
            raise ValueError(f"{self.name}: the feature axis must be known to build, got shape "
                             f"{input_shape}.")
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build_on((input_shape[0],) + input_shape[2:], self._device)
        self._features = input_shape[-1]
        if self.stateful:
            self._build_states(input_shape[0])
        self.built = True

    @property
    def weights(self) -> list:
        cell = self.cell
        return cell.weights if isinstance(cell, Layer) else [w for _, w in cell_weights(cell)]

    @property
    def weight_names(self) -> list[str]:
        return [name for name, _ in cell_weights(self.cell)]

    def _sublayers(self) -> list[Layer]:
        return [self.cell] if isinstance(self.cell, Layer) else []

    # -- states ---------------------------------------------------------------------------------
    def get_initial_state(self, batch_size) -> list:
        """The cell's initial states (its get_initial_state, else zeros), as a list."""
        make = getattr(self.cell, "get_initial_state", None)
        if callable(make):
            states = make(batch_size=batch_size)
            return list(states) if tree.is_nested(states) else [states]
        zeros = zeros_for(self)
        return [zeros(batch_size, d) for d in self.state_size]

    def _state_template(self, batch, like) -> tuple[list, tuple | None]:
        """(zero states nested as the cell takes them, on like's device and dtype; their names
        where the cell names them)."""
        if self._describes_calls:
            cell = self.cell
            return [like.new_zeros(batch, cell.units) for _ in cell.spec.state_names], \
                cell.spec.state_names
        states = tree.map_structure(lambda s: s.to(device=like.device, dtype=like.dtype),
                                    self.get_initial_state(batch))
        return states, None

    def _build_states(self, batch) -> None:
        """Keras's stateful RNN: states of a fixed batch size, zeros at first, carried from one
        call to the next (not weights: neither counted, saved, nor trained)."""
        if batch is None:
            raise ValueError(f"{self.name}: stateful=True needs a fixed batch size; pass "
                             "batch_size= (or batch_input_shape=) to the first layer, or "
                             "Input(shape, batch_size=...); got a dynamic batch size.")
        device = self._device or torch.get_default_device()
        like = torch.empty(0, device=device, dtype=getattr(torch, self.dtype_name))
        template, names = self._state_template(batch, like)
        flat = tree.flatten(template)
        names = names or [str(k) for k in range(len(flat))]
        self._state_layout = tree.pack_as(template, names)
        for name, s in zip(names, flat):
            self.register_buffer(f"state_{name}", torch.zeros_like(s), persistent=False)

    @property
    def states(self) -> list | None:
        """A stateful layer's current states (nested as the cell's); None otherwise."""
        if not (self.stateful and self.built):
            return None
        return tree.map_structure(lambda n: getattr(self, f"state_{n}"), self._state_layout)

    def reset_state(self) -> None:
        """Zero a stateful layer's states, as before its first batch."""
        with torch.no_grad():
            for s in tree.flatten(self.states or []):
                s.zero_()

    reset_states = reset_state  # Keras's older name

    def _carried_states(self, x) -> list:
        states = self.states
        batch = tree.flatten(states)[0].shape[0]
        if batch != x.shape[0]:
            raise ValueError(f"{self.name}: a stateful layer keeps states for batches of "
                             f"{batch}, got a batch of {x.shape[0]}.")
        # copies: the kept states are overwritten after this call, and backward may need these
        return tree.map_structure(lambda s: s.to(dtype=x.dtype, copy=True), states)

    def _initial_states(self, initial_state, x) -> list:
        """The states the call starts from, nested as the cell takes them: the given ones
        (nested, or flat in that order), the carried ones of a stateful layer, or zeros."""
        if initial_state is None and self.stateful:
            return self._carried_states(x)
        template, names = self._state_template(x.shape[0], x)
        if initial_state is None:
            return template
        if torch.is_tensor(initial_state) or isinstance(initial_state, np.ndarray):
            initial_state = [initial_state]
        given, expected = tree.flatten(list(initial_state)), tree.flatten(template)
        if len(given) != len(expected):
            listed = f" ({', '.join(names)})" if names else ""
            raise ValueError(f"{self.name}: expected {len(expected)} initial state(s){listed}, "
                             f"got {len(given)}.")
        states = []
        for k, (s, e) in enumerate(zip(given, expected)):
            s = as_tensor(self, s)
            if s.shape != e.shape:
                raise ValueError(f"{self.name}: expected initial state {names[k] if names else k}"
                                 f" of shape {tuple(e.shape)}, got {tuple(s.shape)}.")
            states.append(s.to(device=x.device, dtype=x.dtype))
        return tree.pack_as(template, states)

    # -- running --------------------------------------------------------------------------------
    def _dropout_masks(self, x, training):
        """Keras's variational dropout of a built-in cell: (input masks, recurrent masks), each
        None or a list of (batch, features) / (batch, units) masks of 0 and 1/(1 - rate), drawn
        once per call from the cell's seed and used at every step. As in Keras, LSTM and GRU
        draw one per gate when recurrent_dropout is on (its implementation 1)."""
        return self.cell.sequence_masks(x, self._is_training(training))

    def call(self, inputs, initial_state=None, mask=None, training=None):
        if isinstance(mask, (list, tuple)):  # one mask per input: the sequence's decides
            mask = mask[0] if mask else None
        x = check_recurrent_input(self, inputs)
        mask = check_mask(self, mask, x)
        states = self._initial_states(initial_state, x)
        if self._describes_calls:
            input_masks, recurrent_masks = self._dropout_masks(x, training)
            call = self._describe(x, states, mask, input_masks, recurrent_masks)
            backend = backends.select(call, backends.requested(self))
            output, states = backends.run(backend, call)
            states = list(states)
        else:
            output, states = self._run_cell(x, states, mask, training)
            backend = "reference"
        self.last_backend = backend
        if self.stateful:  # carried to the next call, cut from this call's graph (truncated BPTT)
            with torch.no_grad():
                for kept, new in zip(tree.flatten(self.states), tree.flatten(states)):
                    kept.copy_(new.detach())
        if self.return_state:
            return [output, *states]
        return output

    def _run_cell(self, x, states, mask, training):
        reset_dropout_masks(self.cell)  # none kept from calls of the cell outside this layer
        try:
            return run_cell(self.cell, x, states, training=self._is_training(training),
                            mask=mask, go_backwards=self.go_backwards,
                            return_sequences=self.return_sequences,
                            zero_output_for_mask=self.zero_output_for_mask)
        finally:
            reset_dropout_masks(self.cell)

    def _describe(self, x, states, mask, input_masks, recurrent_masks) -> backends.RecurrentCall:
        """This call of a built-in cell, once, as every backend sees it."""
        cell = self.cell
        input_bias, recurrent_bias = cell._biases()
        return backends.RecurrentCall(
            layer=self.name, spec=cell.spec, activation=cell.activation,
            recurrent_activation=cell.recurrent_activation, x=x, states=tuple(states),
            kernel=cell.kernel, recurrent_kernel=cell.recurrent_kernel, input_bias=input_bias,
            recurrent_bias=recurrent_bias, mask=mask,
            input_masks=None if input_masks is None else tuple(input_masks),
            recurrent_masks=None if recurrent_masks is None else tuple(recurrent_masks),
            go_backwards=self.go_backwards, return_sequences=self.return_sequences,
            return_state=self.return_state, zero_output_for_mask=self.zero_output_for_mask,
            state_probe=self.state_probe, options=cell._options(), memo={})

    # -- shapes and masks -------------------------------------------------------------------------
    def _state_shapes(self, batch) -> list:
        """Keras's shapes of the returned states, from state_size: (batch, size) for an int,
        a list of them for a list (a stack of cells: [(batch, 3), [(batch, 2), (batch, 2)]])."""
        return [(batch, s) if isinstance(s, int) else [(batch, d) for d in s]
                for s in self.state_size]

    def compute_output_shape(self, input_shape):
        """(batch, time, output size) or (batch, output size); with return_state the list
        [output shape, *state shapes] as Keras gives it (symbolic outputs take this structure;
        an eager call returns a stacked cell's single state as the list its cell gives)."""
        batch, time = input_shape[0], input_shape[1]
        size = cell_output_size(self.cell)
        out = (batch, time, size) if self.return_sequences else (batch, size)
        if self.return_state:
            return [out, *self._state_shapes(batch)]
        return out

    def _keras_mask_ops(self, inputs, masks):
        return masks if self.return_sequences else None  # the states never have one

    def compute_mask(self, inputs, mask=None):
        """The output's mask: the input's with return_sequences, else None; with return_state
        one entry per returned tensor (None for every state), as Keras."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            count = sum(1 if isinstance(s, int) else len(s) for s in self.state_size)
            return [output_mask] + [None] * count
        return output_mask

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from . import serialize
        if not callable(getattr(self.cell, "get_config", None)):
            raise TypeError(f"{self.name}: the cell {type(self.cell).__name__} has no "
                            "get_config(), so the layer's config cannot hold it; give the "
                            "cell a get_config().")
        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                "cell": serialize(self.cell), "backend": self.backend}

    @classmethod
    def from_config(cls, config):
        from . import deserialize
        config = dict(config)
        return cls(deserialize(config.pop("cell")), **config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, cell={type(self.cell).__name__}"
