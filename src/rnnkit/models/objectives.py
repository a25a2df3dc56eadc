"""What `compile` asks a model to minimise and report, for one output or several: a loss per
output (one for all, a list, or a dict by output name) with `loss_weights`, and metrics per
output, logged under Keras's names ("dense_loss", "dense_1_mae", ...)."""

from __future__ import annotations

from .. import losses
from .. import metrics as metrics_module
from ..utils.naming import free_name


def _is_structure(value) -> bool:
    return isinstance(value, (list, tuple, dict))


class Objectives:
    """The compiled losses and metrics. Built at the first batch, when the outputs (their
    number, names and shapes) are known, as Keras builds its CompileLoss and CompileMetrics."""

    def __init__(self, where: str, loss=None, loss_weights=None, metrics=None,
                 weighted_metrics=None):
        self.where = where
        self.loss = _resolve_losses(where, loss)
        self.loss_weights = _check_weights(where, loss_weights)
        self.metric_ids = _check_metrics(where, metrics)
        self.weighted_ids = _check_metrics(where, weighted_metrics)
        self.built = False
        self.entries: list = []        # per output: (loss or None, weight or None)
        self.trackers: list = []       # per-output loss means, when there are several losses
        self.metrics: list = []        # (log key, Metric, output index)
        self.weighted: list = []       # the same for weighted_metrics (given sample weights)
        self.last_values: list = []

    # -- building -------------------------------------------------------------------------------
    def build(self, output_names, y_flat, pred_flat) -> None:
        n = len(pred_flat)
        names = list(output_names) if output_names and len(output_names) == n else [
            f"output_{i}" for i in range(n)]
        fns = self._per_output(self.loss, names, "loss")
        weights = (self._per_output(self.loss_weights, names, "loss_weights")
                   if self.loss_weights is not None else [None] * n)
        self.entries = list(zip(fns, weights))
        with_loss = [i for i, (fn, _) in enumerate(self.entries) if fn is not None]
        self.trackers = ([(i, metrics_module.Mean(f"{names[i]}_loss")) for i in with_loss]
                         if len(with_loss) > 1 else [])
        self.metrics, self.weighted, taken = [], [], set()
        for weighted, ids in ((False, self.metric_ids), (True, self.weighted_ids)):
            for i, per in enumerate(self._metrics_per_output(ids, names, n)):
                for m in per:
                    metric = metrics_module.get(m, tuple(y_flat[i].shape),
                                                tuple(pred_flat[i].shape), where=self.where)
                    key = self._key(metric.name, names[i] if n > 1 else None, weighted, taken)
                    taken.add(key)
                    (self.weighted if weighted else self.metrics).append((key, metric, i))
        self.built = True

    @staticmethod
    def _key(name, output, weighted, taken) -> str:
        """Keras's log key: "<output>_<name>"; a weighted metric whose key is taken becomes
        "weighted_<name>"; a key taken again gets "_1", "_2", ..."""
        key = name if output is None else f"{output}_{name}"
        if weighted and key in taken:
            key = f"weighted_{name}" if output is None else f"{output}_weighted_{name}"
        return free_name(key, taken)

    def _per_output(self, value, names, what) -> list:
        n = len(names)
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(names))
            if unknown:
                raise ValueError(f"{self.where}: {what} has keys {unknown} that are not output "
                                 f"names; the outputs are {names}.")
            return [value.get(name) for name in names]
        if isinstance(value, (list, tuple)):
            if len(value) != n:
                raise ValueError(f"{self.where}: expected {what} with one entry per output "
                                 f"({n}: {names}), got {len(value)}.")
            return list(value)
        return [value] * n

    def _metrics_per_output(self, ids, names, n) -> list[list]:
        if not ids:
            return [[] for _ in range(n)]
        if n == 1:
            flat = list(ids.values()) if isinstance(ids, dict) else list(ids)
            return [[m for entry in flat for m in (entry if _is_structure(entry) else [entry])]]
        if isinstance(ids, dict):
            per = self._per_output(ids, names, "metrics")
        elif len(ids) == n:
            per = list(ids)
        else:
            raise ValueError(f"{self.where}: for a model with {n} outputs ({names}), expected "
                             "metrics as a list with one entry per output or a dict keyed by "
                             f"output name, got a list of {len(ids)}.")
        return [[] if p is None else list(p) if _is_structure(p) else [p] for p in per]

    # -- targets, loss and logs -----------------------------------------------------------------
    def targets(self, y, output_names, n: int) -> list:
        """y as one target per output: a list in output order, a dict by output name, or one
        tensor for one output."""
        if isinstance(y, dict):
            missing = [name for name in output_names if name not in y]
            if missing or len(output_names) != n:
                raise ValueError(f"{self.where}: expected y as a dict keyed by the output names "
                                 f"{list(output_names)}, got keys {sorted(y)}.")
            return [y[name] for name in output_names]
        flat = list(y) if isinstance(y, (list, tuple)) else [y]
        if len(flat) != n:
            raise ValueError(f"{self.where}: expected {n} target(s), one per output, got "
                             f"{len(flat)}.")
        return flat

    def total(self, y_flat, pred_flat, masks, sample_weights=None):
        """The sum of the weighted losses (each output's loss weighted by its samples' weights
        where given); keeps each value before `loss_weights` for its tracker."""
        total, self.last_values = None, []
        sample_weights = sample_weights or [None] * len(pred_flat)
        for (fn, weight), y, p, mask, sw in zip(self.entries, y_flat, pred_flat, masks,
                                                sample_weights):
            if fn is None:
                self.last_values.append(None)
                continue
            options = {k: v for k, v in (("mask", mask), ("sample_weight", sw)) if v is not None}
            value = fn(y, p, **options)
            self.last_values.append(value)
            if weight is not None:
                value = value * weight
            total = value if total is None else total + value
        if total is None:
            raise ValueError(f"{self.where}: no output has a loss; compile(loss=...) named none "
                             "of them.")
        return total

    def update(self, y_flat, pred_flat, masks, batch: int, sample_weights=None) -> None:
        """The trackers and metrics after a batch; weighted metrics also take each output's
        sample weights (Keras: plain metrics never do)."""
        sample_weights = sample_weights or [None] * len(pred_flat)
        for i, tracker in self.trackers:
            tracker.update_state(self.last_values[i].item(), batch)
        for weighted, entries in ((False, self.metrics), (True, self.weighted)):
            for _, metric, i in entries:
                options = {} if masks[i] is None else {"mask": masks[i]}
                if weighted and sample_weights[i] is not None:
                    options["sample_weight"] = sample_weights[i]
                metric.update_state(*losses.align(y_flat[i], pred_flat[i].detach()), **options)

    def logged(self) -> list[tuple[str, object]]:
        """(log key, metric) of each per-output loss tracker and compiled metric; a key may
        differ from the metric's name (weighted_<name>, <output>_<name>)."""
        return ([(tracker.name, tracker) for _, tracker in self.trackers]
                + [(key, metric) for key, metric, _ in self.metrics + self.weighted])

    def results(self) -> dict[str, float]:
        return {key: metric.result() for key, metric in self.logged()}

    def ordered_keys(self) -> list[str]:
        """Keras's order for evaluate's list: compiled metrics logged under their own names
        (one output), then the per-output losses; the rest follows sorted."""
        plain = [key for key, metric, _ in self.metrics + self.weighted if key == metric.name]
        return plain + [tracker.name for _, tracker in self.trackers]  # repeats as Keras's

    def reset(self) -> None:
        for _, tracker in self.trackers:
            tracker.reset_state()
        for _, metric, _ in self.metrics + self.weighted:
            metric.reset_state()


