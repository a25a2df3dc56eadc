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
      "fit": {"epochs": 20, "batch_size": 32}
    }
"""

from __future__ import annotations

import argparse
import json
import pathlib

from .. import layers
from ..models import Sequential
from ..utils import set_random_seed
from . import tasks
from .experiment import EpochProgress

KEYS = {"dataset", "time_steps", "samples", "layers", "cell", "units", "compile", "fit"}


def add_parser(sub, common):
    p = sub.add_parser("train", parents=[common], help="train a model from a config file on a "
                       "named dataset and save it", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", type=pathlib.Path, help="the JSON config file")
    p.add_argument("--output", default="model.rnnkit", help="where to save (default: %(default)s)")
    p.set_defaults(run=run)


def read_config(path: pathlib.Path) -> dict:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"rnnkit train: cannot read config {path}: {error}") from None
    if not isinstance(config, dict) or "dataset" not in config:
        raise SystemExit(f"rnnkit train: expected a JSON object with a \"dataset\" key in {path}, "
                         f"got {type(config).__name__} with keys {sorted(config) if isinstance(config, dict) else []}.")
    unknown = set(config) - KEYS
    if unknown:
        raise SystemExit(f"rnnkit train: unknown keys {sorted(unknown)} in {path}; expected "
                         f"some of {sorted(KEYS)}.")
    return config


def build(config: dict, task) -> Sequential:
    """The config's layers (an Input for the dataset first, unless they declare one), or the
    seed's model; compiled with the config's options over the dataset's defaults."""
    if "layers" in config:
        if not config["layers"]:
            raise SystemExit('rnnkit train: expected at least one layer in "layers", got none.')
        model = Sequential([layers.deserialize(record) for record in config["layers"]])
        if not model.built:  # the first layer declares no input: the dataset's
            model = Sequential([layers.Input((None,), dtype="int64") if task.vocabulary
                                is not None else layers.Input((None, task.features)),
                                *model.layers])
        width = model.compute_output_shape((None,) + task.x_train.shape[1:])[-1]
        if width != (task.classes or 1):
            raise SystemExit(f"rnnkit train: expected the last layer to output "
                             f"{task.classes or 1} {'classes' if task.classes else 'value'} for "
                             f"the {task.name} dataset, got {width}.")
    else:
        model = task.model(config.get("cell", "LSTM"), config.get("units", 128))
    model.compile(**{"optimizer": "adam", "loss": task.loss, "metrics": task.metrics,
                     **config.get("compile", {})})
    return model


def run(args) -> int:
    config = read_config(args.config)
    task = tasks.load(config["dataset"], config.get("time_steps"), config.get("samples"),
                      args.seed)
    print(f"Dataset: {task.description}.")
    set_random_seed(args.seed)
    model = build(config, task)
    model.summary()
    fit = {"epochs": 10, "batch_size": 32, **config.get("fit", {})}
    progress = EpochProgress("Training", fit["epochs"], args.verbose)
    model.fit(task.x_train, task.y_train, validation_data=(task.x_val, task.y_val), verbose=0,
              callbacks=[progress], **fit)
    scores = model.evaluate(task.x_val, task.y_val, verbose=0, return_dict=True)
    print("Validation: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    model.save(args.output)
    print(f"Saved {args.output}")
    return 0
