"""rnnkit's model file: a zip of config.json, metadata.json and model.safetensors.

Nothing is pickled. Files are written to a temporary name and renamed into place, so an
interrupted save never destroys an earlier file.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import zipfile

import numpy as np
import torch

from . import safetensors

FORMAT = "rnnkit"
FORMAT_VERSION = 1


def _weight_arrays(model) -> dict[str, np.ndarray]:
    return {f"{layer.name}/{name}": p.detach().cpu().numpy()
            for layer in model.layers for name, p in zip(layer._weight_names, layer.weights)}


def _assign(model, arrays: dict[str, np.ndarray], source: str) -> None:
    expected = _weight_arrays(model)
    missing = [k for k in expected if k not in arrays]
    unexpected = [k for k in arrays if k not in expected]
    if missing or unexpected:
        raise ValueError(f"{model.name}: the weights in {source} do not match the model: missing "
                         f"{missing or 'none'}, unexpected {unexpected or 'none'}.")
    model.set_weights([arrays[k] for k in expected])


def _atomic_write(path: str, write, overwrite: bool) -> None:
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".rnnkit-", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _metadata() -> dict:
    from .. import __version__
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "rnnkit_version": __version__,
            "torch_version": torch.__version__,
            "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def save_model(model, filepath, overwrite: bool = True) -> None:
    path = os.fspath(filepath)
    if not model.built:
        raise ValueError(f"{model.name}: cannot save a model that is not built; give the first "
                         "layer input_shape= or call the model on data first.")
    config = {"class_name": type(model).__name__, "config": model.get_config(),
              "compile_config": compile_config(model)}
    weights = safetensors.dumps(_weight_arrays(model))

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("metadata.json", json.dumps(_metadata(), indent=2))
            zf.writestr("config.json", json.dumps(config, indent=2))
            zf.writestr("model.safetensors", weights)

    _atomic_write(path, write, overwrite)


def compile_config(model) -> dict | None:
    from .. import optimizers
    if not model.compiled:
        return None
    opt = model.optimizer
    return {
        "optimizer": ({"class_name": type(opt).__name__, "config": opt.get_config()}
                      if isinstance(opt, optimizers.Optimizer) else None),
        "loss": model._loss_id if isinstance(model._loss_id, str) else None,
        "metrics": [m for m in model._metric_ids if isinstance(m, str)],
    }


def load_model(filepath, compile: bool = True):
    """A model saved by `model.save(path)`, with its weights and, when it was compiled with
    named objects, its optimizer settings, loss and metrics."""
    from .sequential import Sequential

    path = os.fspath(filepath)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not an rnnkit model file (a zip archive); was it written by "
                         "model.save()?")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if "model.safetensors" not in names:
            hint = (" It looks like a Keras file; Keras files are read by rnnkit's Keras interop, "
                    "not load_model." if "model.weights.h5" in names else "")
            raise ValueError(f"{path} is not an rnnkit model file.{hint}")
        metadata = json.loads(zf.read("metadata.json"))
        if metadata.get("format") != FORMAT or metadata.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported format {metadata.get('format')!r} version "
                             f"{metadata.get('format_version')!r}; this rnnkit reads version "
                             f"{FORMAT_VERSION}.")
        config = json.loads(zf.read("config.json"))
        arrays, _ = safetensors.loads(zf.read("model.safetensors"))
    if config.get("class_name") != "Sequential":
        raise ValueError(f"{path}: unknown model class {config.get('class_name')!r}.")
    model = Sequential.from_config(config["config"])
    _assign(model, arrays, path)
    cc = config.get("compile_config")
    if compile and cc and cc.get("optimizer") and cc.get("loss"):
        model.compile(optimizer=cc["optimizer"], loss=cc["loss"], metrics=cc.get("metrics") or None)
    return model


def save_weights(model, filepath, overwrite: bool = True) -> None:
    path = os.fspath(filepath)
    blob = safetensors.dumps(_weight_arrays(model), {"format": FORMAT})

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(blob)

    _atomic_write(path, write, overwrite)


def load_weights(model, filepath) -> None:
    path = os.fspath(filepath)
    with open(path, "rb") as f:
        arrays, _ = safetensors.loads(f.read())
    _assign(model, arrays, path)
