"""Generate golden fixtures for the Functional API, Model subclassing and RNN cells with real
Keras 3 (JAX backend).

The tests (tests/test_keras_functional.py) rebuild every model below with rnnkit, set the weights
stored here and compare summaries, predictions, fit histories, evaluate results, configs, layer
names and error messages, without Keras or JAX installed when they run.

How to run (from the repository root, in an environment that has ``keras``, ``jax``, ``jaxlib``,
``numpy`` and ``h5py`` installed -- no torch, no TensorFlow needed)::

    KERAS_BACKEND=jax /path/to/kerasenv/bin/python tests/data/make_keras_functional.py

e.g. with a venv created by
``python3 -m venv kerasenv && kerasenv/bin/pip install keras==3.15.1 jax jaxlib numpy h5py``.

Outputs, written next to this script:

* ``keras_functional.npz``  -- float32 arrays (``np.savez_compressed``).
* ``keras_functional.json`` -- versions, and per case: ``model.summary()`` texts, ``get_config()``,
  layer / input / output names, weight paths and shapes, fit histories, evaluate results,
  error types and messages, ...
* ``keras_files/functional_models/<case>.keras`` (zip members rewritten with deflate, byte for
  byte what Keras wrote) and ``chain.h5`` (``model.save("x.h5")``, Keras 3's legacy format);
  ``unknown_layer.keras`` is ``chain.keras`` with a layer class Keras does not know. (Re-running
  changes only ``date_saved`` and Keras's ``shared_object_id`` values inside them.)
  (A folder, so that tests/test_interop_keras.py, which takes every ``*.keras``/``*.h5`` directly
  in ``keras_files/`` as one of its own cases, does not see them.)

Key naming in the npz (``<case>`` is a key of the JSON's ``cases``):

* ``<case>/x{k}``: the k-th model input (``model.inputs`` order), ``<case>/y{k}``: the k-th
  target (``model.outputs`` order), ``<case>/val_x{k}``, ``<case>/val_y{k}``: validation data;
* ``<case>/w{i}``: the weights set before anything runs (``get_weights`` order and shapes);
* ``<case>/predict{k}``: the k-th output of ``model.predict(x)`` with those weights (for dict
  outputs, the JSON's ``predict_keys`` gives the order);
* ``<case>/<run>/w_fit{i}``: weights after the fit run ``<run>`` (``fits`` in the JSON);
  ``<case>/<run>/predict{k}``: predictions after it;
* seq2seq: ``seq2seq/encoder/state{j}``, ``seq2seq/decoder/out{k}`` (inference models, with the
  trained weights), ``seq2seq/greedy/probs`` (one row per decoded step);
* cells: ``cells/<case>/out{k}`` (an RNN layer's outputs, return_state giving several, nested
  states flattened in order: the JSON's ``output_structure`` has the nesting),
  ``step/<cell>/x``, ``step/<cell>/h0_{j}``, ``step/<cell>/out``, ``step/<cell>/state{j}``;
* files: ``files/<stem>/x{k}`` and ``files/<stem>/y{k}`` (``predict`` of the saved model).

Everything is seeded (``numpy.random.RandomState`` per case from its name, weights uniform in
[-0.5, 0.5], plus ``keras.utils.set_random_seed(0)`` and ``keras.backend.clear_session()`` before
each model so layer names start from scratch), so re-running gives the same arrays.
"""

import io
import json
import os
import re
import shutil
import sys
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

import jax  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_fixture_common import case_rng, jsonable, summary_text  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NPZ_PATH = os.path.join(HERE, "keras_functional.npz")
JSON_PATH = os.path.join(HERE, "keras_functional.json")
FILES = os.path.join(HERE, "keras_files", "functional_models")

# model.summary() sizes its table from the terminal (shutil.get_terminal_size() and rich's
# console, both honour COLUMNS): 120 gives Keras's default widths (88 columns for a
# sequential-like model, 108 with "Connected to"), 80 a narrower table (76).
SUMMARY_COLUMNS = ("120", "80")
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Which steps are real (1) in each row of a batch of 3 x 5.
MASK_PATTERN = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 1, 0, 1, 1]]

ARRAYS = {}
FITTED = {}  # (case, run) -> the model fit_run trained


def put(key, value):
    """Store an array in the npz (as float32)."""
    assert key not in ARRAYS, key
    ARRAYS[key] = np.asarray(value, dtype=np.float32)


def to_numpy(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)


def as_list(structure):
    if isinstance(structure, dict):
        return list(structure.values())
    if isinstance(structure, (list, tuple)):
        return list(structure)
    return [structure]


# --------------------------------------------------------------------------
# What every case records
# --------------------------------------------------------------------------


def summaries(model, **kwargs):
    """{"120": text, "80": text} at the default line_length, and "line_length_120"."""
    out = {columns: summary_text(model, columns, **kwargs) for columns in SUMMARY_COLUMNS}
    out["line_length_120"] = summary_text(model, "120", line_length=120, **kwargs)
    return out


def describe(model, all_widths=True):
    """Names, weights, config and summaries of a built model (only the 120-column summary
    unless all_widths)."""
    info = {
        "class": type(model).__name__,
        "name": model.name,
        "layer_names": [layer.name for layer in model.layers],
        "layer_classes": [type(layer).__name__ for layer in model.layers],
        "layer_params": [layer.count_params() for layer in model.layers],
        "total_params": model.count_params(),
        "weight_paths": [v.path for v in model.weights],
        "weight_shapes": [list(v.shape) for v in model.weights],
        "summary": (summaries(model) if all_widths
                    else {SUMMARY_COLUMNS[0]: summary_text(model, SUMMARY_COLUMNS[0])}),
    }
    # Keras prints a graph as it prints a Sequential (no "Connected to" column, 88 wide) when
    # each depth has one node with one input tensor and no layer is called twice.
    info["sequential_like_summary"] = "Connected to" not in info["summary"][SUMMARY_COLUMNS[0]]
    if isinstance(model, keras.Model) and hasattr(model, "_nodes_by_depth"):
        # The symbolic tensors' own names: an unnamed Input's is "keras_tensor[_k]", counted over
        # every tensor made in the session, not its layer's name.
        info["input_tensor_names"] = [t.name for t in model.inputs]
        info["output_names"] = list(model.output_names)
        info["input_shapes"] = [list(t.shape) for t in model.inputs]
        info["output_shapes"] = [list(t.shape) for t in model.outputs]
        info["config"] = jsonable(model.get_config())
    return info


