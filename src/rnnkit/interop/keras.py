"""Keras model files → rnnkit `Sequential` or Functional `Model`, read with zipfile, json and
h5py alone.

    load_keras("model.keras")   Keras 3: a zip of config.json, metadata.json, model.weights.h5
    load_keras("model.h5")      legacy HDF5 (Keras 3's model.save("x.h5"), tf.keras 2)

Where the weights are:
    .keras   layers/<key>/vars/<i> for most layers, layers/<key>/cell/vars/<i> for SimpleRNN,
             LSTM, GRU and RNN over one cell, .../cell/cells/<cell key>/vars/<i> for each cell
             of a StackedRNNCells, .../forward_layer/... then .../backward_layer/... for
             Bidirectional, .../layer/... inside TimeDistributed; <key> is the snake_case class
             name, "_k" added for the k-th later layer of that class ("lstm", "lstm_1"), as
             rnnkit keys (and cells: "gru_cell", "lstm_cell", "gru_cell_1").
    .h5      model_weights/<layer name>/<weight name> for each name of the group's
             `weight_names` attribute, in Keras order (tf.keras 2 names end in ":0").
rnnkit stores Keras's layouts and orders, so arrays go into `set_weights` unchanged.

A file is data, never code: Lambda layers and custom objects (a module outside Keras, or a
registered_name of a custom class or function) are refused, by name. So is any HDF5 object not
stored in the file itself (external links, soft links, external storage, virtual datasets) and
any filter HDF5 would load from a plugin. Sizes are checked against the load limit
(`rnnkit.models.saving.MAX_LOAD_BYTES`) before anything is inflated or read, and every problem
with a file's content is one `ModelFileError` (a ValueError) naming the file.
"""

from __future__ import annotations

import inspect
import os

from .. import constraints, initializers, regularizers
from ..layers import _CLASSES
from ..models import saving
from ._keras_files import read, require_h5py

CELLS = ("SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells")  # an RNN layer's cell
# Every layer class rnnkit has, under Keras's name, but Lambda: refused before, by _refuse_code.
# Text layers keep their vocabulary in a .keras file's assets, which load_keras does not read.
_TEXT_LAYERS = ("TextVectorization", "StringLookup", "IntegerLookup")
SUPPORTED = tuple(name for name in _CLASSES if name not in (*CELLS, "Lambda", *_TEXT_LAYERS))
_WRAPPED_KEYS = ("layer", "backward_layer")
_RECORD_ONLY = ("module", "registered_name", "build_config", "compile_config", "shared_object_id")
_ANY = object()
# Keras config keys rnnkit has no argument for, with the values under which they change nothing.
_NO_EFFECT = {
    "unroll": _ANY, "implementation": _ANY, "use_cudnn": _ANY,  # how the loop runs, not what
    "input_length": _ANY,  # Keras 2 Embedding: a shape hint only
    "lora_alpha": _ANY,  # meaningful only with lora_rank, which is refused below
    "time_major": False, "sparse": False, "ragged": False, "optional": False,
    "quantization_config": None, "lora_rank": None,
}
_OPTIMIZER_NO_EFFECT = {"use_ema": False, "ema_momentum": _ANY, "ema_overwrite_frequency": _ANY,
                        "loss_scale_factor": None, "gradient_accumulation_steps": None,
                        "jit_compile": _ANY, "is_legacy_optimizer": False, "decay": 0.0}
_FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
_KERAS_MODULES = ("keras", "tf_keras")  # the top-level packages of Keras's own objects
_LAYER_KEYS = ("layers", "layer", "forward_layer", "backward_layer", "cell", "cells")


def _refuse_code(value, where: str = "the model", key=None) -> None:
    """Lambda layers, Python lambdas and custom objects anywhere in a config: their code is in the
    file or outside Keras, and load_keras never runs or imports it."""
    if isinstance(value, list):
        for item in value:
            _refuse_code(item, where, key)
        return
    if not isinstance(value, dict):
        return
    cls, config = value.get("class_name"), value.get("config")
    if cls is not None:
        if key in _LAYER_KEYS:
            name = config.get("name") if isinstance(config, dict) else None
            where = f"Keras layer {name!r} ({cls})"
        module, registered = value.get("module"), value.get("registered_name")
        if cls in ("Lambda", "__lambda__"):
            what = "a Lambda layer" if cls == "Lambda" else "a Python lambda"
            raise ValueError(f"{where}: {what} keeps Python code in the file, and load_keras never "
                             "runs code from a file; rebuild the model without it.")
        if ((module is not None and str(module).split(".")[0] not in _KERAS_MODULES)
                or registered not in (None, cls, config)):
            raise ValueError(f"{where}: {cls!r} is a custom object (module {module!r}, "
                             f"registered_name {registered!r}); load_keras builds only Keras's own "
                             "layers and objects and never imports code a file names.")
    for k, v in value.items():
        if k != "compile_config":  # read only by compile=True, and checked then
            _refuse_code(v, where, k)


