"""rnnkit's model file: a zip of config.json, metadata.json, model.safetensors and, for a
model compiled with one of rnnkit's optimizers, optimizer.safetensors.

Weights are keyed by position, as Keras keys its files: "<snake_case class>[_k]/<weight>"
("lstm/kernel", "lstm_1/kernel" for the second LSTM), so a file loads into any model built the
same way; the layers' own names are kept in the safetensors metadata. The optimizer file holds
"iterations" and each weight's slots under "<weight key>/<slot>" ("lstm/kernel/m").
Version 1 files (weights keyed by layer name, no optimizer state) are still read.

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

from .. import losses, optimizers
from . import safetensors
from .weights import keyed_weights, layer_keys

FORMAT = "rnnkit"
FORMAT_VERSION = 2


def _weight_arrays(model) -> dict[str, np.ndarray]:
    return {key: p.detach().cpu().numpy() for key, p in keyed_weights(model.layers).items()}


def _weights_metadata(model) -> dict[str, str]:
    names = dict(zip(layer_keys(model.layers), (layer.name for layer in model.layers)))
    return {"format": FORMAT, "format_version": str(FORMAT_VERSION),
            "layer_names": json.dumps(names)}


def _check_version(version: int, source: str) -> None:
    if version > FORMAT_VERSION:
        raise ValueError(f"{source}: unsupported rnnkit format version {version}; this rnnkit "
                         f"reads versions 1 to {FORMAT_VERSION}.")


def _assign(model, arrays: dict[str, np.ndarray], source: str, version: int) -> None:
    expected = keyed_weights(model.layers, by_name=version < 2)
    missing = [k for k in expected if k not in arrays]
    unexpected = [k for k in arrays if k not in expected]
    if missing or unexpected:
        raise ValueError(f"{model.name}: the weights in {source} do not match the model: missing "
                         f"{missing or 'none'}, unexpected {unexpected or 'none'}.")
    model.set_weights([arrays[k] for k in expected])


def _optimizer_arrays(model) -> dict[str, np.ndarray] | None:
    """rnnkit optimizer state: iterations and every weight's slots (m, v, momentum, ...)."""
    opt = model.optimizer
    if not isinstance(opt, optimizers.Optimizer):
        return None
    arrays = {"iterations": np.array(opt.iterations, dtype=np.int64)}
    if opt.built:
        for key, p in keyed_weights(model.layers).items():
            for slot, value in opt.state.get(p, {}).items():
                arrays[f"{key}/{slot}"] = value.detach().cpu().numpy()
    return arrays


def _restore_optimizer(model, arrays: dict[str, np.ndarray], source: str) -> None:
    opt = model.optimizer
    if not isinstance(opt, optimizers.Optimizer):
        return
    arrays = dict(arrays)
    opt.iterations = int(arrays.pop("iterations", 0))
    if not arrays:
        return
    model._build_optimizer()
    params = keyed_weights(model.layers)
    for name, value in arrays.items():
        key, slot = name.rsplit("/", 1)
        if key not in params:
            raise ValueError(f"{model.name}: {source} holds optimizer state for {key!r}, which the "
                             f"model does not have; its weights are {list(params)}.")
        p = params[key]
        opt.state[p][slot] = torch.as_tensor(value).to(dtype=p.dtype, device=p.device)


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
    weights = safetensors.dumps(_weight_arrays(model), _weights_metadata(model))
    opt_arrays = _optimizer_arrays(model) if model.compiled else None

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("metadata.json", json.dumps(_metadata(), indent=2))
            zf.writestr("config.json", json.dumps(config, indent=2))
            zf.writestr("model.safetensors", weights)
            if opt_arrays is not None:
                zf.writestr("optimizer.safetensors", safetensors.dumps(opt_arrays))

    _atomic_write(path, write, overwrite)


def compile_config(model) -> dict | None:
    if not model.compiled:
        return None
    opt = model.optimizer
    return {
        "optimizer": ({"class_name": type(opt).__name__, "config": opt.get_config()}
                      if isinstance(opt, optimizers.Optimizer) else None),
        "loss": None if model.loss is None else losses.serialize(model.loss),
        "metrics": [m for m in model._metric_ids if isinstance(m, str)],
    }


def _read_model_file(path: str):
    """(version, config, weight arrays, optimizer arrays or None) from a model file."""
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
        if metadata.get("format") != FORMAT:
            raise ValueError(f"{path}: expected format {FORMAT!r}, got {metadata.get('format')!r}.")
        version = int(metadata.get("format_version", 1))
        _check_version(version, path)
        config = json.loads(zf.read("config.json"))
        arrays, _ = safetensors.loads(zf.read("model.safetensors"))
        opt_arrays = (safetensors.loads(zf.read("optimizer.safetensors"))[0]
                      if "optimizer.safetensors" in names else None)
    return version, config, arrays, opt_arrays


def load_model(filepath, compile: bool = True):
    """A model saved by `model.save(path)`, with its weights and, when it was compiled with
    named or serializable objects, its optimizer (settings and state), loss and metrics."""
    from .sequential import Sequential

    path = os.fspath(filepath)
    version, config, arrays, opt_arrays = _read_model_file(path)
    if config.get("class_name") != "Sequential":
        raise ValueError(f"{path}: unknown model class {config.get('class_name')!r}.")
    model = Sequential.from_config(config["config"])
    _assign(model, arrays, path, version)
    cc = config.get("compile_config")
    if compile and cc and cc.get("optimizer") and cc.get("loss"):
        model.compile(optimizer=cc["optimizer"], loss=cc["loss"], metrics=cc.get("metrics") or None)
        if opt_arrays is not None:
            _restore_optimizer(model, opt_arrays, path)
    return model


def save_weights(model, filepath, overwrite: bool = True) -> None:
    path = os.fspath(filepath)
    blob = safetensors.dumps(_weight_arrays(model), _weights_metadata(model))

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(blob)

    _atomic_write(path, write, overwrite)


def load_weights(model, filepath) -> None:
    """Weights from `save_weights` (any version) or any safetensors file with rnnkit's keys."""
    path = os.fspath(filepath)
    with open(path, "rb") as f:
        arrays, metadata = safetensors.loads(f.read())
    version = int(metadata.get("format_version", 1)) if metadata.get("format") == FORMAT else 2
    _check_version(version, path)
    _assign(model, arrays, path, version)