def set_uniform(prefix, model, rng, scale=0.5):
    weights = [rng.uniform(-scale, scale, size=w.shape).astype(np.float32)
               for w in model.get_weights()]
    model.set_weights(weights)
    for i, w in enumerate(weights):
        put(f"{prefix}/w{i}", w)
    return weights


def put_list(prefix, arrays):
    for k, a in enumerate(arrays):
        put(f"{prefix}{k}", to_numpy(a))


def record_predict(prefix, model, x, batch_size=None):
    pred = model.predict(x, verbose=0, batch_size=batch_size)
    keys = list(pred) if isinstance(pred, dict) else None
    put_list(f"{prefix}/predict", as_list(pred))
    return {"predict_type": type(pred).__name__, "predict_keys": keys,
            "predict_shapes": [list(np.shape(p)) for p in as_list(pred)]}


def fit_run(case, run, build, w_init, compile_kwargs, x, y, val, *, epochs=3, batch_size=2,
            describe_compile):
    """On a new model from build() with the weights w_init (in a fresh session, so with the same
    layer names; a second compile of one model would keep the first one's metrics): compile,
    fit(shuffle=False, validation_data), evaluate (list and dict), predict."""
    fresh()
    model = build()
    model.set_weights(w_init)
    FITTED[case, run] = model
    model.compile(**compile_kwargs)
    history = model.fit(x, y, validation_data=val, epochs=epochs, batch_size=batch_size,
                        shuffle=False, verbose=0)
    for i, w in enumerate(model.get_weights()):
        put(f"{case}/{run}/w_fit{i}", w)
    pred = model.predict(x, verbose=0, batch_size=batch_size)
    put_list(f"{case}/{run}/predict", as_list(pred))
    return {
        "compile": describe_compile,
        "fit_kwargs": {"epochs": epochs, "batch_size": batch_size, "shuffle": False,
                       "verbose": 0, "validation_data": True},
        "history": jsonable(history.history),
        "history_keys": list(history.history),
        "params": jsonable(history.params),
        "metrics_names": list(model.metrics_names),
        "evaluate_list": jsonable(model.evaluate(x, y, batch_size=batch_size, verbose=0)),
        "evaluate_dict": jsonable(model.evaluate(x, y, batch_size=batch_size, verbose=0,
                                                 return_dict=True)),
        "evaluate_kwargs": {"batch_size": batch_size},
    }


# --------------------------------------------------------------------------
# a. Single input, single output; linear graphs (sequential-like summaries)
# --------------------------------------------------------------------------


def chain_model():
    inputs = keras.Input((None, 3))
    x = layers.LSTM(4, return_sequences=True)(inputs)
    x = layers.GRU(3)(x)
    outputs = layers.Dense(2)(x)
    return keras.Model(inputs, outputs)


def make_chain():
    fresh()
    model = chain_model()
    rng = case_rng("chain")
    w = set_uniform("chain", model, rng)
    x = rng.standard_normal((6, 5, 3)).astype(np.float32)
    y = rng.standard_normal((6, 2)).astype(np.float32)
    vx = rng.standard_normal((4, 5, 3)).astype(np.float32)
    vy = rng.standard_normal((4, 2)).astype(np.float32)
    for key, a in (("x0", x), ("y0", y), ("val_x0", vx), ("val_y0", vy)):
        put(f"chain/{key}", a)
    out = describe(model)
    out.update(record_predict("chain", model, x))
    out["fits"] = {
        "sgd": fit_run("chain", "sgd", chain_model, w,
                       dict(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse",
                            metrics=["mae"]),
                       x, y, (vx, vy),
                       describe_compile={"optimizer": ["SGD", {"learning_rate": 0.1}],
                                         "loss": "mse", "metrics": ["mae"]}),
        "adam": fit_run("chain", "adam", chain_model, w,
                        dict(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                             loss="mean_absolute_error", metrics=["mse", "mae"]),
                        x, y, (vx, vy), epochs=2, batch_size=4,
                        describe_compile={"optimizer": ["Adam", {"learning_rate": 0.01}],
                                          "loss": "mean_absolute_error",
                                          "metrics": ["mse", "mae"]}),
    }
    return out


def chain_misc_model():
    inputs = keras.Input((5, 2), name="frames")
    x = layers.Masking(mask_value=0.0)(inputs)
    x = layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True))(x)
    x = layers.TimeDistributed(layers.Dense(2))(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Activation("tanh")(x)
    x = layers.Flatten()(x)
    x = layers.RepeatVector(2)(x)
    x = layers.GRU(2, reset_after=False)(x)
    outputs = layers.Dense(1, activation="sigmoid", name="prob")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="chain_misc")


def make_chain_misc():
    """Every other layer rnnkit has, in a chain (predict only: Dropout is the identity there)."""
    fresh()
    model = chain_misc_model()
    rng = case_rng("chain_misc")
    set_uniform("chain_misc", model, rng)
    x = (rng.standard_normal((3, 5, 2)) * np.array(MASK_PATTERN)[..., None]).astype(np.float32)
    put("chain_misc/x0", x)
    out = describe(model)
    out.update(record_predict("chain_misc", model, x))
    return out


