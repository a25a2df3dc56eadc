"""The experiment `compare` and `gradients` share: each cell built as the seed builds it, trained
on the same data with the same budget and seed, its per-step gradient norms measured on the
validation set before and after training."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from ..callbacks import Callback
from ..diagnostics import gradient_norms
from ..diagnostics.horizon import CELLS
from ..utils import set_random_seed
from ..utils.progbar import Progbar
from . import count, tasks
from .report import line_panels



class EpochProgress(Callback):
    """A progress bar over epochs (fit itself runs silent) that also times each epoch."""

    def __init__(self, label: str, epochs: int, verbose: int = 1):
        super().__init__()
        self.label, self.verbose = label, verbose
        self.bar = Progbar(epochs, verbose=verbose, unit_name="epoch")
        self.seconds = []

    def on_train_begin(self, logs=None):
        if self.verbose:
            print(self.label, flush=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
        done = epoch + 1
        self.bar.update(done, sorted((logs or {}).items()), finalize=done == self.bar.target)


@dataclass
class CellRun:
    cell: str
    params: int
    seconds_per_epoch: float  # median over epochs, training and validation
    history: dict
    norms_initial: np.ndarray  # mean ‖∂L/∂h_t‖ on (the first 256 of) the validation set
    norms_trained: np.ndarray

    @property
    def final(self) -> dict:
        return {k: v[-1] for k, v in self.history.items()}

    @staticmethod
    def first_to_last(norms) -> float:
        """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: how much of the gradient at the last step reaches the first."""
        return float(norms[0] / norms[-1]) if norms[-1] > 0 else float("nan")


GRADIENT_SAMPLES = 256  # validation sequences the gradient norms are averaged over


def train_cells(task, cells=CELLS, units=128, epochs=10, batch_size=32, seed=0,
                backend="auto", verbose=1) -> list[CellRun]:
    runs = []
    probe = task.x_val[:GRADIENT_SAMPLES], task.y_val[:GRADIENT_SAMPLES]
    for cell in cells:
        set_random_seed(seed)
        model = task.model(cell, units, backend)
        before = gradient_norms(model, *probe)
        progress = EpochProgress(f"{cell} ({model.count_params():,} parameters)", epochs, verbose)
        set_random_seed(seed)  # the same shuffles for every cell
        history = model.fit(task.x_train, task.y_train, epochs=epochs, batch_size=batch_size,
                            validation_data=(task.x_val, task.y_val), shuffle=True, verbose=0,
                            callbacks=[progress])
        after = gradient_norms(model, *probe)
        runs.append(CellRun(cell, model.count_params(),
                            statistics.median(progress.seconds) if progress.seconds else 0.0,
                            history.history, before, after))
    return runs


def add_experiment_options(p, dataset: str, epochs: int, out: str, dataset_help: str = ""):
    """The options `compare` and `gradients` share; only their defaults differ."""
    p.add_argument("--dataset", default=dataset, choices=tasks.TASKS,
                   help=f"what to train on (default: %(default)s{dataset_help})")
    p.add_argument("--epochs", type=count(0), default=epochs, help="default: %(default)s")
    p.add_argument("--units", type=count(1), default=128, help="default: %(default)s, as in the "
                   "seed")
    p.add_argument("--out", default=out, help="report folder (default: %(default)s)")
    add_training_options(p)


def run_experiment(args):
    """The named dataset, and each cell trained on it with the options given: (task, runs)."""
    task = tasks.load(args.dataset, args.time_steps, args.samples, args.seed)
    print(f"Dataset: {task.description}.")
    return task, train_cells(task, args.cells, args.units, args.epochs, args.batch_size,
                             args.seed, args.backend, args.verbose)


def add_training_options(p):
    p.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    p.add_argument("--batch-size", type=count(1), default=32, help="default: %(default)s")
    p.add_argument("--time-steps", type=count(2), help="window or sequence length (dataset "
                   "default)")
    p.add_argument("--samples", type=count(10), help="size of a generated dataset")
    p.add_argument("--backend", default="auto", choices=("auto", "native", "reference"))


def gradient_plot(path, runs):
    steps = np.arange(1, len(runs[0].norms_initial) + 1)
    return line_panels(path, [
        ("Untrained (Keras initializers)", {r.cell: (steps, r.norms_initial, "-") for r in runs}),
        ("Trained", {r.cell: (steps, r.norms_trained, "-") for r in runs})],
        "time step t", "mean ‖∂L/∂h_t‖")


def print_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for line in [header] + rows:
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                        for i, (c, w) in enumerate(zip(line, widths))))
