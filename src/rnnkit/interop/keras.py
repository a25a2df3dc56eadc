"""Keras model files → rnnkit `Sequential`, read with zipfile, json and h5py alone.

    load_keras("model.keras")   Keras 3: a zip of config.json, metadata.json, model.weights.h5
    load_keras("model.h5")      legacy HDF5 (Keras 3's model.save("x.h5"), tf.keras 2)

Where the weights are:
    .keras   layers/<key>/vars/<i> for most layers, layers/<key>/cell/vars/<i> for SimpleRNN,
             LSTM and GRU, .../forward_layer/... then .../backward_layer/... for Bidirectional,
             .../layer/... inside TimeDistributed; <key> is the snake_case class name, "_k"
             added for the k-th later layer of that class ("lstm", "lstm_1"), as rnnkit keys.
    .h5      model_weights/<layer name>/<weight name> for each name of the group's
             `weight_names` attribute, in Keras order (tf.keras 2 names end in ":0").
rnnkit stores Keras's layouts and orders, so arrays go into `set_weights` unchanged.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import zipfile

from .. import constraints, initializers, regularizers

SUPPORTED = ("InputLayer", "SimpleRNN", "LSTM", "GRU", "Dense", "Embedding", "Masking", "Dropout",
             "Activation", "Flatten", "RepeatVector", "TimeDistributed", "Bidirectional")
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


def _h5py():
    try:
        import h5py
    except ImportError as err:
        raise ImportError("rnnkit.interop.load_keras reads Keras files with h5py, which is not "
                          "installed; pip install rnnkit[keras]") from err
    return h5py


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


# -- reading the files --------------------------------------------------------------------------
def _read(path: str, h5py):
    """(model config record, compile config or None, weights source) of a Keras file."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "config.json" not in names or "model.weights.h5" not in names:
                hint = (" It is an rnnkit model file; load it with rnnkit.models.load_model."
                        if "model.safetensors" in names else "")
                raise ValueError(f"{path}: expected a Keras .keras archive (config.json and "
                                 f"model.weights.h5), got members {sorted(names)}.{hint}")
            record = json.loads(zf.read("config.json"))
            weights = h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")
        return record, record.get("compile_config"), _Keras3Weights(weights)
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path}: not a Keras model file; expected a .keras zip archive or a "
                         "legacy .h5 HDF5 file.")
    f = h5py.File(path, "r")
    if "model_config" not in f.attrs:
        f.close()
        raise ValueError(f"{path}: this HDF5 file holds no Keras model config (attribute "
                         "'model_config'); a weights-only file (save_weights) cannot be loaded "
                         "on its own.")
    training = f.attrs.get("training_config")
    compile_config = None
    if training is not None:
        training = json.loads(_text(training))
        compile_config = {**training, "optimizer": training.get("optimizer_config")}
    return json.loads(_text(f.attrs["model_config"])), compile_config, _LegacyWeights(f)


class _Keras3Weights:
    """Arrays under layers/<key>/: the layer's own vars, then those of its parts."""

    _PARTS = ("cell", "layer", "forward_layer", "backward_layer")

    def __init__(self, f):
        self.file = f

    def arrays(self, layer, key):
        group = self.file.get(f"layers/{key}")
        return [] if group is None else self._collect(group)

    def _collect(self, group):
        arrays = []
        if "vars" in group:
            arrays += [group["vars"][i][()] for i in sorted(group["vars"], key=int)]
        for part in self._PARTS:
            if part in group:
                arrays += self._collect(group[part])
        return arrays


class _LegacyWeights:
    """Arrays of model_weights/<layer name>, in the order of its weight_names attribute."""

    def __init__(self, f):
        self.file = f
        self.root = f["model_weights"] if "model_weights" in f else f

    def arrays(self, layer, key):
        group = self.root.get(layer.name)
        if group is None:
            return []
        return [group[_text(n)][()] for n in group.attrs.get("weight_names", [])]


# -- configs ------------------------------------------------------------------------------------
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
    cls = getattr(module, name, None)
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
    return value


def _layer(record):
    """A Keras layer record as rnnkit's `{"class_name", "config"}`."""
    cls, raw = record.get("class_name"), dict(record.get("config") or {})
    where = f"Keras layer {raw.get('name', '?')!r} ({cls})"
    if cls not in SUPPORTED:
        raise ValueError(f"{where}: rnnkit has no {cls} layer; load_keras supports "
                         f"{', '.join(SUPPORTED)}.")
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