def make_state_outputs():
    """One LSTM(return_state=True) whose three outputs are the model's: still a linear graph."""
    fresh()
    inputs = keras.Input((4, 2))
    seq, h, c = layers.LSTM(3, return_sequences=True, return_state=True)(inputs)
    model = keras.Model(inputs, [seq, h, c])
    rng = case_rng("state_outputs")
    set_uniform("state_outputs", model, rng)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    put("state_outputs/x0", x)
    out = describe(model)
    out.update(record_predict("state_outputs", model, x))
    return out


# --------------------------------------------------------------------------
# b. Several inputs and outputs: lists and dicts
# --------------------------------------------------------------------------


def multi_model(output_names=(None, None)):
    seq_a = keras.Input((None, 3), name="seq_a")
    seq_b = keras.Input((None, 2), name="seq_b")
    h_a = layers.LSTM(4)(seq_a)
    h_b = layers.GRU(3)(seq_b)
    out_a = layers.Dense(2, name=output_names[0])(h_a)
    out_b = layers.Dense(1, name=output_names[1])(h_b)
    return keras.Model(inputs=[seq_a, seq_b], outputs=[out_a, out_b])


def multi_data(rng):
    def draw(n):
        return [rng.standard_normal((n, 5, 3)).astype(np.float32),
                rng.standard_normal((n, 4, 2)).astype(np.float32)], \
               [rng.standard_normal((n, 2)).astype(np.float32),
                rng.standard_normal((n, 1)).astype(np.float32)]
    (x, y), (vx, vy) = draw(6), draw(4)
    return x, y, vx, vy


def put_data(case, x, y, vx, vy):
    for tag, arrays in (("x", x), ("y", y), ("val_x", vx), ("val_y", vy)):
        for k, a in enumerate(arrays):
            put(f"{case}/{tag}{k}", a)


