"""rnnkit's model file: a zip of config.json, metadata.json, model.safetensors and, for a
model compiled with one of rnnkit's optimizers, optimizer.safetensors.

Weights are keyed by position, as Keras keys its files: "<snake_case class>[_k]/<weight>"
("lstm/kernel", "lstm_1/kernel" for the second LSTM), so a file loads into any model built the
same way; the layers' own names are kept in the safetensors metadata. The optimizer file holds
"iterations" and each weight's slots under "<weight key>/<slot>" ("lstm/kernel/m").
Version 3 adds a SHA-256 checksum of every tensor ("checksums" in each safetensors file's
metadata, a JSON object keyed like the tensors), checked on load. Version 2 files (no
checksums) and version 1 files (weights keyed by layer name, no optimizer state) are still read.

Nothing is pickled. Files are written to a temporary name beside the target and renamed into
place, so an interrupted save never destroys an earlier file; a symlink is written through
(its target is replaced, the link stays), and a replaced file keeps its permission mode.

Loading checks before it allocates: a zip member's declared size against MAX_LOAD_BYTES before
it is inflated, and never inflated past that size; a safetensors header against its data. Every
problem with a file's content is one `ModelFileError` naming the file.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import secrets
import stat
import struct
import zipfile
import zlib

import numpy as np
import torch

from .. import optimizers
from . import safetensors
from .configs import compile_config, model_from_config
from .weights import keyed_weights, layer_keys

FORMAT = "rnnkit"
FORMAT_VERSION = 3

MAX_LOAD_BYTES = 1 << 30
"""The most one load may expand a model file to, in bytes (1 GiB): the members of a zip, or the
datasets read from a Keras HDF5 file. A file that declares more is refused before anything is
inflated. For a trusted larger file pass `max_bytes=` to `load_model` / `load_keras`, or raise
this value (`rnnkit.models.saving.MAX_LOAD_BYTES = 8 << 30`)."""

_CHUNK = 1 << 20  # how much of a zip member is inflated at a time
# What parsing a damaged file raises, from zipfile, zlib, json, h5py, numpy or the model built
# from its config; file-access errors (missing file, permission) are raised before parsing.
_DAMAGED = (ValueError, LookupError, TypeError, AttributeError, ArithmeticError, OSError,
            RuntimeError, EOFError, zipfile.BadZipFile, zlib.error, struct.error)


class ModelFileError(ValueError):
    """A model file that cannot be loaded: damaged or truncated, larger than MAX_LOAD_BYTES
    allows, or holding what rnnkit refuses to read. The message starts with the file's path;
    `path` is that path and `problem` the rest."""

    def __init__(self, path, problem: str):
        self.path, self.problem = os.fspath(path), problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.problem)


@contextlib.contextmanager
def reading(path):
    """Any error raised while a file's content is parsed, as a ModelFileError naming it."""
    try:
        yield
    except ModelFileError:
        raise
    except ValueError as err:  # rnnkit's own messages say what is wrong; the path is added
        raise ModelFileError(path, str(err)) from err
    except _DAMAGED as err:
        raise ModelFileError(path, f"cannot be read; the file is damaged or not what it claims "
                                   f"to be ({type(err).__name__}: {err}).") from err


class Budget:
    """What one load may still expand a file to; `take` refuses more, before it is read."""

    def __init__(self, path, max_bytes: int | None = None):
        self.path = path
        self.cap = self.left = MAX_LOAD_BYTES if max_bytes is None else int(max_bytes)

    def take(self, size: int, what: str) -> None:
        if size > self.left:
            raise ModelFileError(self.path, f"{what} declares {size:,} bytes, more than the "
                                 f"{self.cap:,} bytes a model file may expand to (MAX_LOAD_BYTES); "
                                 "for a trusted file pass max_bytes= or raise "
                                 "rnnkit.models.saving.MAX_LOAD_BYTES.")
        self.left -= size


