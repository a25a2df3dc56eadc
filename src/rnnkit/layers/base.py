"""The Layer base: a torch.nn.Module with Keras's naming, building, weights and config."""

from __future__ import annotations

import inspect

import numpy as np
import torch

from .. import initializers, regularizers
from ..utils import tree
from ..utils.naming import free_name, snake_case, unique_name
from . import symbolic


def _shape(input_shape) -> tuple:
    return tuple(None if d is None else int(d) for d in input_shape)


def _shape_structure(shape):
    """A shape as a tuple, or a list of shapes (a layer of several inputs) as a list."""
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_shape(s) for s in shape]
    return _shape(shape)


def _device_of(inputs):
    for leaf in tree.flatten(inputs):
        if isinstance(leaf, torch.Tensor):
            return leaf.device
    return None


def _attach_mask(outputs, mask) -> None:
    """Keras keeps a layer's output mask on the output tensor, for the next layer's call."""
    if mask is None:
        return
    if isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] + [None] * (len(outputs) - 1)
        for o, m in zip(outputs, masks):
            _attach_mask(o, m)
    elif isinstance(outputs, torch.Tensor):
        outputs._keras_mask = mask


def _input_mask(inputs):
    """The masks Keras keeps on the input tensors (`_keras_mask`), shaped as the input; None
    where none has one."""
    if torch.compiler.is_compiling():
        return None
    masks = [getattr(t, "_keras_mask", None) for t in tree.flatten(inputs)]
    if all(m is None for m in masks):
        return None
    return masks[0] if not tree.is_nested(inputs) else tree.pack_as(inputs, masks)


def dtype_name(dtype, where: str) -> str:
    """"float32" from "float32" or torch.float32; None gives torch's default float dtype."""
    if dtype is None:
        dtype = torch.get_default_dtype()
    name = str(dtype).removeprefix("torch.")
    if not isinstance(getattr(torch, name, None), torch.dtype):
        raise ValueError(f"{where}: expected dtype as a name like 'float32' or a torch.dtype, got "
                         f"{dtype!r}.")
    return name