def make_multi_list():
    """Default output names (dense, dense_1); loss, loss_weights and metrics as lists."""
    fresh()
    model = multi_model()
    rng = case_rng("multi_list")
    w = set_uniform("multi_list", model, rng)
    x, y, vx, vy = multi_data(rng)
    put_data("multi_list", x, y, vx, vy)
    out = describe(model)
    out.update(record_predict("multi_list", model, x))
    sgd = ["SGD", {"learning_rate": 0.05}]
    out["fits"] = {
        "lists": fit_run(
            "multi_list", "lists", multi_model, w,
            dict(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss=["mse", "mae"],
                 loss_weights=[1.0, 0.5], metrics=[["mae"], ["mse", "mae"]]),
            x, y, (vx, vy),
            describe_compile={"optimizer": sgd, "loss": ["mse", "mae"], "loss_weights": [1.0, 0.5],
                              "metrics": [["mae"], ["mse", "mae"]]}),
        # One loss for every output (one metric list for both is refused: see errors).
        "shared_loss": fit_run(
            "multi_list", "shared_loss", multi_model, w,
            dict(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse"),
            x, y, (vx, vy), epochs=2,
            describe_compile={"optimizer": sgd, "loss": "mse"}),
    }
    return out


def make_multi_dict():
    """Named outputs (score, level); loss, loss_weights and metrics as dicts; x and y as dicts."""
    fresh()
    model = multi_model(("score", "level"))
    rng = case_rng("multi_dict")
    w = set_uniform("multi_dict", model, rng)
    x, y, vx, vy = multi_data(rng)
    put_data("multi_dict", x, y, vx, vy)

    def named(xs, ys):
        return {"seq_a": xs[0], "seq_b": xs[1]}, {"score": ys[0], "level": ys[1]}

    xd, yd = named(x, y)
    out = describe(model)
    out.update(record_predict("multi_dict", model, xd))
    out["x_keys"], out["y_keys"] = list(xd), list(yd)
    adam = ["Adam", {"learning_rate": 0.01}]
    out["fits"] = {
        "dicts": fit_run(
            "multi_dict", "dicts", lambda: multi_model(("score", "level")), w,
            dict(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                 loss={"score": "mse", "level": "mae"},
                 loss_weights={"score": 0.3, "level": 2.0},
                 metrics={"score": ["mae"], "level": ["mse"]}),
            xd, yd, named(vx, vy),
            describe_compile={"optimizer": adam, "loss": {"score": "mse", "level": "mae"},
                              "loss_weights": {"score": 0.3, "level": 2.0},
                              "metrics": {"score": ["mae"], "level": ["mse"]}}),
        # The same compile with x and y given as lists.
        "dicts_list_data": fit_run(
            "multi_dict", "dicts_list_data", lambda: multi_model(("score", "level")), w,
            dict(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                 loss={"score": "mse", "level": "mae"},
                 loss_weights={"score": 0.3, "level": 2.0},
                 metrics={"score": ["mae"], "level": ["mse"]}),
            x, y, (vx, vy), epochs=2,
            describe_compile={"optimizer": adam, "loss": {"score": "mse", "level": "mae"},
                              "loss_weights": {"score": 0.3, "level": 2.0},
                              "metrics": {"score": ["mae"], "level": ["mse"]}}),
    }
    return out


def multi_dict_io_model():
    seq_a = keras.Input((None, 3), name="seq_a")
    seq_b = keras.Input((None, 2), name="seq_b")
    out_a = layers.Dense(2)(layers.LSTM(4)(seq_a))
    out_b = layers.Dense(1)(layers.GRU(3)(seq_b))
    return keras.Model(inputs={"seq_a": seq_a, "seq_b": seq_b},
                       outputs={"first": out_a, "second": out_b})


def make_multi_dict_io():
    """Model(inputs=dict, outputs=dict): predict returns a dict keyed as the outputs."""
    fresh()
    model = multi_dict_io_model()
    rng = case_rng("multi_dict_io")
    w = set_uniform("multi_dict_io", model, rng)
    x, y, vx, vy = multi_data(rng)
    put_data("multi_dict_io", x, y, vx, vy)

    def named(xs, ys):
        return {"seq_a": xs[0], "seq_b": xs[1]}, {"first": ys[0], "second": ys[1]}

    xd, yd = named(x, y)
    out = describe(model)
    out.update(record_predict("multi_dict_io", model, xd))
    out["fits"] = {
        "dicts": fit_run(
            "multi_dict_io", "dicts", multi_dict_io_model, w,
            dict(optimizer=keras.optimizers.SGD(learning_rate=0.05),
                 loss={"first": "mse", "second": "mse"}, metrics={"second": ["mae"]}),
            xd, yd, named(vx, vy), epochs=2,
            describe_compile={"optimizer": ["SGD", {"learning_rate": 0.05}],
                              "loss": {"first": "mse", "second": "mse"},
                              "metrics": {"second": ["mae"]}}),
    }
    return out


# --------------------------------------------------------------------------
# c. A shared LSTM and a shared Dense called on two inputs
# --------------------------------------------------------------------------


def shared_model():
    left = keras.Input((None, 3), name="left")
    right = keras.Input((None, 3), name="right")
    lstm = layers.LSTM(4)
    dense = layers.Dense(2)
    out_left = dense(lstm(left))
    out_right = dense(lstm(right))
    return keras.Model([left, right], [out_left, out_right], name="siamese")


def make_shared():
    fresh()
    model = shared_model()
    rng = case_rng("shared")
    w = set_uniform("shared", model, rng)
    x = [rng.standard_normal((6, 5, 3)).astype(np.float32) for _ in range(2)]
    y = [rng.standard_normal((6, 2)).astype(np.float32) for _ in range(2)]
    vx = [rng.standard_normal((4, 5, 3)).astype(np.float32) for _ in range(2)]
    vy = [rng.standard_normal((4, 2)).astype(np.float32) for _ in range(2)]
    put_data("shared", x, y, vx, vy)
    out = describe(model)
    out.update(record_predict("shared", model, x))
    out["fits"] = {"sgd": fit_run(
        "shared", "sgd", shared_model, w,
        dict(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=["mse", "mse"],
             metrics=[["mae"], ["mae"]]),
        x, y, (vx, vy),
        describe_compile={"optimizer": ["SGD", {"learning_rate": 0.1}], "loss": ["mse", "mse"],
                          "metrics": [["mae"], ["mae"]]})}
    return out


# --------------------------------------------------------------------------
# d. Nested models
# --------------------------------------------------------------------------


def nested_sequential_model():
    encoder = keras.Sequential([keras.Input((None, 3)), layers.LSTM(4, return_sequences=True),
                                layers.GRU(3)], name="encoder")
    inputs = keras.Input((None, 3), name="series")
    outputs = layers.Dense(2, name="head")(encoder(inputs))
    return keras.Model(inputs, outputs, name="outer")


def nested_functional_model():
    inner_in = keras.Input((None, 2))
    inner_out = layers.Dense(3, activation="tanh")(layers.SimpleRNN(4)(inner_in))
    inner = keras.Model(inner_in, inner_out, name="inner")
    outer_in = keras.Input((None, 2))
    outputs = layers.Dense(1)(inner(outer_in))
    return keras.Model(outer_in, outputs, name="outer_functional")


def make_nested(case, build, features):
    fresh()
    model = build()
    rng = case_rng(case)
    w = set_uniform(case, model, rng)
    x = rng.standard_normal((6, 5, features)).astype(np.float32)
    y = rng.standard_normal((6,) + tuple(model.output_shape[1:])).astype(np.float32)
    vx = rng.standard_normal((4, 5, features)).astype(np.float32)
    vy = rng.standard_normal((4,) + tuple(model.output_shape[1:])).astype(np.float32)
    put_data(case, [x], [y], [vx], [vy])
    out = describe(model)
    out["summary_expand_nested"] = summaries(model, expand_nested=True)
    inner = model.layers[1]
    out["inner"] = describe(inner)
    out.update(record_predict(case, model, x))
    put(f"{case}/inner_predict0", to_numpy(inner.predict(x, verbose=0)))
    out["fits"] = {"sgd": fit_run(
        case, "sgd", build, w,
        dict(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse", metrics=["mae"]),
        x, y, (vx, vy), epochs=2,
        describe_compile={"optimizer": ["SGD", {"learning_rate": 0.1}], "loss": "mse",
                          "metrics": ["mae"]})}
    return out


# --------------------------------------------------------------------------
# e. Sequence to sequence, as keras.io's lstm_seq2seq example
# --------------------------------------------------------------------------

NUM_ENCODER_TOKENS, NUM_DECODER_TOKENS, LATENT_DIM = 5, 6, 4
START, END = 0, 1  # decoder tokens: "\t" and "\n" of the example
ENCODER_LEN, DECODER_LEN = 4, 5


def seq2seq_data(rng, n):
    """One-hot encoder inputs; decoder targets start with START and end with END; the decoder
    input is the target delayed by one step (teacher forcing)."""
    enc = rng.randint(0, NUM_ENCODER_TOKENS, size=(n, ENCODER_LEN))
    body = rng.randint(2, NUM_DECODER_TOKENS, size=(n, DECODER_LEN - 2))
    dec = np.concatenate([np.full((n, 1), START), body, np.full((n, 1), END)], axis=1)
    encoder_input_data = np.eye(NUM_ENCODER_TOKENS, dtype=np.float32)[enc]
    decoder_input_data = np.eye(NUM_DECODER_TOKENS, dtype=np.float32)[dec]
    decoder_target_data = np.zeros_like(decoder_input_data)
    decoder_target_data[:, :-1] = decoder_input_data[:, 1:]
    return encoder_input_data, decoder_input_data, decoder_target_data


def seq2seq_model():
    """The training model of keras.io/examples/nlp/lstm_seq2seq."""
    num_encoder_tokens, num_decoder_tokens, latent_dim = (NUM_ENCODER_TOKENS, NUM_DECODER_TOKENS,
                                                          LATENT_DIM)
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)


def make_seq2seq():
    fresh()
    model = seq2seq_model()
    num_decoder_tokens, latent_dim = NUM_DECODER_TOKENS, LATENT_DIM
    rng = case_rng("seq2seq")
    w = set_uniform("seq2seq", model, rng)
    enc_x, dec_x, dec_y = seq2seq_data(rng, 8)
    v_enc, v_dec, v_y = seq2seq_data(rng, 4)
    put_data("seq2seq", [enc_x, dec_x], [dec_y], [v_enc, v_dec], [v_y])
    out = describe(model)
    out.update(record_predict("seq2seq", model, [enc_x, dec_x]))
    out["fits"] = {"adam": fit_run(
        "seq2seq", "adam", seq2seq_model, w,
        dict(optimizer=keras.optimizers.Adam(learning_rate=0.05),
             loss="categorical_crossentropy", metrics=["accuracy"]),
        [enc_x, dec_x], dec_y, ([v_enc, v_dec], v_y), epochs=3, batch_size=4,
        describe_compile={"optimizer": ["Adam", {"learning_rate": 0.05}],
                          "loss": "categorical_crossentropy", "metrics": ["accuracy"]})}

    # Inference models, from the trained model's layers as the example does after loading it.
    model = FITTED["seq2seq", "adam"]
    encoder_inputs = model.input[0]
    encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output
    encoder_states = [state_h_enc, state_c_enc]
    encoder_model = keras.Model(encoder_inputs, encoder_states)

    decoder_inputs = model.input[1]
    decoder_state_input_h = keras.Input(shape=(latent_dim,))
    decoder_state_input_c = keras.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
        decoder_inputs, initial_state=decoder_states_inputs)
    decoder_states = [state_h_dec, state_c_dec]
    decoder_dense = model.layers[4]
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs,
                                [decoder_outputs] + decoder_states)
    out["encoder_model"] = describe(encoder_model)
    out["decoder_model"] = describe(decoder_model)

    states = encoder_model.predict(enc_x, verbose=0)
    put_list("seq2seq/encoder/state", states)
    put_list("seq2seq/decoder/out", decoder_model.predict([dec_x] + states, verbose=0))

    # decode_sequence of the example, greedy, on the first training sequence.
    states_value = encoder_model.predict(enc_x[:1], verbose=0)
    target_seq = np.zeros((1, 1, num_decoder_tokens), dtype=np.float32)
    target_seq[0, 0, START] = 1.0
    decoded, probs = [], []
    max_decoder_seq_length = DECODER_LEN
    while True:
        output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)
        sampled_token_index = int(np.argmax(output_tokens[0, -1, :]))
        probs.append(output_tokens[0, -1, :])
        decoded.append(sampled_token_index)
        if sampled_token_index == END or len(decoded) >= max_decoder_seq_length:
            break
        target_seq = np.zeros((1, 1, num_decoder_tokens), dtype=np.float32)
        target_seq[0, 0, sampled_token_index] = 1.0
        states_value = [h, c]
    put("seq2seq/greedy/probs", np.stack(probs))
    out["greedy"] = {"decoded": decoded, "start": START, "end": END,
                     "max_decoder_seq_length": max_decoder_seq_length}
    out["tokens"] = {"num_encoder_tokens": NUM_ENCODER_TOKENS,
                     "num_decoder_tokens": num_decoder_tokens, "latent_dim": latent_dim}
    return out