class ZipArchive:
    """A zip model file whose members are inflated only after their declared sizes fit the
    budget, and never past those sizes (zipfile inflates a whole member at once otherwise)."""

    def __init__(self, file, budget: Budget):
        self.budget = budget
        self.zip = zipfile.ZipFile(file)
        self.names = set(self.zip.namelist())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()

    def read(self, name: str) -> bytearray:
        if name not in self.names:
            raise ValueError(f"has no {name}; its members are {sorted(self.names)}.")
        info = self.zip.getinfo(name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"{name} is compressed with zip method {info.compress_type}; model "
                             "files hold stored or deflated members only.")
        self.budget.take(info.file_size, name)
        data = bytearray(info.file_size)
        view, done = memoryview(data), 0
        with self.zip.open(info) as f:  # zipfile checks the CRC-32 once the last byte is read
            while done < len(data):
                n = f.readinto(view[done:done + _CHUNK])
                if not n:
                    raise ValueError(f"{name} ends after {done:,} of the {len(data):,} bytes "
                                     "its header declares; the file is truncated or damaged.")
                done += n
        return data


def parse_json(data, what: str) -> dict:
    """A JSON object from text or UTF-8 bytes; ValueError naming `what` otherwise."""
    try:
        value = json.loads(data if isinstance(data, str) else bytes(data).decode("utf-8"))
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f"{what} is not valid JSON ({err}).") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what}: expected a JSON object, got {type(value).__name__}.")
    return value


# -- tensors and their checksums ----------------------------------------------------------------
def _checksum(array: np.ndarray) -> str:
    return hashlib.sha256(safetensors.raw(array)).hexdigest()


