"""TensorBoard (Keras 3): scalars of fit's epochs (and batches) written as TensorBoard event
files, through `torch.utils.tensorboard.SummaryWriter` (install the `tensorboard` extra)."""

from __future__ import annotations

import json
import os
import time

from .base import Callback, _is_chief


def _summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:  # torch imports the tensorboard package there
        raise ImportError("TensorBoard: writing event files needs the `tensorboard` package; "
                          "install it with `pip install rnnkit[tensorboard]` (or `pip install "
                          f"tensorboard`). ({e})") from e
    return SummaryWriter


class TensorBoard(Callback):
    """Writes TensorBoard logs of training, with Keras 3's tags and steps.

    In `log_dir/train`: `epoch_<name>` for each epoch's logged value (step: the epoch, from
    0), `epoch_learning_rate` (the optimizer's rate), `epoch_steps_per_second` with
    `write_steps_per_second`, and with an integer `update_freq` (or "batch", which is 1)
    `batch_<name>` every `update_freq` batches (step: the batch count since fit began, from
    1). In `log_dir/validation`: `epoch_<name>` of the `val_` values and
    `evaluation_<name>_vs_iterations` (step: the optimizer's iterations) after each
    validation. As in Keras, with an integer `update_freq` a value is written only when the
    batch count of the batch last begun is a multiple of it (so are the epoch values).
    With `write_graph` the model's config (JSON) is written as the text "keras" at step 0,
    where Keras writes its model summary. `histogram_freq=N` adds each weight's histogram
    (`<layer>/<weight>/histogram`) every N epochs.

    Refused (NotImplementedError or, as Keras on torch refuses it, ValueError): `write_images`,
    `profile_batch` other than 0, `embeddings_freq` other than 0 and `embeddings_metadata`.
    Under torchrun only rank 0 writes.

    Args:
        log_dir: The folder of the logs.
        histogram_freq: Every how many epochs to write weight histograms (0: never).
        write_graph: Write the model's config as text.
        write_images: Refused (Keras writes weights as images).
        write_steps_per_second: Also log the training steps per second.
        update_freq: "epoch", "batch" or an integer number of batches.
        profile_batch: 0 only (Keras on the torch backend refuses profiling too).
        embeddings_freq: 0 only.
        embeddings_metadata: None only.

    >>> board = TensorBoard("logs", update_freq=10)  # doctest: +SKIP
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self._writer_class = _summary_writer()
        _check_count("histogram_freq", histogram_freq)
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch":
            _check_count("update_freq", update_freq, minimum=1, also="'epoch' or 'batch'")
        if profile_batch not in (0, None):
            raise ValueError("TensorBoard: profiling is not available on the torch backend "
                             f"(as in Keras 3); expected profile_batch=0, got {profile_batch!r}.")
        for name, value, default in (("write_images", write_images, False),
                                     ("embeddings_freq", embeddings_freq, 0),
                                     ("embeddings_metadata", embeddings_metadata, None)):
            if value != default:
                raise NotImplementedError(f"TensorBoard: {name}={value!r} is not supported; "
                                          f"expected {default!r}.")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph = histogram_freq, bool(write_graph)
        self.write_images, self.write_steps_per_second = False, bool(write_steps_per_second)
        self.update_freq = update_freq
        self.profile_batch, self.embeddings_freq, self.embeddings_metadata = 0, 0, None
        self._writers = {}
        self._global_train_batch = self._global_test_batch = 0
        self._record_step = None  # the batch count an integer update_freq is checked against

    # -- writers --------------------------------------------------------------------------------
    def _writer(self, which: str):
        if which not in self._writers:
            folder = os.path.join(self.log_dir, "train" if which == "train" else "validation")
            self._writers[which] = self._writer_class(log_dir=folder)
        return self._writers[which]

    def _scalar(self, which: str, tag: str, value, step: int) -> None:
        recording = (self.update_freq == "epoch" or self._record_step is None
                     or self._record_step % self.update_freq == 0)
        if recording and _is_chief():
            self._writer(which).add_scalar(tag, _scalar_value(value), global_step=int(step))

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- hooks ----------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._record_step = 0 if self.update_freq != "epoch" else None
        if self.write_graph and _is_chief():
            self._writer("train").add_text("keras", json.dumps(
                {"class_name": type(self.model).__name__, "config": self.model.get_config()},
                default=str), global_step=0)

    def on_train_end(self, logs=None):
        self._record_step = None
        self._close()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq != "epoch":
            self._record_step = self._global_train_batch
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch":
            return  # as Keras: no writer is set for batch values then
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._batch_start
            self._scalar("train", "batch_steps_per_second", 1.0 / max(elapsed, 1e-12),
                         self._global_train_batch)
        for name, value in (logs or {}).items():
            self._scalar("train", f"batch_{name}", value, self._global_train_batch)

    def on_test_begin(self, logs=None):
        self._train_record_step = self._record_step
        if self.update_freq != "epoch":
            self._record_step = self._global_test_batch

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        if self.update_freq != "epoch":
            self._record_step = self._global_test_batch

    def on_test_end(self, logs=None):
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        if iterations is not None:
            for name, value in (logs or {}).items():
                self._scalar("val", f"evaluation_{name}_vs_iterations", value, iterations)
        self._record_step = self._train_record_step

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_iterations = getattr(self.model.optimizer, "iterations", 0)

    def on_epoch_end(self, epoch, logs=None):
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        rate = getattr(self.model.optimizer, "learning_rate", None)
        if rate is not None:
            train["learning_rate"] = float(rate)
        if self.write_steps_per_second:
            steps = self.model.optimizer.iterations - self._epoch_iterations
            train["steps_per_second"] = steps / (time.perf_counter() - self._epoch_start)
        for name, value in train.items():
            self._scalar("train", f"epoch_{name}", value, epoch)
        for name, value in logs.items():
            if name.startswith("val_"):
                self._scalar("val", f"epoch_{name[4:]}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0 and _is_chief():
            self._log_weights(epoch)

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for name, weight in layer.named_parameters():
                tag = f"{layer.name}/{name.replace('.', '/')}/histogram"
                writer.add_histogram(tag, weight.detach().cpu(), global_step=epoch)
        writer.flush()


def _scalar_value(value) -> float:
    """A logged value as one number; a metric of several values as their mean (as the
    progress bar shows it)."""
    import numpy as np

    return float(np.mean(np.asarray(value, dtype=np.float64)))


def _check_count(name: str, value, minimum: int = 0, also: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        alternatives = f"{also} or " if also else ""
        raise ValueError(f"TensorBoard: expected {name} to be {alternatives}an integer >= "
                         f"{minimum}, got {value!r}.")
