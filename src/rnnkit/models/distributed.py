"""Data-parallel fit / evaluate / predict when the program runs under torchrun.

Every process runs the same program on the same arrays; `batch_size` is the global batch, as
with Keras under tf.distribute, so N steps on W processes are N steps of one process on the same
batches, up to float32 rounding. The scheme:

- **Order.** Each epoch, rank 0 draws the sample order as one process would
  (`torch.randperm(n)` from torch's global generator, so `torch.manual_seed` or
  `rnnkit.utils.set_random_seed` before `fit` gives the same batches with or without torchrun)
  and broadcasts it; every rank cuts the same global batches from it.
- **Shares.** Rank r takes the r-th of W contiguous, near-equal parts of each global batch
  (`torch.tensor_split`): the first `B mod W` ranks get one sample more. A rank whose part is
  empty (a last batch smaller than W) runs the batch's first sample with weight 0, so that it
  still joins every collective.
- **Weights.** A rank's loss is the mean over its n_r of the B samples. It contributes
  `part_r = a_r · loss_r + (n_r / B) · penalties_r` to the global batch's loss, where
  a_r = n_r / B, or, when the model's output carries a mask that the loss applies (a mask of
  the output's leading axes), a_r = m_r / M, the rank's share of the kept time steps (M is
  summed across ranks each step, as the loss divides by it). Samples' weights (and class
  weights, which become them) change none of this: Keras's weighted loss still divides by the
  number of samples (or kept steps), not by the weights' sum. Penalties are per-sample means
  (activity) or the same on every rank (weights), so n_r / B weighs both right. Backward runs on
  `W · part_r` and DistributedDataParallel averages gradients over W: the sum of the parts'
  gradients, which is the gradient of the single-process loss.
- **Logs.** The loss tracker adds `part_r · B` over n_r samples; metrics add their own sums and
  counts; `logs` sums (total, count) of each across ranks, so every rank logs the
  single-process values, and callbacks (EarlyStopping) decide alike. `stop_training` is also
  agreed after every batch and epoch: any rank stopping stops all.
- **Predict** runs each rank's share and gathers the parts in rank order: every rank returns the
  full array, in the input's order (predict's batch callbacks see the rank's own part).
- **Files and output.** Only rank 0 draws the progress bar, prints from callbacks and writes
  files: `ModelCheckpoint` and `model.save`/`save_weights` called during fit/evaluate/predict
  do nothing on other ranks.

The process group is the user's, or one this module starts from torchrun's environment: gloo
for a model on the CPU, nccl on CUDA, where LOCAL_RANK picks the process's device. The model
itself is never replaced: training steps call it through a DistributedDataParallel made for one
fit (built weights first, then wrapped; DDP's construction broadcasts rank 0's weights), and
evaluate/predict broadcast rank 0's weights before their first batch. Dropout draws its masks
per rank, so a model with dropout trains like, not exactly as, one process.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import os

import numpy as np
import torch
import torch.distributed as dist

from . import data

# Arguments that may differ between ranks: they start no collective (a script often passes
# verbose=0 and no callbacks to ranks other than 0).
_MAY_DIFFER = ("verbose", "callbacks", "return_dict")


def requested() -> bool:
    """Whether fit/evaluate/predict run data-parallel: a process group of several processes
    exists, or torchrun's WORLD_SIZE says there will be one."""
    if not dist.is_available():
        return False
    if dist.is_initialized():
        return dist.get_world_size() > 1
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_chief() -> bool:
    """Rank 0, or a single process: the one that prints and writes files."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def data_parallel(method):
    """Runs a Trainer method in a data-parallel session when `requested()`; otherwise (and for
    calls nested in a session, such as evaluate inside a callback) it runs unchanged."""

    @functools.wraps(method)
    def wrapper(model, *args, **kwargs):
        if model._dist is not None or not requested():
            return method(model, *args, **kwargs)
        session = Session(model, f"{model.name}.{method.__name__}")
        bound = inspect.signature(method).bind(model, *args, **kwargs)
        bound.apply_defaults()
        session.agree_on_arguments(bound.arguments)
        model._dist = session
        try:
            return method(model, *args, **kwargs)
        finally:
            model._dist = None
            session.close()

    return wrapper


class Session:
    """One data-parallel fit/evaluate/predict call of `model` (see the module's docstring)."""

    def __init__(self, model, where: str):
        self.model, self.where = model, where
        _refuse_stateful(model, where)
        self.device = _join_group(model)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.ddp = None
        self.synced = False

    def close(self) -> None:
        if self.ddp is not None and hasattr(self.ddp, "_remove_autograd_hooks"):
            # A later fit wraps the model again: this wrapper's gradient hooks must not fire then.
            self.ddp._remove_autograd_hooks()
        self.ddp = None

    # -- collectives ----------------------------------------------------------------------------
    def all_sum(self, values: list[float]) -> list[float]:
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def any(self, flag: bool) -> bool:
        return self.all_sum([1.0 if flag else 0.0])[0] > 0

    def agree_on_arguments(self, arguments: dict) -> None:
        """Raise on every rank, instead of hanging in a collective later, when the processes
        called with different array shapes or settings."""
        described = {k: d for k, v in arguments.items()
                     if k not in _MAY_DIFFER and (d := _describe(v)) is not None}
        everyone = [None] * self.world
        dist.all_gather_object(everyone, described)
        for rank, theirs in enumerate(everyone):
            for name in everyone[0]:
                if theirs.get(name) != everyone[0][name]:
                    raise ValueError(
                        f"{self.where}: every process must pass the same arguments; {name} is "
                        f"{everyone[0][name]} on rank 0 but {theirs.get(name)} on rank {rank}.")

    # -- batches --------------------------------------------------------------------------------
    def batch_indices(self, n: int, batch_size: int, shuffle: bool) -> list[torch.Tensor]:
        """The global batches of an epoch, in the order rank 0 drew."""
        order = data.sample_order(n, shuffle and self.rank == 0)
        if shuffle:
            order = order.to(self.device)
            dist.broadcast(order, src=0)
            order = order.cpu()
        return list(order.split(batch_size))

    def share(self, idx: torch.Tensor) -> tuple[torch.Tensor, int]:
        """This rank's part of a global batch and how many of its samples count (0: the
        batch's first sample stands in, so that the rank joins the step's collectives)."""
        part = torch.tensor_split(idx, self.world)[self.rank]
        return (part, len(part)) if len(part) else (idx[:1], 0)

    # -- one global batch -----------------------------------------------------------------------
    def step(self, x, y, train: bool, sample_weight=None) -> dict[str, float]:
        """Trainer._step for a global batch (x, y) and its samples' weights (class weights
        already turned into them): this rank's share, reduced logs."""
        if not (torch.is_tensor(x) and torch.is_tensor(y)) or isinstance(sample_weight, list):
            raise NotImplementedError(f"{self.model.name}: data-parallel training of a model with "
                                      "several inputs or outputs is not supported yet.")
        model, global_n = self.model, x.shape[0]
        local, n = self.share(torch.arange(global_n))
        x, y = x[local], y[local]
        model._ensure_built(x)
        device = model._weights_device()
        x, y = x.to(device), y.to(device)
        w = None if sample_weight is None else sample_weight[local].to(device)
        if train:
            y_pred, part = self._train_step(x, y, w, n, global_n)
        else:
            self._sync_weights()
            model.train(False)
            with torch.no_grad():
                y_pred = model(x, training=False)
                part = self._part_of_loss(y, y_pred, w, n, global_n)
        metrics = model._metric_objects(y, y_pred)  # built on every rank, updated where n > 0
        if n:
            model._loss_tracker.total += part.item() * global_n
            model._loss_tracker.count += n
            model._update_metrics(metrics, y, y_pred, w)
        return model._logs()

    def _train_step(self, x, y, w, n: int, global_n: int):
        model = self.model
        model._build_optimizer()
        net = self._wrapped()
        model.train(True)
        model.optimizer.zero_grad(set_to_none=True)
        y_pred = net(x, training=True)
        part = self._part_of_loss(y, y_pred, w, n, global_n)
        # DistributedDataParallel averages gradients over the W ranks: W · part_r makes the
        # average the sum of the parts, the single-process gradient.
        (part * self.world).backward()
        model.optimizer.step()
        return y_pred, part

    def _part_of_loss(self, y, y_pred, w, n: int, global_n: int):
        """This rank's part of the global batch's loss (see the module's docstring)."""
        model = self.model
        loss, penalty = model._loss_parts(y, y_pred, w)
        sample_share = n / global_n
        mask = model._output_mask
        if mask is None or tuple(mask.shape) != tuple(y_pred.shape[:-1]):
            part = loss * sample_share
        else:  # the loss is a mean over the kept steps of the whole batch: sum(l · m) / sum(m)
            kept = float(mask.sum()) if n else 0.0
            part = loss * (kept / max(self.all_sum([kept])[0], 1.0))
        return part if penalty is None else part + penalty * sample_share

    def _wrapped(self):
        if self.ddp is None:
            device = self.model._weights_device()
            ids = [device] if device.type == "cuda" else None
            self.ddp = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
            _changed(self.model.parameters())
            self.synced = True  # DDP's construction broadcast rank 0's weights
        return self.ddp

    def _sync_weights(self) -> None:
        """Rank 0's weights on every rank before evaluating: a model built lazily inside
        evaluate or predict drew its initial weights on each rank."""
        if not self.synced:
            with torch.no_grad():
                for p in self.model.parameters():
                    dist.broadcast(p.data, src=0)
            _changed(self.model.parameters())
            self.synced = True

    def logs(self) -> dict[str, float]:
        """The loss and metrics over every rank's samples: Trainer._logs of one process. Every
        metric's state is a sum (means: total and count; the others: counts and confusion
        matrices in `_states`), so the sums over ranks give one process's result."""
        logged = [("loss", self.model._loss_tracker)] + self.model._objectives.logged()
        flat = [_state_values(m) for _, m in logged]
        sums = iter(self.all_sum([v for values in flat for v in values]))
        logs = {key: _result_from(m, [next(sums) for _ in values])
                for (key, m), values in zip(logged, flat)}
        return dict(sorted(logs.items()))

    # -- predict --------------------------------------------------------------------------------
    def predict_batch(self, x) -> np.ndarray:
        """This rank's outputs for its share of the global batch x (none for an empty share)."""
        self._sync_weights()
        local, n = self.share(torch.arange(x.shape[0]))
        return self.model(x[local].to(self.model._weights_device()), training=False).cpu().numpy()[:n]

    def gather_outputs(self, outputs: list[np.ndarray]) -> list[np.ndarray]:
        """Every batch's outputs from all ranks, in the input's order, on every rank."""
        everyone = [None] * self.world
        dist.all_gather_object(everyone, outputs)
        return [np.concatenate([parts[k] for parts in everyone]) for k in range(len(outputs))]


def _state_values(metric) -> list[float]:
    """A metric's state as a flat list of numbers (float states, or its state tensors)."""
    states = getattr(metric, "_states", None)
    if states:
        return [v for t in states.values() for v in t.double().flatten().tolist()]
    return [metric.total] + ([metric.count] if hasattr(metric, "count") else [])


def _result_from(metric, values: list[float]):
    """The metric's result for the state `values` (summed over ranks); its own state is kept."""
    states = getattr(metric, "_states", None)
    if not states:
        total, count = values[0], (values[1] if len(values) > 1 else None)
        if count is None:
            return total
        return total / count if count else 0.0
    kept, it = dict(states), iter(values)
    try:
        for name, t in kept.items():
            states[name] = torch.tensor([next(it) for _ in range(t.numel())],
                                        dtype=torch.float64).reshape(t.shape).to(t.dtype)
        return metric.result()
    finally:
        states.update(kept)


def _describe(value):
    """What must agree across ranks: array shapes and plain settings."""
    if torch.is_tensor(value) or isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)}"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, tuple):
        return tuple(_describe(v) for v in value)
    return None


def _refuse_stateful(model, where: str) -> None:
    for layer in model.modules():
        if getattr(layer, "stateful", False):
            raise NotImplementedError(
                f"{where}: layer {layer.name} is stateful (stateful=True); its states follow one "
                "process's consecutive batches, which data-parallel training splits across "
                "processes. Train it in one process, or with stateful=False.")


def _intended_device(model) -> torch.device:
    """Where the model's weights are, or where building will put them."""
    for p in model.parameters():
        return p.device
    for layer in getattr(model, "layers", []):
        if layer._device is not None:
            return layer._device
    return torch.get_default_device()


def _join_group(model) -> torch.device:
    """Start the process group from torchrun's environment unless the user did; returns the
    device collectives of plain values use (the CPU, or the current GPU for nccl alone)."""
    if not dist.is_initialized():
        device = _intended_device(model)
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
            model.to(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        atexit.register(_leave_group)
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _leave_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _changed(parameters) -> None:
    """Tell autograd, and so every cache keyed on a tensor's version (the native backend's packed
    weights), that these parameters were overwritten: a collective writes through .data, whose
    version counter is not theirs."""
    for p in parameters:
        torch.autograd.graph.increment_version(p)
