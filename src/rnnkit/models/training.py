"""compile / fit / evaluate / predict and the *_on_batch methods, with Keras's semantics."""

from __future__ import annotations

import numpy as np
import torch

from .. import callbacks as callbacks_module
from .. import losses, optimizers
from .. import metrics as metrics_module
from ..utils import tree
from . import data, data_adapters, distributed
from .objectives import Objectives
from .progress import resolve_verbose


# compile() arguments that only tune Keras's own graph compilation; they change no result here.
_IGNORED = ("jit_compile", "run_eagerly", "steps_per_execution", "auto_scale_loss")
# Keras's other compile() arguments, refused until implemented.
_UNSUPPORTED: tuple = ()


class Trainer:
    """Mixin giving a torch.nn.Module model Keras's training API."""

    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._metric_ids: list = []
        self._weighted_metric_ids: list = []
        self._objectives = Objectives(self.name)
        self._loss_tracker = metrics_module.Mean("loss")
        self._dist: distributed.Session | None = None  # set while fit etc. run data-parallel
        self._initial_epoch, self._initial_step, self._resume_hook = None, 0, None

    # -- compile --------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, **kwargs):
        """Choose the optimizer, loss and metrics by Keras name, class or instance; for a model
        of several outputs, a loss and metrics per output (a list in output order or a dict by
        output name) and `loss_weights` to weigh the losses in the total. `weighted_metrics`
        are also given the samples' weights (plain `metrics` never are, as in Keras)."""
        where = f"{self.name}.compile"
        unknown = sorted(set(kwargs) - set(_IGNORED) - set(_UNSUPPORTED))
        if unknown:
            raise TypeError(f"{where}: unexpected argument(s) {unknown}; expected optimizer, "
                            f"loss, metrics, weighted_metrics or {', '.join(_IGNORED)}.")
        self.optimizer = optimizers.get(optimizer, where=self.name)
        self._objectives = Objectives(self.name, loss, loss_weights, metrics, weighted_metrics)
        self.loss = self._objectives.loss
        self.loss_weights = loss_weights
        self._metric_ids = metrics if isinstance(metrics, dict) else list(metrics or [])
        self._weighted_metric_ids = (weighted_metrics if isinstance(weighted_metrics, dict)
                                     else list(weighted_metrics or []))
        self.compiled = True

    def _require_compiled(self, what: str, need_loss: bool = True) -> None:
        if not self.compiled:
            raise RuntimeError(f"{self.name}: call compile(optimizer, loss) before {what}().")
        if need_loss and self.loss is None:
            raise ValueError(f"{self.name}: {what}() needs a loss; compile(..., loss=...) got None.")

    def _build_optimizer(self) -> None:
        opt = self.optimizer
        if isinstance(opt, optimizers.Optimizer) and not opt.built:
            params = [p for p in self.parameters() if p.requires_grad]
            if not params:
                raise ValueError(f"{self.name}: the model has no trainable weights to optimize.")
            opt.build(params)

    def _output_names(self) -> list[str]:
        return list(getattr(self, "_objective_names", None) or [])

    def _metric_objects(self, y, y_pred) -> list[metrics_module.Metric]:
        """The compiled metrics, built at the first batch (its targets and outputs)."""
        objectives = self._objectives
        if not objectives.built:
            pred = tree.flatten(y_pred)
            objectives.build(self._output_names(), objectives.targets(
                y, self._output_names(), len(pred)), pred)
        return [metric for _, metric, _ in objectives.metrics + objectives.weighted]

    @property
    def metrics(self) -> list[metrics_module.Metric]:
        """The loss tracker, then the compiled metrics once a batch has built them, then the
        per-output losses (Keras)."""
        return ([self._loss_tracker]
                + [m for _, m, _ in self._objectives.metrics + self._objectives.weighted]
                + [t for _, t in self._objectives.trackers])

    @property
    def metrics_names(self) -> list[str]:
        """Keras 3's names: "loss", "compile_metrics" (all compiled metrics, once built), then
        the per-output losses."""
        objectives = self._objectives
        return (["loss"] + (["compile_metrics"] if objectives.metrics else [])
                + [t.name for _, t in objectives.trackers])

    def reset_metrics(self) -> None:
        self._loss_tracker.reset_state()
        self._objectives.reset()

    def _logs(self) -> dict[str, float]:
        """Loss and metrics, keys sorted as Keras sorts its logs."""
        if self._dist is not None:
            return self._dist.logs()
        logs = {"loss": self._loss_tracker.result()}
        logs.update(self._objectives.results())
        return dict(sorted(logs.items()))

    # -- one batch ------------------------------------------------------------------------------
    def _weights_device(self):
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    def _float_dtype(self):
        for p in self.parameters():
            return p.dtype
        return torch.get_default_dtype()

    def _tensors(self, where, x, y=None, need_y=False, allow_empty=False):
        """x and y as tensors, checked up front: the same number of samples (at least one
        unless allow_empty), and y shaped as the compiled loss reads the model's output."""
        if need_y and y is None:
            raise ValueError(f"{where}: expected targets y, got None.")
        dtype = self._float_dtype()
        x = data.to_tensors(x, where, "x", dtype, strings=data.takes_strings(self))
        y = None if y is None else data.to_tensors(y, where, "y", dtype)
        data.check_lengths(where, x, y, allow_empty)
        if (torch.is_tensor(x) and torch.is_tensor(y) and isinstance(self.loss, losses.Loss)
                and self._has_output_shape_rule()):  # a subclassed model's `call` is not run
            output = self.compute_output_shape((None,) + tuple(x.shape[1:]))
            data.check_targets(where, tuple(y.shape), output, self.loss)
        return x, y

    def _ensure_built(self, x) -> None:
        """Build on the first batch's shape; weights go where .to() asked, else the default
        device, and only then is the model's device known."""
        if not self.built:
            one = torch.is_tensor(x) or isinstance(x, np.ndarray)  # an array of strings
            shapes = [(None,) + tuple(t.shape[1:]) for t in ([x] if one else data.leaves(x))]
            self.build(shapes[0] if one else shapes)

    def _total_loss(self, y, y_pred, sample_weight=None):
        """The compiled loss plus every regularization penalty (`model.losses`), which Keras
        also reports as the loss. Masked time steps of the output are left out, as in Keras."""
        loss, penalty = self._loss_parts(y, y_pred, sample_weight)
        return loss if penalty is None else loss + penalty

    def _loss_parts(self, y, y_pred, sample_weight=None):
        """The compiled loss and the sum of the penalties (None without any), apart: a
        data-parallel step weighs them differently (see distributed.py)."""
        pred = tree.flatten(y_pred)
        self._metric_objects(y, y_pred)
        names, objectives = self._output_names(), self._objectives
        loss = objectives.total(objectives.targets(y, names, len(pred)), pred,
                                self._output_masks(len(pred)),
                                self._per_output(sample_weight, len(pred)))
        penalties = self.losses
        return loss, (torch.stack(penalties).sum() if penalties else None)

    def _per_output(self, sample_weight, n: int) -> list | None:
        """The samples' weights of each output: one array weighs every output (Keras)."""
        if sample_weight is None:
            return None
        if isinstance(sample_weight, (list, tuple, dict)):
            return self._objectives.targets(sample_weight, self._output_names(), n)
        return [sample_weight] * n

    def _output_masks(self, n: int) -> list:
        """The mask of each output (Keras weights losses and metrics with it), or None."""
        mask = self._output_mask
        if isinstance(mask, (list, tuple)):
            return list(mask)
        return [mask] + [None] * (n - 1)

    def _update_metrics(self, metrics, y, y_pred, sample_weight=None) -> None:
        pred = tree.flatten(y_pred)
        self._objectives.update(self._objectives.targets(y, self._output_names(), len(pred)),
                                pred, self._output_masks(len(pred)), data.count(y),
                                self._per_output(sample_weight, len(pred)))

    def _step(self, x, y, train: bool, sample_weight=None):
        if self._dist is not None:
            return self._dist.step(x, y, train, sample_weight)
        self._ensure_built(x)
        device = self._weights_device()
        x, y = data.to_device(x, device), data.to_device(y, device)
        if sample_weight is not None:
            sample_weight = data.to_device(sample_weight, device)
        if train:
            self._build_optimizer()
            self.train(True)
            self.optimizer.zero_grad(set_to_none=True)
            y_pred = self(x, training=True)
            loss = self._total_loss(y, y_pred, sample_weight)
            loss.backward()
            self.optimizer.step()
        else:
            self.train(False)
            with torch.no_grad():
                y_pred = self(x, training=False)
                loss = self._total_loss(y, y_pred, sample_weight)
        self._loss_tracker.update_state(loss.item(), data.count(x))
        self._update_metrics(self._metric_objects(y, y_pred), y, y_pred, sample_weight)
        return self._logs()

    def _return(self, logs, return_dict):
        """A dict, or Keras's flat list: the loss, the metrics logged under their own names
        in compile order, the per-output losses, then the rest sorted (a lone loss is returned
        as a float)."""
        if return_dict:
            return logs
        order = ["loss"] + [k for k in self._objectives.ordered_keys() if k in logs]
        values = [logs[k] for k in order] + [logs[k] for k in sorted(logs) if k not in order]
        return values[0] if len(values) == 1 else values

    @distributed.data_parallel
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch (its samples weighted by sample_weight or
        class_weight, as in fit); returns the loss (and metrics) of that batch."""
        where = f"{self.name}.train_on_batch"
        self._require_compiled("train_on_batch")
        x, y = self._tensors(where, x, y, need_y=True)
        weights = data.sample_weights(where, sample_weight, class_weight, y, self._float_dtype())
        self.reset_metrics()
        logs = self._step(x, y, train=True, sample_weight=weights)
        self.train(False)
        return self._return(logs, return_dict)

    @distributed.data_parallel
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        where = f"{self.name}.test_on_batch"
        self._require_compiled("test_on_batch")
        x, y = self._tensors(where, x, y, need_y=True)
        weights = data.sample_weights(where, sample_weight, None, y, self._float_dtype())
        self.reset_metrics()
        return self._return(self._step(x, y, train=False, sample_weight=weights), return_dict)

    def predict_on_batch(self, x):
        x, _ = self._tensors(f"{self.name}.predict_on_batch", x, allow_empty=True)
        self._ensure_built(x)
        self.train(False)
        with torch.no_grad():
            return _numpy(self(data.to_device(x, self._weights_device()), training=False))

    # -- loops ----------------------------------------------------------------------------------
    @distributed.data_parallel
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for `epochs` passes over (x, y) — arrays, or a generator, PyDataset or torch
        DataLoader/Dataset of batches (models/data_adapters.py); returns a History. Under
        torchrun, each global batch of `batch_size` is split across the processes (arrays
        only; see distributed.py)."""
        where = f"{self.name}.fit"
        self._require_compiled("fit")
        options = data.fit_options(where, batch_size, epochs, initial_epoch,
                                   validation_batch_size, shuffle)
        epochs, freq = options["epochs"], data.check_validation_freq(where, validation_freq)
        train = self._batches(where, x, y, options["batch_size"], options["shuffle"],
                              steps_per_epoch, "steps_per_epoch", sample_weight=sample_weight,
                              class_weight=class_weight)
        val = None
        if validation_data is not None:
            vx, vy, vw = data_adapters.unpack_validation(where, validation_data)
            val = self._batches(f"{where} (validation_data)", vx, vy,
                                options["validation_batch_size"], False, validation_steps,
                                "validation_steps", sample_weight=vw)
        elif validation_split:
            train, val = data_adapters.split_validation(self, where, train, validation_split,
                                                        options["validation_batch_size"],
                                                        validation_steps)
        history = callbacks_module.History()
        cbs = self._callback_list(callbacks, verbose, epochs, train.steps, history)
        self.stop_training = False
        if isinstance(train, data_adapters.ArrayBatches):  # as Keras: built before callbacks
            self._ensure_built(train.x)
        # on_train_begin may set these (BackupAndRestore: where a backed-up run stopped)
        self._initial_epoch, self._initial_step, self._resume_hook = None, 0, None
        cbs.on_train_begin()
        first = options["initial_epoch"] if self._initial_epoch is None else self._initial_epoch
        logs = {}
        for epoch in range(first, epochs):
            logs = self._train_epoch(epoch, train, cbs, self._initial_step if epoch == first else 0)
            if val is not None and data.validates(epoch, freq):
                val_logs = self._run_evaluation(val, cbs)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self._stopping() or train.exhausted:
                break
        self.train(False)
        cbs.on_train_end(logs)
        return history

    def _batches(self, where, x, y, batch_size, shuffle, steps, steps_name, need_y=True,
                 sample_weight=None, class_weight=None):
        return data_adapters.batches_for(self, where, x, y, batch_size, shuffle, steps,
                                         steps_name, need_y, sample_weight, class_weight)

    def _train_epoch(self, epoch, batches, cbs, skip=0) -> dict[str, float]:
        """One epoch; its first `skip` batches are read but not trained (a resumed run)."""
        self.reset_metrics()
        cbs.on_epoch_begin(epoch)
        for step, (x, y, weights) in enumerate(batches.epoch()):
            if step < skip:
                if step == skip - 1:
                    self._resume_within_epoch(x, y)
                continue
            cbs.on_train_batch_begin(step)
            logs = self._step(x, y, train=True, sample_weight=weights)
            cbs.on_train_batch_end(step, logs)
            if self._stopping():
                break
        return self._logs()

    def _resume_within_epoch(self, x, y) -> None:
        """Once the batches a backup had trained are read again: the compiled metrics are
        built (an inference pass on the last of them, which draws no random numbers), then
        the resume hook (BackupAndRestore's) restores the metrics' and generators' states."""
        if not self._objectives.built and y is not None:
            self.train(False)
            with torch.no_grad():
                self._metric_objects(y, self(data.to_device(x, self._weights_device()),
                                             training=False))
        hook, self._resume_hook = self._resume_hook, None
        if hook is not None:
            hook()

    def _batch_indices(self, n, batch_size, shuffle) -> list[torch.Tensor]:
        if self._dist is not None:
            return self._dist.batch_indices(n, batch_size, shuffle)
        return data.batch_indices(n, batch_size, shuffle)

    def _stopping(self) -> bool:
        """stop_training; data-parallel, whether any rank set it (all ranks then stop)."""
        if self._dist is not None:
            self.stop_training = self._dist.any(self.stop_training)
        return self.stop_training

    def _callback_list(self, user_callbacks, verbose, epochs, steps, history=None):
        """Keras's order: the user's callbacks, then History (fit only), then the progress bar
        (unless the user's callbacks hold a ProgbarLogger, which is used instead)."""
        params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        cbs = list(user_callbacks or []) + ([history] if history is not None else [])
        has_bar = any(isinstance(cb, callbacks_module.ProgbarLogger) for cb in cbs)
        if resolve_verbose(verbose) and distributed.is_chief() and not has_bar:
            cbs.append(callbacks_module.ProgbarLogger())
        return callbacks_module.CallbackList(cbs, self, params)

    def _run_evaluation(self, batches, cbs) -> dict[str, float]:
        """evaluate's loop, also fit's validation (with fit's callbacks, as Keras does)."""
        cbs.on_test_begin()
        self.reset_metrics()
        for step, (x, y, weights) in enumerate(batches.epoch()):
            cbs.on_test_batch_begin(step)
            logs = self._step(x, y, train=False, sample_weight=weights)
            cbs.on_test_batch_end(step, logs)
        logs = self._logs()
        cbs.on_test_end(logs)
        return logs

    @distributed.data_parallel
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss (and metrics) over (x, y), or over the batches of a generator, PyDataset or
        DataLoader: a scalar, a list, or a dict with return_dict."""
        where = f"{self.name}.evaluate"
        self._require_compiled("evaluate")
        batch_size = data.check_batch_size(where, batch_size)
        batches = self._batches(where, x, y, batch_size, False, steps, "steps",
                                sample_weight=sample_weight)
        cbs = self._callback_list(callbacks, verbose, 1, batches.steps)
        logs = self._run_evaluation(batches, cbs)
        return self._return(logs, return_dict)

    @distributed.data_parallel
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x, batch by batch, as one numpy array."""
        where = f"{self.name}.predict"
        batch_size = data.check_batch_size(where, batch_size)
        batches = self._batches(where, x, None, batch_size, False, steps, "steps", need_y=False)
        cbs = self._callback_list(callbacks, verbose, 1, batches.steps)
        outputs = []
        self.train(False)
        cbs.on_predict_begin()
        with torch.no_grad():
            for step, (x, _, _) in enumerate(batches.epoch()):
                self._ensure_built(x)
                cbs.on_predict_batch_begin(step)
                outputs.append(self._predict_batch(x, self._weights_device()))
                cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
        cbs.on_predict_end()
        if self._dist is not None:
            outputs = self._dist.gather_outputs(outputs)
        if not outputs:
            return np.zeros((0,))
        if isinstance(outputs[0], np.ndarray):
            return np.concatenate(outputs)
        return tree.pack_as(outputs[0], [np.concatenate(parts) for parts in zip(
            *(tree.flatten(o) for o in outputs))])

    def _predict_batch(self, x, device):
        if self._dist is not None:
            return self._dist.predict_batch(x)
        return _numpy(self(data.to_device(x, device), training=False))

    # -- saving ---------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True) -> None:
        """Write the model file. During data-parallel fit/evaluate/predict (callbacks), only
        rank 0 writes; outside them every process that calls it does."""
        from .saving import save_model
        if self._dist is None or distributed.is_chief():
            save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True) -> None:
        from .saving import save_weights
        if self._dist is None or distributed.is_chief():
            save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath) -> None:
        from .saving import load_weights
        load_weights(self, filepath)


def _numpy(outputs):
    """The outputs as numpy arrays, in their structure (a list or dict for several)."""
    if torch.is_tensor(outputs):
        return outputs.cpu().numpy()
    return tree.map_structure(lambda t: t.cpu().numpy(), outputs)
