"""torch.nn.RNN / LSTM / GRU ↔ rnnkit models computing the same function.

    torch.nn                                 rnnkit (one recurrent layer per torch layer)
    RNN(nonlinearity="tanh" | "relu")        SimpleRNN(activation="tanh" | "relu")
    LSTM                                     LSTM (Keras i, f, c, o = torch i, f, g, o)
    GRU                                      GRU(reset_after=True) (Keras z, r, h ↔ torch r, z, n)
    bidirectional=True                       Bidirectional(layer, merge_mode="concat")
    dropout=p (on every layer's output       Dropout(p) between the recurrent layers
      but the last, in training only)
    bias=False                               use_bias=False

Weights pass through `interop._gates` only: kernel = weight_ihᵀ and recurrent_kernel = weight_hhᵀ
with the gate blocks reordered; SimpleRNN and LSTM have one Keras bias b = bias_ih + bias_hh
(exported as bias_ih = b, bias_hh = 0), GRU keeps both as its bias rows (input, recurrent).
"""

from __future__ import annotations

import torch

from ..activations import relu, serialize, sigmoid, tanh
from ..layers import GRU, LSTM, Bidirectional, Dropout, InputLayer, RNNLayer, SimpleRNN
from ..models import Sequential
from ._gates import keras_to_torch, torch_to_keras

# torch.nn's `mode` → (rnnkit cell, activation)
_MODES = {"RNN_TANH": ("simple_rnn", "tanh"), "RNN_RELU": ("simple_rnn", "relu"),
          "LSTM": ("lstm", "tanh"), "GRU": ("gru", "tanh")}
