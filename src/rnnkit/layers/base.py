"""The Layer base: a torch.nn.Module with Keras's naming, building, weights and config."""

from __future__ import annotations

import inspect

import numpy as np
import torch

from .. import initializers, regularizers
from ..utils.naming import snake_case, unique_name


def _shape(input_shape) -> tuple:
    return tuple(None if d is None else int(d) for d in input_shape)


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
        """Lazy build: weights go to `device` (the first input's), unless .to() chose one."""
        if self._device is None and device is not None:
            self._device = torch.device(device)
        self.build(input_shape)

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

    def add_weight(self, name: str, shape, initializer, *, regularizer=None, constraint=None,
                   where=None) -> torch.nn.Parameter:
        """A weight, with Keras's `regularizer` (its penalty joins `losses`) and `constraint`
        (rnnkit's optimizers project the weight with it after each update) as attributes."""
        init = initializers.get(initializer, where=where or self.name)
        dtype = getattr(torch, self.dtype_name)
        device = self._device or torch.get_default_device()
        value = torch.as_tensor(init(tuple(shape), dtype=dtype), dtype=dtype).to(device)
        param = torch.nn.Parameter(value, requires_grad=self._trainable)
        param.regularizer, param.constraint = regularizer, constraint
        self.register_parameter(name, param)
        self._weight_names.append(name)
        return param

    def compute_output_shape(self, input_shape):
        return _shape(input_shape)

    def forward(self, inputs, *args, **kwargs):
        if not self.built:
            self.build_on(tuple(inputs.shape), getattr(inputs, "device", None))
        outputs = self.call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None:
            flat = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
            self._activity_losses = [self._activity_penalty(o) for o in flat
                                     if isinstance(o, torch.Tensor)]
        return outputs

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
        own = [getattr(self, n) for n in self._weight_names] if self.trainable else []
        return [*(p.regularizer(p) for p in own if getattr(p, "regularizer", None) is not None),
                *(loss for sub in self._sublayers() for loss in sub._weight_penalties())]

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's output, given its input and the input's mask."""
        return mask if self.supports_masking else None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._takes_mask = "mask" in inspect.signature(cls.call).parameters

    def call_masked(self, inputs, mask=None, training=None):
        """(output, output mask): the call Sequential makes, passing the mask to layers that
        take one, as Keras does."""
        kwargs = {"training": training}
        if mask is not None and self._takes_mask:
            kwargs["mask"] = mask
        return self(inputs, **kwargs), self.compute_mask(inputs, mask)

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
            getattr(self, name).requires_grad_(self._trainable)
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
        return self.weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [] if self.trainable else self.weights

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