class Layer(torch.nn.Module):
    """Base of every rnnkit layer.

    Weights are torch Parameters created by `build(input_shape)`, lazily on the first call or at
    once when `input_shape` (without the batch axis) or `batch_input_shape` is given. Like Keras,
    a layer called directly runs in inference mode; `fit` switches to training mode.

    Masks (Keras's): a layer whose `call` takes `mask=` receives the mask of its input, a
    (batch, time) boolean tensor, True where a step is real; `compute_mask` gives the mask of its
    output — the input's mask when `supports_masking`, else none.
    """

    supports_masking = False
    _takes_mask = False
    _takes_training = False
    _masked_arguments: tuple = ()  # call's arguments x that have an x_mask argument
    # What Keras 3's own `call` takes of masks (layers.mask_ops): "mask", "arguments" (an
    # <argument>_mask per tensor argument) or nothing
    _keras_mask_argument: str | None = None
    _keeps_shape = False  # True: the output has the input's shape (Dropout, Activation, ...)

    def __init__(self, *, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, input_dim=None, batch_size=None, activity_regularizer=None,
                 **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}.")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.activity_regularizer = regularizers.get(activity_regularizer, where=self.name)
        self._activity_losses: list[torch.Tensor] = []
        self.built = False
        self._trainable = bool(trainable)
        self.dtype_name = dtype_name(dtype, self.name)
        self._device: torch.device | None = None  # where build puts weights; None: not chosen yet
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if input_shape is not None and batch_input_shape is None:
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self._batch_input_shape = None if batch_input_shape is None else _shape(batch_input_shape)
        self._weight_names: list[str] = []
        self.train(False)

    # -- building -------------------------------------------------------------------------------
    def _build_now_if_shape_known(self):
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def build(self, input_shape) -> None:
        self.built = True

    def build_on(self, input_shape, device=None) -> None:
        """Lazy build: weights go to `device` (the first input's), unless .to() chose one.
        As in Keras, the layer counts as built once its `build` returns."""
        if self._device is None and device is not None:
            self._device = torch.device(device)
        self.build(input_shape)
        self.built = True
        self._build_shape = input_shape  # what summary() shows for a layer called on data

    def _apply(self, fn, *args, **kwargs):
        """.to() / .double() / .cuda() also apply to weights not built yet: a probe tensor
        shows which dtype and device `fn` asks for, and build uses them."""
        result = super()._apply(fn, *args, **kwargs)
        device = self._device or torch.get_default_device()
        probe = torch.empty(0, dtype=getattr(torch, self.dtype_name), device=device)
        moved = fn(probe)
        if moved.dtype != probe.dtype and moved.is_floating_point():
            self.dtype_name = dtype_name(moved.dtype, self.name)
        if moved.device != probe.device:
            self._device = moved.device
        return result

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   autocast=True, regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None) -> torch.nn.Parameter:
        """A weight, as Keras 3's `add_weight`: `initializer` by name, instance or callable
        (default glorot_uniform for floats, zeros otherwise), `regularizer` (its penalty joins
        `losses`) and `constraint` (rnnkit's optimizers project the weight with it after each
        update) kept as attributes of the torch Parameter; `trainable=False` keeps it out of
        training. Unnamed weights are "variable", "variable_1", ... (torch attribute names)."""
        dtype = getattr(torch, dtype_name(dtype or self.dtype_name, self.name))
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating_point else "zeros"
        init = initializers.get(initializer, where=self.name)
        name = free_name(name or "variable", set(self._weight_names) | set(dir(self)))
        device = self._device or torch.get_default_device()
        shape = () if shape is None else tuple(int(d) for d in shape)
        value = torch.as_tensor(init(shape, dtype=dtype), dtype=dtype).to(device)
        param = torch.nn.Parameter(value, requires_grad=self._trainable and bool(trainable))
        param.regularizer, param.constraint = regularizer, constraint
        param.keras_trainable = bool(trainable)
        self.register_parameter(name, param)
        self._weight_names.append(name)
        return param


    def compute_output_shape(self, input_shape):
        """The output shape for inputs of `input_shape` (None where any size goes). Layers
        that do not say run `call` on zeros to find it, as Keras traces `call`."""
        if self._keeps_shape:
            return _shape(input_shape)
        dtype, shapes = self._output_dtype(), _shape_structure(input_shape)
        spec = ([symbolic.KerasTensor(s, dtype) for s in shapes] if isinstance(shapes, list)
                else symbolic.KerasTensor(shapes, dtype))
        return symbolic.shapes_of(symbolic.output_spec(self, (spec,), {}))

    def _has_output_shape_rule(self) -> bool:
        return self._keeps_shape or type(self).compute_output_shape is not Layer.compute_output_shape

    def _output_dtype(self) -> str:
        return self.dtype_name

    def forward(self, *args, **kwargs):
        if symbolic.is_symbolic(args, kwargs):
            return symbolic.call(self, args, kwargs)
        inputs = symbolic.first_argument(args, kwargs)
        if not self.built:
            self.build_on(symbolic.shapes_of(inputs), _device_of(inputs))
        kwargs = self._call_arguments(inputs, kwargs,
                                      symbolic.tensor_argument_count(args, kwargs))
        kwargs.update(self.argument_masks(args, kwargs,
                                          lambda t: getattr(t, "_keras_mask", None)))
        outputs = self.call(*args, **kwargs)
        if self.activity_regularizer is not None:
            flat = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
            self._activity_losses = [self._activity_penalty(o) for o in flat
                                     if isinstance(o, torch.Tensor)]
        if not torch.compiler.is_compiling():  # (Keras: the mask given, else the input's)
            previous = kwargs.get("mask")
            _attach_mask(outputs, self.compute_mask(
                inputs, _input_mask(inputs) if previous is None else previous))
        return outputs

    def _call_arguments(self, inputs, kwargs, tensor_arguments=1) -> dict:
        """The keyword arguments `call` takes: `training` and `mask` only where its signature
        has them, as Keras passes them; a mask not given is the one Keras keeps on the input
        tensor (`_keras_mask`, set by the layer that made it), filled in as Keras 3 does only
        for a call of one tensor argument (not for `lstm(x, initial_state=[h, c])`); an explicit
        mask=None stays."""
        if not self._takes_training:
            kwargs.pop("training", None)
        if not self._takes_mask:
            kwargs.pop("mask", None)
        elif ("mask" not in kwargs and tensor_arguments == 1
              and not torch.compiler.is_compiling()):
            mask = _input_mask(inputs)
            if mask is not None:
                kwargs["mask"] = mask
        return kwargs

    def argument_masks(self, args, kwargs, mask_of) -> dict:
        """Keras's masks of a call with several tensor arguments: `<argument>_mask` =
        mask_of(argument) for each tensor argument whose `<argument>_mask` `call` takes and was
        not given (or given as None), where mask_of finds one."""
        if not self._masked_arguments or torch.compiler.is_compiling():
            return {}
        try:
            bound = inspect.signature(self.call).bind_partial(*args, **kwargs).arguments
        except TypeError:
            return {}  # the call itself says what is wrong
        tensors = {k: v for k, v in bound.items()
                   if isinstance(v, (torch.Tensor, symbolic.KerasTensor))}
        if len(tensors) < 2:
            return {}
        found = {f"{k}_mask": mask_of(tensors[k]) for k in self._masked_arguments
                 if k in tensors and bound.get(f"{k}_mask") is None}
        return {k: m for k, m in found.items() if m is not None}

    def _activity_penalty(self, output):
        """Keras: the penalty of an output divided by its batch size (0 for an empty batch)."""
        penalty = self.activity_regularizer(output)
        if output.ndim == 0:
            return penalty
        return penalty / output.shape[0] if output.shape[0] else penalty * 0

    @property
    def losses(self) -> list[torch.Tensor]:
        """The activity penalties of the last call, then the current weight penalties, as
        Keras's `layer.losses`."""
        return [*self._activity_losses, *self._weight_penalties()]

    def _weight_penalties(self) -> list[torch.Tensor]:
        """The penalties of this layer's own trainable weights, then its sublayers'."""
        own = [p for p in (getattr(self, n) for n in self._weight_names) if p.requires_grad]
        return [*(p.regularizer(p) for p in own if getattr(p, "regularizer", None) is not None),
                *(loss for sub in self._sublayers() for loss in sub._weight_penalties())]

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's output, given its input and the input's mask."""
        return mask if self.supports_masking else None

    def _keras_mask_ops(self, inputs, masks):
        """Where Keras's graph computes this layer's output mask (layers.mask_ops): given the
        first argument's symbolic tensors and the ops of their masks, the op of each output's
        mask; by default the input's own mask passed on, or none."""
        return masks if self.supports_masking else None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        params = inspect.signature(cls.call).parameters
        extra = any(p.kind is p.VAR_KEYWORD for p in params.values())
        cls._takes_mask = "mask" in params or extra
        cls._takes_training = "training" in params or extra
        # Keras: a call of several tensor arguments gets each one's mask as `<argument>_mask`
        cls._masked_arguments = tuple(p for p in params if f"{p}_mask" in params)

    def call_masked(self, inputs, mask=None, training=None):
        """(output, output mask): the call Sequential makes, passing the mask to layers that
        take one, as Keras does."""
        kwargs = {"training": training}
        if self._takes_mask:
            kwargs["mask"] = mask
        return self(inputs, **kwargs), self.compute_mask(inputs, mask)

    @property
    def input(self):
        """The symbolic input of this layer's first call on symbolic tensors (Keras)."""
        node = self._first_node("input")
        return node.args[0] if node.args else next(iter(node.kwargs.values()))

    @property
    def output(self):
        """The symbolic output(s) of this layer's first call on symbolic tensors (Keras)."""
        return self._first_node("output").output_structure

    def _first_node(self, what):
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise AttributeError(f"{self.name}: the layer has not been called on a symbolic "
                                 f"tensor, so it has no {what}.")
        return nodes[0]

    def _is_training(self, training) -> bool:
        return self.training if training is None else bool(training)

    def _seed_generator(self, seed) -> None:
        """Keras's `seed=` of a layer that draws random numbers: its own generator, so that its
        draws repeat from the same seed whatever else uses torch's global one."""
        self.seed = seed
        self._generator = None if seed is None else torch.Generator().manual_seed(int(seed))

    def _uniform(self, shape, like: torch.Tensor) -> torch.Tensor:
        """U[0, 1) numbers of `shape`, on like's device, from the layer's generator if seeded
        (in eager mode: torch.compile cannot trace a generator, so compiled code draws from
        torch's global one, as torch.nn.Dropout does)."""
        if getattr(self, "_generator", None) is None or torch.compiler.is_compiling():
            return torch.rand(shape, device=like.device)
        return torch.rand(shape, generator=self._generator).to(like.device)

    # -- weights --------------------------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freezes (or unfreezes) this layer's own weights and those of its sublayers."""
        self._trainable = bool(value)
        for name in self._weight_names:
            p = getattr(self, name)
            p.requires_grad_(self._trainable and getattr(p, "keras_trainable", True))
        for sub in self._sublayers():
            sub.trainable = value

    def _sublayers(self) -> list["Layer"]:
        """The layers a wrapper holds (their weights are its weights)."""
        return []

    @property
    def weights(self) -> list[torch.nn.Parameter]:
        """This layer's weights (sub-layers included), in Keras order."""
        return [getattr(self, n) for n in self._weight_names]

    @property
    def weight_names(self) -> list[str]:
        """The names of `weights`, in the same order ("kernel", "recurrent_kernel", "bias")."""
        return list(self._weight_names)

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.requires_grad]

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.requires_grad]

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"{self.name}: the layer is not built yet, so it has no weights to count; "
                             "pass input_shape= or call it on data first.")
        return int(sum(p.numel() for p in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy().copy() for p in self.weights]

    def set_weights(self, weights) -> None:
        """Load values in Keras's shapes and order; nothing changes unless all of them fit."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"{self.name}: set_weights expected {len(own)} arrays "
                f"({', '.join(f'{n} {tuple(p.shape)}' for n, p in zip(self.weight_names, own))}), "
                f"got {len(weights)}.")
        values = []
        for name, p, w in zip(self.weight_names, own, weights):
            w = torch.as_tensor(np.asarray(w) if not torch.is_tensor(w) else w)
            if tuple(w.shape) != tuple(p.shape):
                raise ValueError(f"{self.name}: set_weights expected {name} of shape "
                                 f"{tuple(p.shape)}, got {tuple(w.shape)}.")
            values.append(w)
        with torch.no_grad():
            for p, w in zip(own, values):
                p.copy_(w.to(dtype=p.dtype, device=p.device))

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_name}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
