"""rnnkit train: build a model from a small JSON config file, train it on a named dataset and
save it (load it back with rnnkit.models.load_model).

    {
      "dataset": "sunspots",            one of the datasets `rnnkit compare` knows
      "time_steps": 30,                 optional: window or sequence length
      "layers": [                       optional: Keras layer records, as Sequential.get_config
        {"class_name": "GRU", "config": {"units": 64}},
        {"class_name": "Dense", "config": {"units": 1}}
      ],                                (default: the seed's model, "cell" and "units" keys)
      "compile": {"optimizer": "adam"}, optional: compile's arguments (default loss: the dataset's)
      "fit": {"epochs": 20, "batch_size": 32}   optional: also shuffle, initial_epoch,
    }                                              validation_batch_size

Every mistake in the config is reported in one line, with exit status 2, before training.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import reprlib

from .. import layers
from ..diagnostics.horizon import CELLS
from ..layers._checks import check_int
from ..models import Sequential, data
from ..utils import set_random_seed
from . import UsageError, tasks, user_input
from .experiment import EpochProgress

KEYS = {"dataset", "time_steps", "samples", "layers", "cell", "units", "compile", "fit"}
# fit's arguments a config may set (the command sets x, y, validation_data, verbose, callbacks)
FIT_OPTIONS = ("epochs", "batch_size", "shuffle", "initial_epoch", "validation_batch_size")
FIT_DEFAULTS = {"epochs": 10, "batch_size": 32}
MINIMUMS = {"time_steps": 2, "samples": 10, "units": 1}  # as the other commands' options


def add_parser(sub, common):
    p = sub.add_parser("train", parents=[common], help="train a model from a config file on a "
                       "named dataset and save it", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", type=pathlib.Path, help="the JSON config file")
    p.add_argument("--output", default="model.rnnkit", help="where to save (default: %(default)s)")
    p.set_defaults(run=run)


def read_config(path: pathlib.Path) -> dict:
    """The config file, every key checked before anything is loaded or built."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:  # ValueError: bad JSON, or bytes that are not UTF-8
        raise UsageError(f"cannot read config {path}: {error}") from None
    if not isinstance(config, dict) or "dataset" not in config:
        raise UsageError(f'expected a JSON object with a "dataset" key in {path}, got '
                         f"{type(config).__name__} with keys "
                         f"{sorted(config) if isinstance(config, dict) else []}.")
    unknown = set(config) - KEYS
    if unknown:
        raise UsageError(f"unknown keys {sorted(unknown)} in {path}; expected some of "
                         f"{sorted(KEYS)}.")
    with user_input():
        for key, minimum in MINIMUMS.items():
            if config.get(key) is not None:
                check_int(str(path), key, config[key], minimum)
        _check_model_keys(config, path)
        fit_options(config, path)
    return config


def _check_model_keys(config: dict, path) -> None:
    for key in ("compile", "fit"):
        if not isinstance(config.get(key, {}), dict):
            raise UsageError(f'{path}: expected "{key}" to be a JSON object of {key}\'s '
                             f"arguments, got {reprlib.repr(config[key])}.")
    if "layers" not in config:
        if config.get("cell", "LSTM") not in CELLS:
            raise UsageError(f'{path}: expected "cell" one of {", ".join(CELLS)}, got '
                             f"{reprlib.repr(config['cell'])}.")
        return
    if "cell" in config or "units" in config:
        raise UsageError(f'{path}: "cell" and "units" choose the seed\'s model, so they go '
                         f'without "layers"; got both.')
    records = config["layers"]
    if not isinstance(records, list):
        raise UsageError(f'{path}: expected "layers" to be a list of layer records, got '
                         f"{reprlib.repr(records)}.")
    if not records:
        raise UsageError(f'{path}: expected at least one layer in "layers", got none.')
    for i, record in enumerate(records):
        if not (isinstance(record, dict) and isinstance(record.get("class_name"), str)
                and isinstance(record.get("config", {}), dict)):
            raise UsageError(f'{path}: expected layers[{i}] as {{"class_name": "...", '
                             f'"config": {{...}}}}, got {reprlib.repr(record)}.')