_LAYERS = {"simple_rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
_MODULES = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
_PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_SUFFIXES = ("", "_reverse")  # torch's forward, backward direction


# -- torch.nn → rnnkit ----------------------------------------------------------------------------
def from_torch(module, backend="auto") -> Sequential:
    """An rnnkit Sequential computing the first output of a torch.nn.RNN, LSTM or GRU.

    Each of the module's `num_layers` layers becomes a SimpleRNN (activation = the module's
    nonlinearity), LSTM or GRU(reset_after=True) with return_sequences=True, wrapped in
    Bidirectional(merge_mode="concat") when the module is bidirectional (torch concatenates the
    forward then the backward direction, as Keras does); the module's `dropout` becomes Dropout
    layers between them. Weights, dtype and device are the module's.

    The model takes batch-first input (batch, time, features), rnnkit's convention, whatever the
    module's `batch_first`: for a time-major module, `model(x.transpose(0, 1))` equals
    `module(x)[0].transpose(0, 1)`. As every rnnkit model it is returned in inference mode;
    `model.train()` (or `fit`) turns its Dropout layers on, as `module.train()` does torch's.

    Args:
        module: a torch.nn.RNN, torch.nn.LSTM or torch.nn.GRU without projections (proj_size=0).
        backend: the recurrent layers' backend (see rnnkit.backends).

    >>> model = from_torch(torch.nn.LSTM(3, 8, num_layers=2, batch_first=True))
    >>> model(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 8])
    """
    cell, activation = _check_module(module)
    dtype = module.weight_ih_l0.dtype
    model = Sequential()
    for k in range(module.num_layers):
        if k and module.dropout > 0:
            model.add(Dropout(module.dropout, dtype=dtype))
        shape = {"input_shape": (None, module.input_size)} if k == 0 else {}
        layer = _LAYERS[cell](module.hidden_size, activation=activation, use_bias=module.bias,
                              return_sequences=True, backend=backend, dtype=dtype,
                              **({} if module.bidirectional else shape))
        if module.bidirectional:
            layer = Bidirectional(layer, merge_mode="concat", **shape)
        model.add(layer)
        for suffix, direction in zip(_SUFFIXES, _directions(layer)):
            direction.set_weights(_keras_weights(module, cell, k, suffix))
    return model.to(module.weight_ih_l0.device)


def _check_module(module) -> tuple[str, str]:
    """(cell, activation) of a module from_torch can import; TypeError/ValueError otherwise."""
    if not isinstance(module, (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU)):
        raise TypeError(f"from_torch: expected a torch.nn.RNN, torch.nn.LSTM or torch.nn.GRU, got "
                        f"{type(module).__module__}.{type(module).__qualname__}.")
    if getattr(module, "proj_size", 0) > 0:
        raise ValueError(f"from_torch: {type(module).__name__} with proj_size={module.proj_size} "
                         "(a projected LSTM) has no rnnkit equivalent; expected proj_size=0.")
    return _MODES[module.mode]


def _keras_weights(module, cell, k, suffix):
    """[kernel, recurrent_kernel(, bias)] of torch layer k, direction `suffix`."""
    names = _PARAMS if module.bias else _PARAMS[:2]
    with torch.no_grad():
        return torch_to_keras(cell, *(getattr(module, f"{n}_l{k}{suffix}") for n in names))


def _directions(layer) -> tuple:
    """The recurrent layers of one model layer: itself, or a Bidirectional's (forward, backward)."""
    if isinstance(layer, Bidirectional):
        return layer.forward_layer, layer.backward_layer
    return (layer,)


# -- rnnkit → torch.nn ----------------------------------------------------------------------------
def to_torch(model_or_layer) -> torch.nn.Module:
    """A torch.nn.RNN, LSTM or GRU (batch_first=True) computing an rnnkit model's function.

    Accepts one SimpleRNN/LSTM/GRU layer, a Bidirectional(merge_mode="concat") of one, or a
    Sequential of such layers, all of one cell type and one `units`, each but the last with
    return_sequences=True, optionally with Dropout layers of one rate between them (torch's
    `dropout`). Weights, dtype, device, trainable and training mode are carried over.

    torch always returns the whole sequence. When the last layer has return_sequences=True the
    model's output is `module(x)[0]`; when it has return_sequences=False it is the last step,
    `module(x)[0][:, -1]`, for a unidirectional last layer, and the final states of both
    directions, `torch.cat([h_n[-2], h_n[-1]], -1)` (h_n = `module(x)[1]`, for LSTM its first
    element), for a Bidirectional one, whose backward direction ends at the first time step.

    Raises:
        ValueError: naming the layer and the reason where torch.nn has no exact equivalent:
            GRU reset_after=False, an activation other than tanh (SimpleRNN: tanh or relu), a
            recurrent_activation other than sigmoid, go_backwards outside Bidirectional, stateful
            layers, dropout/recurrent_dropout inside a layer, masks (Masking, mask_zero), merge
            modes other than concat, differing units, use_bias or cell types between layers,
            Dropout other than one rate between every pair of layers, and any other layer
            (Dense, ...).
        TypeError: for an object that is no rnnkit layer or Sequential.

    >>> module = to_torch(Sequential([LSTM(8, return_sequences=True, input_shape=(None, 3))]))
    >>> module(torch.zeros(2, 5, 3))[0].shape
    torch.Size([2, 5, 8])
    """
    stages, rate = _stages(model_or_layer)
    first = _directions(stages[0])[0]
    bidirectional = isinstance(stages[0], Bidirectional)
    for position, stage in enumerate(stages):
        _check_stage(stage, stages[0], last=position == len(stages) - 1)
    if not first.built:
        raise ValueError(f"to_torch: layer {first.name!r} is not built, so its input size is "
                         "unknown; give it input_shape=(None, features) or call it once first.")
    cell = first.spec.family
    extra = {"nonlinearity": serialize(first.activation)} if cell == "simple_rnn" else {}
    module = _MODULES[cell](first.input_dim, first.units, num_layers=len(stages),
                            bias=first.use_bias, batch_first=True, dropout=rate,
                            bidirectional=bidirectional, **extra)
    module = module.to(dtype=first.kernel.dtype, device=first.kernel.device)
    for k, stage in enumerate(stages):
        for suffix, layer in zip(_SUFFIXES, _directions(stage)):
            _copy_into(module, cell, k, suffix, layer)
    return module.train(model_or_layer.training)


def _copy_into(module, cell, k, suffix, layer) -> None:
    """Layer k, direction `suffix` of `module` := the rnnkit layer's weights."""
    bias = layer.bias if layer.use_bias else None
    with torch.no_grad():
        values = keras_to_torch(cell, layer.kernel, layer.recurrent_kernel, bias,
                                reset_after=getattr(layer, "reset_after", True))
        for name, value in zip(_PARAMS if layer.use_bias else _PARAMS[:2], values):
            param = getattr(module, f"{name}_l{k}{suffix}")
            param.copy_(value)
            param.requires_grad_(layer.trainable)


def _stages(obj) -> tuple[list, float]:
    """(the recurrent layers or Bidirectionals in order, the dropout rate between them)."""
    if isinstance(obj, (RNNLayer, Bidirectional)):
        return [obj], 0.0
    if not isinstance(obj, Sequential):
        raise TypeError(f"to_torch: expected an rnnkit SimpleRNN, LSTM, GRU, Bidirectional or "
                        f"Sequential, got {type(obj).__module__}.{type(obj).__qualname__}.")
    stages, gaps, pending = [], [], None
    for layer in obj.layers:
        if isinstance(layer, InputLayer):
            continue
        if isinstance(layer, Dropout):
            pending = _dropout_rate(layer, stages, pending)
        elif isinstance(layer, (RNNLayer, Bidirectional)):
            if stages:
                gaps.append(pending or 0.0)
            stages.append(layer)
            pending = None
        else:
            raise _other_layer(layer)
    if not stages:
        raise ValueError(f"to_torch: model {obj.name!r} has no recurrent layer; expected "
                         "SimpleRNN, LSTM or GRU layers (or Bidirectional ones).")
    if pending is not None:
        raise ValueError(f"to_torch: model {obj.name!r} ends with a Dropout after its last "
                         "recurrent layer; torch.nn applies dropout only between layers.")
    if len(set(gaps)) > 1:
        raise ValueError(f"to_torch: model {obj.name!r} has dropout rates {gaps} between its "
                         "recurrent layers; torch.nn has one `dropout` for every gap, expected "
                         "the same rate (or none) between every pair.")
    return stages, (gaps[0] if gaps else 0.0)


def _dropout_rate(layer, stages, pending) -> float:
    """The rate of a Dropout that torch's inter-layer dropout can express."""
    if not stages:
        raise ValueError(f"to_torch: layer {layer.name!r} (Dropout) comes before the first "
                         "recurrent layer; torch.nn applies dropout only between layers.")
    if pending is not None:
        raise ValueError(f"to_torch: layer {layer.name!r} is a second Dropout in a row; torch.nn "
                         "applies one dropout between two layers, expected at most one.")
    if layer.noise_shape is not None:
        raise ValueError(f"to_torch: layer {layer.name!r} (Dropout) has noise_shape="
                         f"{layer.noise_shape}; torch.nn drops elements independently, expected "
                         "noise_shape=None.")
    return layer.rate


def _other_layer(layer) -> ValueError:
    kind = type(layer).__name__
    if kind == "Masking" or getattr(layer, "mask_zero", False):
        return ValueError(f"to_torch: layer {layer.name!r} ({kind}) makes a mask; torch.nn's "
                          "RNN/LSTM/GRU have no masks (they compute every step), expected no "
                          "masking. Pack padded sequences with torch.nn.utils.rnn instead.")
    return ValueError(f"to_torch: layer {layer.name!r} ({kind}) has no place in a torch.nn "
                      "RNN/LSTM/GRU; expected only recurrent layers, Bidirectional ones and "
                      "Dropout between them.")


def _check_stage(stage, first_stage, last) -> None:
    """One model layer (a recurrent layer or a Bidirectional) fits the torch module whose
    first layer is `first_stage`."""
    first, bidirectional = _directions(first_stage)[0], isinstance(first_stage, Bidirectional)
    if isinstance(stage, Bidirectional) != bidirectional:
        is_, first_is = ("is not", "is") if bidirectional else ("is", "is not")
        raise ValueError(f"to_torch: layer {stage.name!r} {is_} Bidirectional but layer "
                         f"{first_stage.name!r} {first_is}; torch.nn's `bidirectional` holds for "
                         "every layer, expected all or none.")
    if bidirectional:
        _check_bidirectional(stage)
    for layer in _directions(stage):
        _check_layer(layer, first, in_bidirectional=bidirectional)
        if not (last or layer.return_sequences):
            raise ValueError(f"to_torch: layer {layer.name!r} has return_sequences=False but "
                             "is followed by another recurrent layer; expected "
                             "return_sequences=True on every layer but the last.")


def _check_bidirectional(stage) -> None:
    if stage.merge_mode != "concat":
        raise ValueError(f"to_torch: layer {stage.name!r} (Bidirectional) has merge_mode="
                         f"{stage.merge_mode!r}; torch.nn concatenates the two directions, "
                         "expected merge_mode='concat'.")
    forward, backward = stage.forward_layer, stage.backward_layer
    if forward.go_backwards or not backward.go_backwards:
        raise ValueError(f"to_torch: layer {stage.name!r} (Bidirectional) has go_backwards="
                         f"{forward.go_backwards} forward and {backward.go_backwards} backward; "
                         "expected False and True, the directions torch.nn runs.")
    if forward.return_sequences != backward.return_sequences:
        raise ValueError(f"to_torch: layer {stage.name!r} (Bidirectional) has return_sequences="
                         f"{forward.return_sequences} forward and {backward.return_sequences} "
                         "backward; expected the same.")


def _refusal(layer, what, expected) -> ValueError:
    return ValueError(f"to_torch: layer {layer.name!r} ({type(layer).__name__}) has {what}; "
                      f"expected {expected}.")


def _check_layer(layer, first, in_bidirectional) -> None:
    """One recurrent layer computes what a torch.nn layer of `first`'s kind computes."""
    if type(layer) is not type(first):
        raise _refusal(layer, f"another cell type than layer {first.name!r} "
                       f"({type(first).__name__})", "one cell type in every layer: torch.nn runs "
                       "one RNN, LSTM or GRU")
    for key, why in (("units", "torch.nn has one hidden_size"),
                     ("use_bias", "torch.nn has one `bias` flag")):
        if getattr(layer, key) != getattr(first, key):
            raise _refusal(layer, f"{key}={getattr(layer, key)}", f"{key}={getattr(first, key)} "
                           f"as layer {first.name!r}: {why}")
    _check_activations(layer, first)
    if layer.cell._options():
        raise _refusal(layer, f"options {sorted(layer.cell._options())}", "none: torch.nn computes "
                       "the plain cell")
    if not getattr(layer, "reset_after", True):
        raise _refusal(layer, "reset_after=False", "reset_after=True, the only GRU form "
                       "torch.nn.GRU computes")
    if layer.go_backwards and not in_bidirectional:
        raise _refusal(layer, "go_backwards=True", "go_backwards=False: torch.nn reverses time "
                       "only in Bidirectional layers (bidirectional=True)")
    for key in ("dropout", "recurrent_dropout"):
        if getattr(layer, key, 0.0) > 0:
            raise _refusal(layer, f"{key}={getattr(layer, key)}", f"{key}=0: torch.nn has no "
                           "per-step (variational) dropout inside a layer; a Dropout layer "
                           "between recurrent layers becomes torch's `dropout`")
    if layer.stateful:
        raise _refusal(layer, "stateful=True", "stateful=False: a torch.nn module keeps no state "
                       "between calls; pass h_0 yourself")


def _check_activations(layer, first) -> None:
    act = layer.activation
    if layer.spec.family == "simple_rnn":
        if act not in (tanh, relu):
            raise _refusal(layer, f"activation={serialize(act)!r}",
                           "'tanh' or 'relu' (torch's nonlinearity)")
        if act is not first.activation:
            raise _refusal(layer, f"activation={serialize(act)!r}",
                           f"{serialize(first.activation)!r} as layer {first.name!r}: "
                           "torch.nn.RNN has one nonlinearity")
        return
    if act is not tanh:
        raise _refusal(layer, f"activation={serialize(act)!r}",
                       "'tanh', the only one torch.nn computes")
    if layer.recurrent_activation is not sigmoid:
        raise _refusal(layer, f"recurrent_activation={serialize(layer.recurrent_activation)!r}",
                       "'sigmoid', the only gate activation torch.nn computes")