# --------------------------------------------------------------------------
# f. RNN(cell), StackedRNNCells, a custom cell, single steps
# --------------------------------------------------------------------------


class MinimalRNNCell(keras.layers.Layer):
    """The custom cell of Keras's RNN docstring, with an output_size."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform", name="recurrent_kernel")

    def call(self, inputs, states):
        prev_output = states[0]
        h = keras.ops.matmul(inputs, self.kernel)
        output = h + keras.ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]


# name -> (a function making the RNN layer, masked input?, number of initial states)
CELL_CASES = {
    "simple": (lambda: layers.RNN(layers.SimpleRNNCell(3), return_sequences=True), False, 0),
    "simple_state_backwards": (lambda: layers.RNN(layers.SimpleRNNCell(3, activation="relu"),
                                                  return_state=True, go_backwards=True),
                               False, 0),
    "lstm": (lambda: layers.RNN(layers.LSTMCell(3)), False, 0),
    "lstm_state_seq": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True,
                                          return_state=True), False, 0),
    "lstm_backwards": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True,
                                          go_backwards=True), False, 0),
    "lstm_initial_state": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True,
                                              return_state=True), False, 2),
    "gru": (lambda: layers.RNN(layers.GRUCell(3), return_sequences=True, return_state=True),
            False, 0),
    "gru_reset_before": (lambda: layers.RNN(layers.GRUCell(3, reset_after=False),
                                            return_sequences=True), False, 0),
    "gru_reset_before_backwards": (lambda: layers.RNN(layers.GRUCell(3, reset_after=False),
                                                      return_state=True, go_backwards=True),
                                   False, 0),
    "masked_lstm": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True,
                                       return_state=True), True, 0),
    "masked_gru_backwards": (lambda: layers.RNN(layers.GRUCell(3), return_sequences=True,
                                                go_backwards=True), True, 0),
    "masked_simple": (lambda: layers.RNN(layers.SimpleRNNCell(3)), True, 0),
    "stacked_list": (lambda: layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)],
                                        return_sequences=True, return_state=True), False, 0),
    "stacked_cells": (lambda: layers.RNN(layers.StackedRNNCells([layers.LSTMCell(3),
                                                                 layers.GRUCell(2)])),
                      False, 0),
    "stacked_masked": (lambda: layers.RNN(layers.StackedRNNCells(
        [layers.SimpleRNNCell(2), layers.GRUCell(3, reset_after=False)]),
        return_sequences=True), True, 0),
    "custom": (lambda: layers.RNN(MinimalRNNCell(3), return_sequences=True, return_state=True),
               False, 0),
    "custom_stacked": (lambda: layers.RNN([MinimalRNNCell(2), layers.LSTMCell(3)]), False, 0),
}


def flat_state_sizes(cell):
    size = cell.state_size
    return size if isinstance(size, (list, tuple)) else [size]


def make_cell_case(name, make_rnn, masked, n_states):
    """Input((5, 2)) [-> Masking] -> the RNN layer (initial states as extra Inputs)."""
    fresh()
    rng = case_rng(f"cells/{name}")
    inputs = keras.Input((5, 2))
    x = layers.Masking()(inputs) if masked else inputs
    rnn = make_rnn()
    state_inputs = []
    if n_states:
        state_inputs = [keras.Input((3,)) for _ in range(n_states)]
        outputs = rnn(x, initial_state=state_inputs)
    else:
        outputs = rnn(x)
    model = keras.Model([inputs] + state_inputs if state_inputs else inputs, outputs)
    set_uniform(f"cells/{name}", model, rng)
    xs = [rng.standard_normal((3, 5, 2)).astype(np.float32)]
    if masked:
        xs[0] = (xs[0] * np.array(MASK_PATTERN)[..., None]).astype(np.float32)
    xs += [rng.uniform(-0.5, 0.5, size=(3, 3)).astype(np.float32) for _ in range(n_states)]
    put_list(f"cells/{name}/x", xs)
    result = model.predict(xs if n_states else xs[0], verbose=0)
    # A stacked cell's states keep their nesting ([output, [h, c], h2]): stored flat.
    put_list(f"cells/{name}/out", keras.tree.flatten(result))
    out = describe(model, all_widths=False)
    out.update({
        "masked": masked,
        "n_initial_states": n_states,
        "n_outputs": len(as_list(result)),
        "output_structure": jsonable(keras.tree.map_structure(lambda t: list(np.shape(t)),
                                                              result)),
        "rnn_config": jsonable(rnn.get_config()),
        "rnn_weight_paths": [v.path for v in rnn.weights],
        "rnn_weight_shapes": [list(v.shape) for v in rnn.weights],
        "cell_class": type(rnn.cell).__name__,
        "cell_state_size": jsonable(rnn.cell.state_size),
        "cell_output_size": jsonable(getattr(rnn.cell, "output_size", None)),
    })
    return out


def make_cells():
    return {name: make_cell_case(name, *spec) for name, spec in CELL_CASES.items()}


STEP_CELLS = {
    "simple_rnn_cell": lambda: layers.SimpleRNNCell(3),
    "lstm_cell": lambda: layers.LSTMCell(3),
    "gru_cell": lambda: layers.GRUCell(3),
    "gru_cell_reset_before": lambda: layers.GRUCell(3, reset_after=False),
    "stacked_cells": lambda: layers.StackedRNNCells([layers.LSTMCell(3), layers.GRUCell(3)]),
}


def make_steps():
    """cell(x_t, states) once, after build((None, 2)) and set_weights."""
    out = {}
    for name, make_cell in STEP_CELLS.items():
        fresh()
        rng = case_rng(f"step/{name}")
        cell = make_cell()
        cell.build((None, 2))
        set_uniform(f"step/{name}", cell, rng)
        x = rng.standard_normal((4, 2)).astype(np.float32)
        put(f"step/{name}/x", x)
        if name == "stacked_cells":
            h0 = [[rng.uniform(-0.5, 0.5, (4, 3)).astype(np.float32) for _ in range(2)],
                  rng.uniform(-0.5, 0.5, (4, 3)).astype(np.float32)]
            flat = h0[0] + [h0[1]]
        else:
            flat = [rng.uniform(-0.5, 0.5, (4, 3)).astype(np.float32)
                    for _ in flat_state_sizes(cell)]
            h0 = flat
        put_list(f"step/{name}/h0_", flat)
        y, states = cell(x, h0)
        put(f"step/{name}/out", to_numpy(y))
        flat_new = keras.tree.flatten(states)
        put_list(f"step/{name}/state", flat_new)
        initial = cell.get_initial_state(batch_size=4)
        out[name] = {
            "class": type(cell).__name__,
            "config": jsonable(cell.get_config()),
            "state_size": jsonable(cell.state_size),
            "output_size": jsonable(getattr(cell, "output_size", None)),
            "weight_paths": [v.path for v in cell.weights],
            "weight_shapes": [list(v.shape) for v in cell.weights],
            "states_type": type(states).__name__,
            "states_structure": jsonable(keras.tree.map_structure(lambda t: list(t.shape),
                                                                  states)),
            "initial_state_structure": jsonable(keras.tree.map_structure(
                lambda t: list(t.shape), initial)),
            "initial_state_all_zero": all(not np.any(to_numpy(t))
                                          for t in keras.tree.flatten(initial)),
        }
    return out


# --------------------------------------------------------------------------
# g. Model subclassing and a custom Layer
# --------------------------------------------------------------------------


class Affine(keras.layers.Layer):
    """y = x * gamma + beta, per feature (build / add_weight / call without training)."""

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="beta")

    def call(self, inputs):
        return inputs * self.gamma + self.beta


class SequenceClassifier(keras.Model):
    def __init__(self, vocab=8, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(vocab, 4, mask_zero=True)
        self.lstm = layers.LSTM(5)
        self.affine = Affine()
        self.dense = layers.Dense(classes, activation="softmax")

    def call(self, inputs, training=None, mask=None):
        x = self.embedding(inputs)
        x = self.lstm(x, mask=self.embedding.compute_mask(inputs), training=training)
        x = self.affine(x)
        return self.dense(x)


class ImplicitMaskClassifier(SequenceClassifier):
    """The same, the mask left to Keras's own propagation."""

    def call(self, inputs, training=None, mask=None):
        return self.dense(self.affine(self.lstm(self.embedding(inputs), training=training)))