def _chain(config, source):
    """The layer records of a functional model that is a plain chain: one input, and every layer
    called once, on the previous layer's output."""
    records = config.get("layers", [])
    names = [r.get("name", (r.get("config") or {}).get("name")) for r in records]

    def ends(value):  # Keras 3 ["name", 0, 0], Keras 2 [["name", 0, 0]]
        return [v[0] for v in value] if value and isinstance(value[0], list) else value[:1]

    def inbound(record):
        nodes = record.get("inbound_nodes") or []
        if len(nodes) != 1:
            return None
        node = nodes[0]
        if isinstance(node, dict):  # Keras 3: {"args": [tensor], "kwargs": {...}}
            extra = {k: v for k, v in (node.get("kwargs") or {}).items() if v not in (None, False)}
            args = node.get("args") or []
            if extra or len(args) != 1 or not isinstance(args[0], dict):
                return None
            return (args[0].get("config") or {}).get("keras_history", [None])[0]
        return node[0][0] if len(node) == 1 and not (node[0][3:] and node[0][3]) else None

    chain = bool(records) and records[0].get("class_name") == "InputLayer"
    chain = chain and ends(config.get("input_layers", [])) == names[:1]
    chain = chain and ends(config.get("output_layers", [])) == names[-1:]
    if not chain or any(inbound(r) != prev for r, prev in zip(records[1:], names)):
        raise ValueError(f"{source}: a Keras functional model loads only when it is a plain chain "
                         "of layers (one input, each layer applied once to the previous "
                         "layer's output); rebuild it as a Sequential model.")
    return records


def _model_records(record, source):
    cls, config = record.get("class_name"), record.get("config") or {}
    if cls == "Sequential":  # a plain list in configs of Keras before 2.3
        return config if isinstance(config, list) else config.get("layers", [])
    if cls in ("Functional", "Model"):
        return _chain(config, source)
    raise ValueError(f"{source}: expected a Keras Sequential model, got {cls!r}.")


# -- building -----------------------------------------------------------------------------------
def _build(record, source):
    from ..layers import deserialize
    from ..models.sequential import Sequential

    config = record.get("config") or {}
    config = config if isinstance(config, dict) else {}
    model = Sequential(name=config.get("name"))
    for layer_record in _model_records(record, source):
        translated = _layer(layer_record)
        c = translated["config"]
        try:
            model.add(deserialize(translated))
        except (TypeError, ValueError, NotImplementedError) as err:
            raise ValueError(f"{source}: cannot build Keras layer {c.get('name')!r} "
                             f"({translated['class_name']}) in rnnkit: {err}") from err
    shape = config.get("build_input_shape") or (record.get("build_config") or {}).get("input_shape")
    if not model.built and shape is not None:
        model.build(shape)
    if config.get("trainable") is False:
        for layer in model.layers:
            layer.trainable = False
    return model


def _load_weights(model, weights, source):
    from ..models.weights import layer_keys

    for layer, key in zip(model.layers, layer_keys(model.layers)):
        arrays = weights.arrays(layer, key)
        if not arrays and not layer.weights:
            continue
        if not layer.built:
            raise ValueError(f"{source}: layer {layer.name!r} is not built (the file gives no "
                             "input shape), so its weights cannot be loaded.")
        try:
            layer.set_weights(arrays)
        except ValueError as err:
            raise ValueError(f"{source}: the file's weights for layer {layer.name!r} do not fit "
                             f"it: {err}") from err


def _compile(model, config, source):
    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict):
        opt = dict(optimizer.get("config") or {})
        for key, harmless in _OPTIMIZER_NO_EFFECT.items():
            if key in opt:
                value = opt.pop(key)
                if harmless is not _ANY and value != harmless:
                    raise ValueError(f"{source}: optimizer option {key}={value!r} has no rnnkit "
                                     "equivalent; load with compile=False and compile yourself.")
        if isinstance(opt.get("learning_rate"), dict):
            raise ValueError(f"{source}: learning-rate schedules are not loaded; load with "
                             "compile=False and compile yourself.")
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
                      metrics=config.get("metrics") or None)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{source}: cannot compile as the file says ({err}); load with "
                         "compile=False and compile yourself.") from err


def load_keras(path, compile: bool = False):
    """A Keras model file as an rnnkit `Sequential` with the same layers, settings and weights.

    Args:
        path: a Keras 3 `.keras` file or a legacy `.h5` file (Keras 3 or tf.keras 2) holding a
            Sequential model, or a functional model that is a plain chain of layers.
        compile: also compile with the file's optimizer settings (not its state), loss and
            metrics.

    Reads the files with zipfile, json and h5py only: neither Keras nor TensorFlow is needed.
    Layers: InputLayer, SimpleRNN, LSTM, GRU, Dense, Embedding, Masking, Dropout, Activation,
    Flatten, RepeatVector, TimeDistributed, Bidirectional; anything else raises ValueError.

    >>> model = load_keras("lstm.keras")  # doctest: +SKIP
    >>> model.predict(x)                  # doctest: +SKIP
    """
    h5py = _h5py()
    source = os.fspath(path)
    if not os.path.isfile(source):
        raise FileNotFoundError(f"{source}: no such file.")
    record, compile_config, weights = _read(source, h5py)
    try:
        model = _build(record, source)
        _load_weights(model, weights, source)
    finally:
        weights.file.close()
    if compile and compile_config and compile_config.get("loss") is not None:
        _compile(model, compile_config, source)
    return model