def _tensor_metadata(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {"format": FORMAT, "format_version": str(FORMAT_VERSION),
            "checksums": json.dumps({k: _checksum(v) for k, v in arrays.items()})}


def _weight_arrays(model) -> dict[str, np.ndarray]:
    return {key: p.detach().cpu().numpy() for key, p in keyed_weights(model.layers).items()}


def _weights_metadata(model, arrays: dict[str, np.ndarray]) -> dict[str, str]:
    names = dict(zip(layer_keys(model.layers), (layer.name for layer in model.layers)))
    return {**_tensor_metadata(arrays), "layer_names": json.dumps(names)}


def _verify(arrays: dict[str, np.ndarray], metadata: dict[str, str], what: str,
            required: bool) -> None:
    """Every tensor against its checksum, wherever the file has them (version 3 must)."""
    if "checksums" not in metadata:
        if required:
            raise ValueError(f"{what} has no checksums, which a version {FORMAT_VERSION} file "
                             "holds; the file is damaged.")
        return
    sums = parse_json(metadata["checksums"], f"{what}'s checksums")
    if set(sums) != set(arrays):
        raise ValueError(f"{what}: the checksums are for {sorted(sums)}, the tensors are "
                         f"{sorted(arrays)}; the file is damaged.")
    for name, array in arrays.items():
        if _checksum(array) != sums[name]:
            raise ValueError(f"{what}: tensor {name!r} does not match its checksum; the file is "
                             "damaged.")


def _tensors(blob, what: str, version: int | None = None) -> tuple[dict[str, np.ndarray], int]:
    """(arrays, version) of a safetensors file, checked against their checksums. `version` is
    the model file's; None takes it from the file's own metadata (a file without rnnkit's
    metadata counts as version 2)."""
    try:
        arrays, metadata = safetensors.loads(blob)
    except ValueError as err:
        raise ValueError(f"{what} is damaged: {err}") from None
    if version is None:
        version = (_version(metadata.get("format_version", 1), f"{what}' metadata")
                   if metadata.get("format") == FORMAT else 2)
    _verify(arrays, metadata, what, required=version >= 3)
    return arrays, version


def _assets(model) -> dict[str, str]:
    """What layers keep outside their config and weights (a lookup layer's learned
    vocabulary, as Keras's asset files): "assets/<layer key>/<file name>" -> text."""
    return {f"assets/{key}/{name}": text
            for key, layer in zip(layer_keys(model.layers), model.layers)
            if hasattr(layer, "save_assets") for name, text in layer.save_assets().items()}


def _load_assets(model, assets: dict[str, str]) -> None:
    for key, layer in zip(layer_keys(model.layers), model.layers):
        prefix = f"assets/{key}/"
        found = {n[len(prefix):]: t for n, t in assets.items() if n.startswith(prefix)}
        if found and hasattr(layer, "load_assets"):
            layer.load_assets(found)


def _version(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdecimal():
        raise ValueError(f"{what}: expected a format version number, got {value!r}.")
    version = int(value)
    if not 1 <= version <= FORMAT_VERSION:
        raise ValueError(f"unsupported rnnkit format version {version}; this rnnkit reads "
                         f"versions 1 to {FORMAT_VERSION}.")
    return version


def _assign(model, arrays: dict[str, np.ndarray], version: int) -> None:
    expected = keyed_weights(model.layers, by_name=version < 2)
    missing = [k for k in expected if k not in arrays]
    unexpected = [k for k in arrays if k not in expected]
    if missing or unexpected:
        raise ValueError(f"the weights do not match the model {model.name!r}: missing "
                         f"{missing or 'none'}, unexpected {unexpected or 'none'}.")
    model.set_weights([arrays[k] for k in expected])


# -- optimizer state ----------------------------------------------------------------------------
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


def _restore_optimizer(model, arrays: dict[str, np.ndarray]) -> None:
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
            raise ValueError(f"optimizer state for {key!r}, which the model {model.name!r} does "
                             f"not have; its weights are {list(params)}.")
        p = params[key]
        if value.shape != tuple(p.shape):
            raise ValueError(f"optimizer slot {name!r}: expected shape {tuple(p.shape)} (the "
                             f"weight's), got {value.shape}.")
        opt.state[p][slot] = torch.as_tensor(value).to(dtype=p.dtype, device=p.device)


# -- writing ------------------------------------------------------------------------------------
def _atomic_write(path: str, write, overwrite: bool) -> None:
    """write(temporary path), then rename it over the target. Through a symlink the target is
    replaced and the link stays; a replaced file keeps its mode, a new one gets 0o666 less the
    umask, as open() would give it."""
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    target = os.path.realpath(path)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    tmp = os.path.join(os.path.dirname(target), f".rnnkit-{secrets.token_hex(8)}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask applies
    try:
        write(tmp)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _metadata() -> dict:
    from .. import __version__
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "rnnkit_version": __version__,
            "torch_version": torch.__version__,
            "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def _refuse_code(model) -> None:
    """A layer holding Python code (Lambda) says why no file can hold it; nothing is written."""
    for module in model.modules():
        reason = module.saving_refusal() if hasattr(module, "saving_refusal") else None
        if reason:
            raise ValueError(f"cannot save model {model.name!r}: {reason}")


def save_model(model, filepath, overwrite: bool = True) -> None:
    path = os.fspath(filepath)
    _refuse_code(model)
    if not model.built:
        raise ValueError(f"{model.name}: cannot save a model that is not built; give the first "
                         "layer input_shape= or call the model on data first.")
    config = {"class_name": type(model).__name__, "config": model.get_config(),
              "compile_config": compile_config(model)}
    if getattr(model, "_build_shape", None) is not None:  # a subclassed model rebuilds from it
        config["build_config"] = {"input_shape": model._build_shape}
    arrays = _weight_arrays(model)
    weights = safetensors.dumps(arrays, _weights_metadata(model, arrays))
    opt_arrays = _optimizer_arrays(model) if model.compiled else None
    assets = _assets(model)

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("metadata.json", json.dumps(_metadata(), indent=2))
            zf.writestr("config.json", json.dumps(config, indent=2))
            for name, text in assets.items():
                zf.writestr(name, text)
            zf.writestr("model.safetensors", weights)
            if opt_arrays is not None:
                zf.writestr("optimizer.safetensors",
                            safetensors.dumps(opt_arrays, _tensor_metadata(opt_arrays)))

    _atomic_write(path, write, overwrite)


# -- loading ------------------------------------------------------------------------------------
def _read_model_file(file, budget: Budget):
    """(version, config, weight arrays, optimizer arrays or None) from a model file."""
    if not zipfile.is_zipfile(file):
        raise ValueError("is not an rnnkit model file (a zip archive); was it written by "
                         "model.save()?")
    with ZipArchive(file, budget) as archive:
        if "model.safetensors" not in archive.names:
            hint = (" It looks like a Keras file; Keras files are read by rnnkit's Keras interop, "
                    "not load_model." if "model.weights.h5" in archive.names else "")
            raise ValueError(f"is not an rnnkit model file: it has no model.safetensors.{hint}")
        metadata = parse_json(archive.read("metadata.json"), "metadata.json")
        if metadata.get("format") != FORMAT:
            raise ValueError(f"metadata.json: expected format {FORMAT!r}, got "
                             f"{metadata.get('format')!r}.")
        version = _version(metadata.get("format_version", 1), "metadata.json")
        config = parse_json(archive.read("config.json"), "config.json")
        has_state = version >= 3 and (config.get("compile_config") or {}).get("optimizer")
        if has_state and "optimizer.safetensors" not in archive.names:
            raise ValueError("has no optimizer.safetensors, the state of the optimizer its "
                             "config.json names; the file is damaged.")
        arrays = _tensors(archive.read("model.safetensors"), "model.safetensors", version)[0]
        opt_arrays = (_tensors(archive.read("optimizer.safetensors"), "optimizer.safetensors",
                               version)[0]
                      if "optimizer.safetensors" in archive.names else None)
        config["assets"] = {n: archive.read(n).decode("utf-8") for n in sorted(archive.names)
                            if n.startswith("assets/")}
    return version, config, arrays, opt_arrays


def load_model(filepath, compile: bool = True, custom_objects=None, *,
               max_bytes: int | None = None):
    """A model saved by `model.save(path)`, with its weights and, when it was compiled with
    named or serializable objects, its optimizer (settings and state), loss and metrics.
    A subclassed model, or a graph with layers of your own, needs its classes in
    `custom_objects` ({"MyModel": MyModel}), as in Keras. A file Keras wrote (.keras or
    .h5) is read as `rnnkit.interop.load_keras` reads it.

    Raises ModelFileError (a ValueError) naming the file for anything wrong with its content,
    and refuses a file that expands to more than `max_bytes` (default MAX_LOAD_BYTES)."""
    path = os.fspath(filepath)
    if _is_keras_file(path):
        from ..interop.keras import load_keras
        return load_keras(path, compile=compile, max_bytes=max_bytes)
    with open(path, "rb") as file, reading(path):
        version, config, arrays, opt_arrays = _read_model_file(file, Budget(path, max_bytes))
        assets = config.pop("assets", {})
        model = model_from_config(config, custom_objects)
        _load_assets(model, assets)
        _assign(model, arrays, version)
        cc = config.get("compile_config")
        if compile and cc and cc.get("optimizer") and cc.get("loss"):
            model.compile(optimizer=cc["optimizer"], loss=cc["loss"],
                          loss_weights=cc.get("loss_weights"), metrics=cc.get("metrics") or None,
                          weighted_metrics=cc.get("weighted_metrics") or None)
            if opt_arrays is not None:
                _restore_optimizer(model, opt_arrays)
    return model


def _is_keras_file(path: str) -> bool:
    """A file Keras wrote: a .keras zip (it holds model.weights.h5) or an HDF5 file."""
    with open(path, "rb") as f:
        if f.read(8) == b"\x89HDF\r\n\x1a\n":
            return True
        f.seek(0)
        if not zipfile.is_zipfile(f):
            return False
        try:
            with zipfile.ZipFile(f) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
    return "model.weights.h5" in names and "model.safetensors" not in names


def save_weights(model, filepath, overwrite: bool = True) -> None:
    path = os.fspath(filepath)
    arrays = _weight_arrays(model)
    blob = safetensors.dumps(arrays, _weights_metadata(model, arrays))

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(blob)

    _atomic_write(path, write, overwrite)


def load_weights(model, filepath, *, max_bytes: int | None = None) -> None:
    """Weights from `save_weights` (any version) or any safetensors file with rnnkit's keys;
    checksums, where the file has them, are verified first."""
    path = os.fspath(filepath)
    with open(path, "rb") as file, reading(path):
        size = os.fstat(file.fileno()).st_size
        Budget(path, max_bytes).take(size, "the file")
        arrays, version = _tensors(file.read(size), "the weights")
        _assign(model, arrays, version)