def subclass_ids(rng, n):
    ids = rng.randint(1, 8, size=(n, 5))
    lengths = rng.randint(2, 6, size=n)
    return (ids * (np.arange(5)[None, :] < lengths[:, None])).astype(np.float32)


def subclass_model():
    """Built by a call on one row, as a user does before summary()."""
    model = SequenceClassifier(name="sequence_classifier")
    model(SUBCLASS_BUILD_ROW)
    return model


SUBCLASS_BUILD_ROW = np.array([[1, 2, 3, 0, 0]], np.float32)


def make_subclass():
    fresh()
    model = SequenceClassifier(name="sequence_classifier")
    rng = case_rng("subclass")
    x = subclass_ids(rng, 6)
    out = {"summary_unbuilt": summaries(model), "build_row": SUBCLASS_BUILD_ROW}
    model(SUBCLASS_BUILD_ROW)
    w = set_uniform("subclass", model, rng)
    y = rng.randint(0, 3, size=(6,)).astype(np.float32)
    vx, vy = subclass_ids(rng, 4), rng.randint(0, 3, size=(4,)).astype(np.float32)
    put_data("subclass", [x], [y], [vx], [vy])
    out.update(describe(model))
    out.update(record_predict("subclass", model, x))
    out["fits"] = {"adam": fit_run(
        "subclass", "adam", subclass_model, w,
        dict(optimizer=keras.optimizers.Adam(learning_rate=0.01),
             loss="sparse_categorical_crossentropy", metrics=["accuracy"]),
        x, y, (vx, vy),
        describe_compile={"optimizer": ["Adam", {"learning_rate": 0.01}],
                          "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]})}
    out["summary_after_fit"] = summaries(FITTED["subclass", "adam"])

    fresh()
    implicit = ImplicitMaskClassifier(name="implicit_mask_classifier")
    implicit(SUBCLASS_BUILD_ROW)
    implicit.set_weights(w)
    implicit_pred = implicit.predict(x, verbose=0)
    put("subclass/implicit_predict0", implicit_pred)
    out["implicit_mask_same_as_explicit"] = bool(np.allclose(
        implicit_pred, ARRAYS["subclass/predict0"], atol=1e-6))
    return out


# --------------------------------------------------------------------------
# h. Error messages
# --------------------------------------------------------------------------


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 (recording whatever Keras raises)
        return {"type": type(e).__name__, "message": str(e)}
    raise AssertionError("no error")


def unknown_layer_config():
    fresh()
    config = chain_model().get_config()
    config["layers"][1]["class_name"] = "LSTM9"
    return config


def make_errors():
    out = {}

    def wrong_rank():
        fresh()
        layers.LSTM(3)(keras.Input((5,)))

    out["wrong_rank"] = error_of(wrong_rank)

    def wrong_rank_dense_sequence():
        fresh()
        layers.GRU(2)(layers.Dense(4)(keras.Input((5,))))

    out["wrong_rank_after_dense"] = error_of(wrong_rank_dense_sequence)

    def wrong_features():
        fresh()
        model = chain_model()
        model.predict(np.zeros((2, 5, 4), np.float32), verbose=0)

    out["predict_wrong_features"] = error_of(wrong_features)

    out["unknown_layer_from_config"] = error_of(
        lambda: keras.Model.from_config(unknown_layer_config()))
    out["unknown_layer_deserialize"] = error_of(
        lambda: keras.layers.deserialize({"class_name": "LSTM9", "config": {"units": 3}}))
    out["unknown_layer_load"] = error_of(
        lambda: keras.saving.load_model(os.path.join(FILES, "unknown_layer.keras")))

    def disconnected():
        fresh()
        first = keras.Input((None, 3), name="first")
        second = keras.Input((None, 3), name="second")
        keras.Model(inputs=first, outputs=layers.Dense(1)(layers.LSTM(2)(second)))

    out["disconnected"] = error_of(disconnected)

    def missing_input():
        fresh()
        first = keras.Input((None, 3), name="first")
        second = keras.Input((None, 2), name="second")
        joined = layers.LSTM(2)(first, initial_state=[layers.Dense(2)(layers.GRU(2)(second)),
                                                      layers.Dense(2)(layers.GRU(2)(second))])
        keras.Model(inputs=first, outputs=joined)

    out["disconnected_initial_state"] = error_of(missing_input)

    def one_array_for_two_inputs():
        fresh()
        multi_model().predict(np.zeros((2, 5, 3), np.float32), verbose=0)

    out["one_array_for_two_inputs"] = error_of(one_array_for_two_inputs)

    def one_metric_list_for_two_outputs():
        fresh()
        rng = case_rng("errors/metrics")
        model = multi_model()
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse",
                      metrics=["mae"])
        x, y, _, _ = multi_data(rng)
        model.fit(x, y, epochs=1, batch_size=2, verbose=0)

    out["one_metric_list_for_two_outputs"] = error_of(one_metric_list_for_two_outputs)
    return out


# --------------------------------------------------------------------------
# Keras-saved files
# --------------------------------------------------------------------------


def deflate(path):
    """Keras stores its zip members uncompressed; rewrite the archive with deflate (the members
    stay byte for byte what Keras wrote)."""
    with zipfile.ZipFile(path) as zf:
        members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def save_file(stem, model, x, legacy=False):
    """model.save as <stem>.keras (and <stem>.h5), and Keras's predict of the loaded file."""
    path = os.path.join(FILES, f"{stem}.keras")
    model.save(path)
    deflate(path)
    saved = [f"{stem}.keras"]
    loaded = keras.saving.load_model(path)
    y = loaded.predict(x, verbose=0)
    put_list(f"files/{stem}/x", as_list(x))
    put_list(f"files/{stem}/y", as_list(y))
    entry = {"x_count": len(as_list(x)), "y_count": len(as_list(y)),
             "layer_names": [layer.name for layer in loaded.layers],
             "name": loaded.name, "compiled": loaded.compiled}
    if legacy:
        h5 = os.path.join(FILES, f"{stem}.h5")
        model.save(h5)
        saved.append(f"{stem}.h5")
        # Keras 3.15 cannot read back the compile config it wrote into a legacy .h5 when the
        # loss or a metric is a string such as "mse"; the model itself loads with compile=False.
        entry["h5_load_compiled"] = "ok"
        try:
            keras.saving.load_model(h5)
        except Exception as e:  # noqa: BLE001
            entry["h5_load_compiled"] = {"type": type(e).__name__, "message": str(e)}
        y_h5 = keras.saving.load_model(h5, compile=False).predict(x, verbose=0)
        entry["h5_same_prediction"] = bool(np.allclose(y_h5, y, atol=1e-6))
    entry["files"] = saved
    return entry


def make_files(trained_seq2seq):
    out = {}
    for stem, build, rng_name in (("chain", chain_model, "chain"),
                                  ("multi", lambda: multi_model(("score", "level")), "multi_dict"),
                                  ("shared", shared_model, "shared"),
                                  ("nested_sequential", nested_sequential_model,
                                   "nested_sequential"),
                                  ("nested_functional", nested_functional_model,
                                   "nested_functional")):
        fresh()
        model = build()
        rng = case_rng(f"files/{stem}")
        model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
                           for w in model.get_weights()])
        x = [rng.standard_normal((3, 5) + tuple(t.shape[2:])).astype(np.float32)
             for t in model.inputs]
        if stem == "chain":
            model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse",
                          metrics=["mae"])
        out[stem] = save_file(stem, model, x if len(x) > 1 else x[0], legacy=stem == "chain")

    rng = case_rng("files/seq2seq")
    enc, dec, _ = seq2seq_data(rng, 3)
    out["seq2seq"] = save_file("seq2seq", trained_seq2seq, [enc, dec])

    fresh()
    cells = keras.Sequential([keras.Input((5, 2)),
                              layers.RNN(layers.LSTMCell(3), return_sequences=True),
                              layers.RNN(layers.StackedRNNCells([layers.GRUCell(2),
                                                                 layers.SimpleRNNCell(2)])),
                              layers.Dense(1)], name="cells")
    rng = case_rng("files/cells")
    cells.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
                       for w in cells.get_weights()])
    out["cells"] = save_file("cells", cells, rng.standard_normal((3, 5, 2)).astype(np.float32))

    # chain.keras with its LSTM's class renamed: a class Keras does not know.
    with zipfile.ZipFile(os.path.join(FILES, "chain.keras")) as zf:
        members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(os.path.join(FILES, "unknown_layer.keras"), "w",
                         compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            if name == "config.json":
                config = json.loads(data)
                config["config"]["layers"][1]["class_name"] = "LSTM9"
                data = json.dumps(config).encode()
            zf.writestr(name, data)
    out["unknown_layer"] = {"files": ["unknown_layer.keras"], "renamed_layer": "lstm",
                            "class_name": "LSTM9"}
    return out


def main():
    if keras.backend.backend() != "jax":
        raise SystemExit("Run with KERAS_BACKEND=jax")
    shutil.rmtree(FILES, ignore_errors=True)
    os.makedirs(FILES)
    doc = {
        "keras_version": keras.__version__,
        "jax_version": jax.__version__,
        "numpy_version": np.__version__,
        "backend": keras.backend.backend(),
        "python_version": sys.version.split()[0],
        "generator": "tests/data/make_keras_functional.py",
        "npz": os.path.basename(NPZ_PATH),
        "summary_columns": list(SUMMARY_COLUMNS),
        "mask_pattern": MASK_PATTERN,
    }
    cases = {
        "chain": make_chain(),
        "chain_misc": make_chain_misc(),
        "state_outputs": make_state_outputs(),
        "multi_list": make_multi_list(),
        "multi_dict": make_multi_dict(),
        "multi_dict_io": make_multi_dict_io(),
        "shared": make_shared(),
        "nested_sequential": make_nested("nested_sequential", nested_sequential_model, 3),
        "nested_functional": make_nested("nested_functional", nested_functional_model, 2),
    }
    cases["seq2seq"] = make_seq2seq()
    cases["subclass"] = make_subclass()
    doc["cases"] = cases
    doc["cells"] = make_cells()
    doc["steps"] = make_steps()
    doc["files"] = make_files(FITTED["seq2seq", "adam"])
    doc["errors"] = make_errors()

    np.savez_compressed(NPZ_PATH, **ARRAYS)
    with open(JSON_PATH, "w", encoding="utf-8") as f:
        json.dump(jsonable(doc), f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(ARRAYS)} arrays to {NPZ_PATH} ({os.path.getsize(NPZ_PATH)} bytes)")
    print(f"wrote {JSON_PATH} ({os.path.getsize(JSON_PATH)} bytes)")
    for name in sorted(os.listdir(FILES)):
        print(f"{os.path.getsize(os.path.join(FILES, name)):8d}  {name}")


if __name__ == "__main__":
    main()