def fit_options(config: dict, path="config") -> dict:
    """fit's arguments from the config over the command's defaults, checked as fit checks them."""
    fit = config.get("fit", {})
    unknown = sorted(set(fit) - set(FIT_OPTIONS))
    if unknown:
        raise UsageError(f"{path}: unknown fit argument(s) {unknown}; expected some of "
                         f"{list(FIT_OPTIONS)}.")
    fit = {**FIT_DEFAULTS, **fit}
    data.fit_options(f"{path}: fit", **fit)
    return fit


def build(config: dict, task, path="config") -> Sequential:
    """The config's layers (an Input for the dataset first, unless they declare one), or the
    seed's model; compiled with the config's options over the dataset's defaults, and checked
    against the dataset's x and y."""
    if "layers" in config:
        model = _stack(config["layers"], task, path)
    else:
        with user_input(path):
            model = task.model(config.get("cell", "LSTM"), config.get("units", 128))
    with user_input(f"{path}: compile"):
        model.compile(**{"optimizer": "adam", "loss": task.loss, "metrics": task.metrics,
                         **config.get("compile", {})})
    if model.loss is None:
        raise UsageError(f"{path}: compile: expected a loss for the {task.name} dataset, got null.")
    if getattr(model.loss, "sparse", False) and not task.classes:
        raise UsageError(f"{path}: compile: the loss {model.loss.name} takes class ids, but the "
                         f"{task.name} dataset's targets are values.")
    output = model.compute_output_shape((None,) + task.x_train.shape[1:])
    with user_input():
        data.check_targets(f"{path}: the {task.name} dataset", task.y_train.shape, output,
                           model.loss)
    return model


def _stack(records: list, task, path) -> Sequential:
    stack = []
    for i, record in enumerate(records):
        with user_input(f"{path}: layers[{i}] ({record['class_name']})"):
            stack.append(layers.deserialize(record))
    x_shape = (None,) + task.x_train.shape[1:]
    with user_input(f"{path}: layers"):
        model = Sequential(stack)
        if not model.built:  # the first layer declares no input: the dataset's
            model = Sequential([layers.Input((None,), dtype="int64") if task.vocabulary
                                is not None else layers.Input((None, task.features)),
                                *model.layers])
        declared = model.input_shape
        if len(declared) != len(x_shape) or any(
                d is not None and d != x for d, x in zip(declared[1:], x_shape[1:])):
            raise UsageError(f"{path}: the first layer declares input of shape {declared}, but the "
                             f"{task.name} dataset's x has shape {x_shape}; leave input_shape "
                             "out to take the dataset's.")
        width = model.compute_output_shape(x_shape)[-1]
    if width != (task.classes or 1):
        raise UsageError(f"{path}: expected the last layer to output {task.classes or 1} "
                         f"{'classes' if task.classes else 'value'} for the {task.name} "
                         f"dataset, got {width}.")
    return model


def run(args) -> int:
    config = read_config(args.config)
    task = tasks.load(config["dataset"], config.get("time_steps"), config.get("samples"),
                      args.seed)
    print(f"Dataset: {task.description}.")
    set_random_seed(args.seed)
    model = build(config, task, args.config)
    model.summary()
    fit = fit_options(config, args.config)
    progress = EpochProgress("Training", fit["epochs"], args.verbose)
    model.fit(task.x_train, task.y_train, validation_data=(task.x_val, task.y_val), verbose=0,
              callbacks=[progress], **fit)
    scores = model.evaluate(task.x_val, task.y_val, verbose=0, return_dict=True)
    print("Validation: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    model.save(args.output)
    print(f"Saved {args.output}")
    return 0