def _serialized(value) -> bool:
    """{"class_name", "config"}: one loss as `losses.serialize` writes it, not a dict of them."""
    return isinstance(value, dict) and set(value) == {"class_name", "config"}


def _resolve_losses(where, loss):
    if isinstance(loss, dict) and not _serialized(loss):
        return {k: None if v is None else losses.get(v, where=where) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [None if v is None else losses.get(v, where=where) for v in loss]
    return None if loss is None else losses.get(loss, where=where)


def _check_weights(where, weights):
    if weights is None:
        return None
    values = list(weights.values()) if isinstance(weights, dict) else (
        list(weights) if isinstance(weights, (list, tuple)) else [weights])
    for w in values:
        if isinstance(w, bool) or not isinstance(w, (int, float)):
            raise TypeError(f"{where}: expected loss_weights as numbers (a float, a list or a "
                            f"dict of them), got {weights!r}.")
    return weights


def _check_metrics(where, metrics):
    if metrics is None:
        return None
    if not isinstance(metrics, (list, tuple, dict)):
        raise TypeError(f"{where}: expected metrics as a list (or, for several outputs, a list "
                        f"per output or a dict by output name), got {type(metrics).__name__}.")
    values = metrics.values() if isinstance(metrics, dict) else metrics
    for entry in values:
        for m in (entry if _is_structure(entry) else [entry]):
            if m is not None:
                metrics_module.check(m, where=where)
    return metrics