def _dtype(value, where):
    if isinstance(value, dict):  # DTypePolicy / Policy
        value = (value.get("config") or {}).get("name")
    if isinstance(value, str) and value.startswith("mixed_"):
        raise ValueError(f"{where}: the dtype policy {value!r} has no rnnkit equivalent; rnnkit "
                         f"runs a layer in one dtype, one of {', '.join(_FLOAT_DTYPES)}.")
    return value


def _keras_object(value, module, kind, where):
    """An initializer / regularizer / constraint record with its Keras-only entries removed:
    entries the rnnkit class has no argument for are dropped when None, refused otherwise."""
    if not isinstance(value, dict) or "class_name" not in value:
        return value
    name, config = value["class_name"], dict(value.get("config") or {})
    cls = getattr(module, name, None) if isinstance(name, str) and name[:1] != "_" else None
    if not isinstance(cls, type):
        raise ValueError(f"{where}: the {kind} {name!r} has no rnnkit equivalent.")
    accepted = inspect.signature(cls).parameters
    for key in [k for k in config if k not in accepted]:
        if config[key] is not None:
            raise ValueError(f"{where}: {kind} {name} option {key}={config[key]!r} has no rnnkit "
                             "equivalent.")
        del config[key]
    return {"class_name": name, "config": config}


def _activation(value):
    if isinstance(value, dict) and isinstance(value.get("config"), str):  # a serialized function
        return value["config"]
    return value


def _value(key, value, where):
    if key == "dtype":
        return _dtype(value, where)
    if key == "activation" or key == "recurrent_activation":
        return _activation(value)
    for suffix, module in (("_initializer", initializers), ("_regularizer", regularizers),
                           ("_constraint", constraints)):
        if key.endswith(suffix):
            return _keras_object(value, module, suffix[1:], where)
    if key in _WRAPPED_KEYS and value is not None:
        return _layer(value)
    if key == "cell":
        return _layer(value, CELLS)
    if key == "cells" and isinstance(value, list):
        return [_layer(cell, CELLS) for cell in value]
    return value


def _layer(record, supported=SUPPORTED):
    """A Keras layer (or, with supported=CELLS, an RNN cell) record as rnnkit's
    `{"class_name", "config"}`."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a Keras layer record ({{'class_name', 'config'}}), got "
                         f"{type(record).__name__}.")
    cls, raw = record.get("class_name"), dict(record.get("config") or {})
    where = f"Keras layer {raw.get('name', '?')!r} ({cls})"
    if cls in _TEXT_LAYERS:
        raise ValueError(f"{where}: load_keras does not read Keras's text layers (their "
                         "vocabulary is in the file's assets); build the layer in rnnkit and "
                         "adapt it, or pass vocabulary=.")
    if cls not in supported:
        what = "cell" if supported is CELLS else "layer"
        raise ValueError(f"{where}: rnnkit has no {cls} {what}; load_keras supports "
                         f"{', '.join(supported)}.")
    config = {}
    for key, value in raw.items():
        if key in _RECORD_ONLY:
            continue
        if key in _NO_EFFECT:
            if _NO_EFFECT[key] is not _ANY and value != _NO_EFFECT[key]:
                raise ValueError(f"{where}: {key}={value!r} has no rnnkit equivalent; only "
                                 f"{_NO_EFFECT[key]!r} can be loaded.")
            continue
        config[key] = _value(key, value, where)
    if cls == "InputLayer" and "batch_input_shape" in config:  # Keras 2
        config["batch_shape"] = config.pop("batch_input_shape")
    return {"class_name": cls, "config": config}


def _model_records(record):
    cls, config = record.get("class_name"), record.get("config") or {}
    if cls == "Sequential":  # a plain list in configs of Keras before 2.3
        return config if isinstance(config, list) else config.get("layers", [])
    raise ValueError(f"expected a Keras Sequential or Functional model, got {cls!r}.")


# -- building -----------------------------------------------------------------------------------
def _build(record):
    from ..layers import deserialize
    from ..models.sequential import Sequential

    config = record.get("config") or {}
    config = config if isinstance(config, dict) else {}
    if record.get("class_name") in ("Functional", "Model"):
        return _build_graph(config)
    model = Sequential(name=config.get("name"))
    for layer_record in _model_records(record):
        translated = _layer(layer_record)
        c = translated["config"]
        try:
            model.add(deserialize(translated))
        except (TypeError, ValueError, NotImplementedError) as err:
            raise ValueError(f"cannot build Keras layer {c.get('name')!r} "
                             f"({translated['class_name']}) in rnnkit: {err}") from err
    shape = config.get("build_input_shape") or (record.get("build_config") or {}).get("input_shape")
    if not model.built and shape is not None:
        model.build(shape)
    if config.get("trainable") is False:
        for layer in model.layers:
            layer.trainable = False
    return model


def _build_graph(config):
    """A Keras Functional model: its layers translated one by one (as for a Sequential), its
    calls replayed in the file's order (rnnkit.models.functional_config)."""
    from ..models.functional import Functional
    from ..models.functional_config import functional_from_config

    try:
        return functional_from_config(Functional, config, keras=True)
    except (TypeError, KeyError, IndexError, NotImplementedError) as err:
        raise ValueError(f"cannot build the Keras functional model {config.get('name')!r} in "
                         f"rnnkit: {err}") from err


def _load_weights(model, weights):
    from ..models.weights import layer_keys

    for layer, key in zip(model.layers, layer_keys(model.layers)):
        arrays = weights.arrays(layer, key)
        if not arrays and not layer.weights:
            continue
        if not layer.built:
            raise ValueError(f"layer {layer.name!r} is not built (the file gives no "
                             "input shape), so its weights cannot be loaded.")
        try:
            layer.set_weights(arrays)
        except ValueError as err:
            raise ValueError(f"the file's weights for layer {layer.name!r} do not fit "
                             f"it: {err}") from err


def _compile(model, config):
    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict):
        opt = dict(optimizer.get("config") or {})
        for key, harmless in _OPTIMIZER_NO_EFFECT.items():
            if key in opt:
                value = opt.pop(key)
                if harmless is not _ANY and value != harmless:
                    raise ValueError(f"optimizer option {key}={value!r} has no rnnkit "
                                     "equivalent; load with compile=False and compile yourself.")
        name = str(optimizer.get("class_name")).removeprefix("Custom>")  # tf.keras 2.11+
        optimizer = {"class_name": name, "config": opt}
    loss = config.get("loss")
    if isinstance(loss, dict):
        cfg = {k: v for k, v in (loss.get("config") or {}).items()
               if not (k == "reduction" and v in ("sum_over_batch_size", "auto"))
               and not (k == "dtype" and v is None)}
        loss = {"class_name": loss.get("class_name"), "config": cfg}
    try:
        model.compile(optimizer=optimizer or "rmsprop", loss=loss,
                      metrics=config.get("metrics") or None,
                      weighted_metrics=config.get("weighted_metrics") or None)
    except (TypeError, ValueError) as err:
        raise ValueError(f"cannot compile as the file says ({err}); load with "
                         "compile=False and compile yourself.") from err


def load_keras(path, compile: bool = False, *, max_bytes: int | None = None):
    """A Keras model file as an rnnkit `Sequential` or Functional `Model` with the same layers,
    graph, settings and weights.

    Args:
        path: a Keras 3 `.keras` file or a legacy `.h5` file (Keras 3 or tf.keras 2) holding a
            Sequential or a Functional model (any graph of the layers below).
        compile: also compile with the file's optimizer settings (not its state), loss and
            metrics.
        max_bytes: the most the file may expand to (the .keras archive's members, and the
            weights read); default `rnnkit.models.saving.MAX_LOAD_BYTES` (1 GiB).

    Reads the files with zipfile, json and h5py only: neither Keras nor TensorFlow is needed.
    Layers: every class of `rnnkit.layers` under its Keras name (`SUPPORTED`): InputLayer,
    SimpleRNN, LSTM, GRU, RNN (over SimpleRNNCell, LSTMCell, GRUCell or StackedRNNCells of
    them), Dense, Embedding, Masking, Dropout, Activation, Flatten, RepeatVector,
    TimeDistributed, Bidirectional, and the merging, pooling, Conv1D, Reshape, Permute,
    normalization, noise, activation and attention layers. Anything else, a Lambda layer, a
    custom object, or HDF5 data kept outside the file raises `ModelFileError` (a ValueError)
    naming the file and what was refused; so does a damaged file.

    >>> model = load_keras("lstm.keras")  # doctest: +SKIP
    >>> model.predict(x)                  # doctest: +SKIP
    """
    h5py = require_h5py()
    source = os.fspath(path)
    if not os.path.isfile(source):
        raise FileNotFoundError(f"{source}: no such file.")
    with open(source, "rb") as file, saving.reading(source):
        record, compile_config, weights = read(file, source, h5py, max_bytes)
        try:
            _refuse_code(record)
            model = _build(record)
            _load_weights(model, weights)
        finally:
            weights.close()
        if compile and compile_config and compile_config.get("loss") is not None:
            _refuse_code(compile_config, "the compile config")
            _compile(model, compile_config)
    return model
