"""Generate golden test fixtures with real Keras 3 (JAX backend; the stateful cases on the
TensorFlow backend, in a child process: see make_stateful).

These fixtures let rnnkit's test-suite compare its PyTorch implementation
against reference numbers produced by Keras itself, without needing Keras
(or JAX) installed when the tests run.

How to run (from the repository root, in an environment that has ``keras``,
``jax``, ``jaxlib``, ``tensorflow-cpu`` and ``numpy`` installed -- no torch needed)::

    KERAS_BACKEND=jax /path/to/kerasenv/bin/python tests/data/make_keras_fixtures.py

e.g. with a venv created by
``python3 -m venv kerasenv && kerasenv/bin/pip install keras jax jaxlib tensorflow-cpu numpy``.

Outputs, written next to this script:

* ``keras_golden.npz``  -- float32 arrays (``np.savez_compressed``).
* ``keras_golden.json`` -- versions, case descriptions, scalar results,
  ``model.summary()`` texts, ``fit`` logs, optimizer configs, ...

Key naming in the npz (``<case>`` is a key of the matching JSON section):

* layers:       ``<case>/x``, ``<case>/w{i}`` (Keras ``get_weights`` order and
                shapes), ``<case>/h0_{j}`` (initial states, if any),
                ``<case>/out{k}`` (outputs; ``return_state`` gives several)
* init_bias:    ``init_bias/<name>``
* training:     ``train/<cell>/x``, ``train/<cell>/y``,
                ``train/<cell>/w_init{i}``,
                ``train/<cell>/<opt>/step1_w{i}``, ``train/<cell>/<opt>/step3_w{i}``
* fit:          ``fit/x``, ``fit/y``, ``fit/w_init{i}``, ``fit/w_after_fit{i}``,
                ``fit/predict``
* functions:    ``functions/<array name>`` (inputs and outputs, see JSON)
* callbacks:    JSON only: the hook sequence of fit/evaluate/predict

Everything is seeded (``numpy.random.RandomState`` per case, plus
``keras.utils.set_random_seed(0)``), so re-running gives the same arrays.
The only non-deterministic content is the timing text inside the
``fit(verbose=1|2)`` transcripts.
"""

import contextlib
import io
import json
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

import jax  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

from hook_recorder import recorder_class  # noqa: E402  (beside this script)
from keras_fixture_common import ANSI_RE, case_rng, jsonable, raw_summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NPZ_PATH = os.path.join(HERE, "keras_golden.npz")
JSON_PATH = os.path.join(HERE, "keras_golden.json")

# The width of model.summary() depends on the terminal size
# (shutil.get_terminal_size() and rich's console width, both honour COLUMNS).
# Pin it so the captured summaries are reproducible and are the "full width"
# (88 column) tables Keras prints in an ordinary terminal or notebook.
SUMMARY_COLUMNS = "120"


ARRAYS = {}


def put(key, value):
    """Store an array in the npz (as float32)."""
    assert key not in ARRAYS, key
    ARRAYS[key] = np.asarray(value, dtype=np.float32)


def to_numpy(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def random_case(prefix, model, rng, x_shape, y_shape, scale=0.5):
    """Uniform(-scale, scale) initial weights for `model`, then normal x and y, all stored
    under `prefix`; drawn in this order from rng."""
    w_init = [rng.uniform(-scale, scale, size=w.shape).astype(np.float32)
              for w in model.get_weights()]
    x = rng.standard_normal(x_shape).astype(np.float32)
    y = rng.standard_normal(y_shape).astype(np.float32)
    put(f"{prefix}/x", x)
    put(f"{prefix}/y", y)
    for i, w in enumerate(w_init):
        put(f"{prefix}/w_init{i}", w)
    return w_init, x, y


@contextlib.contextmanager
def capture_warnings(sink):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        sink.append(f"{w.category.__name__}: {w.message}")


# --------------------------------------------------------------------------
# A. Layer forward cases
# --------------------------------------------------------------------------

B, I, UNITS = 3, 4, 5

LAYER_CASES = [
    # name, class, constructor kwargs, T, number of initial states (0 = none)
    ("simple_rnn_tanh", "SimpleRNN", dict(return_sequences=True), 6, 0),
    ("simple_rnn_relu", "SimpleRNN",
     dict(activation="relu", return_sequences=True), 6, 0),
    ("simple_rnn_sigmoid_last", "SimpleRNN", dict(activation="sigmoid"), 6, 0),
    ("simple_rnn_no_bias", "SimpleRNN",
     dict(use_bias=False, return_sequences=True), 6, 0),
    ("simple_rnn_state", "SimpleRNN",
     dict(return_state=True, return_sequences=True), 6, 0),
    ("simple_rnn_backwards", "SimpleRNN",
     dict(go_backwards=True, return_sequences=True), 6, 0),
    ("simple_rnn_t1", "SimpleRNN", dict(), 1, 0),
    ("simple_rnn_init_state", "SimpleRNN", dict(return_sequences=True), 6, 1),
    ("lstm_default", "LSTM", dict(return_sequences=True), 6, 0),
    ("lstm_last", "LSTM", dict(), 6, 0),
    ("lstm_hard_sigmoid", "LSTM",
     dict(recurrent_activation="hard_sigmoid", return_sequences=True), 6, 0),
    ("lstm_no_forget_bias", "LSTM", dict(unit_forget_bias=False), 6, 0),
    ("lstm_no_bias", "LSTM", dict(use_bias=False, return_sequences=True), 6, 0),
    ("lstm_state", "LSTM", dict(return_state=True), 6, 0),
    ("lstm_state_seq", "LSTM",
     dict(return_state=True, return_sequences=True), 6, 0),
    ("lstm_backwards", "LSTM",
     dict(go_backwards=True, return_sequences=True), 6, 0),
    ("lstm_t1", "LSTM", dict(return_sequences=True), 1, 0),
    ("lstm_init_state", "LSTM",
     dict(return_sequences=True, return_state=True), 6, 2),
    ("lstm_relu", "LSTM", dict(activation="relu", return_sequences=True), 6, 0),
    ("gru_default", "GRU", dict(return_sequences=True), 6, 0),
    ("gru_last", "GRU", dict(), 6, 0),
    ("gru_reset_before", "GRU",
     dict(reset_after=False, return_sequences=True), 6, 0),
    ("gru_reset_before_no_bias", "GRU",
     dict(reset_after=False, use_bias=False, return_sequences=True), 6, 0),
    ("gru_no_bias", "GRU", dict(use_bias=False, return_sequences=True), 6, 0),
    ("gru_state", "GRU", dict(return_state=True, return_sequences=True), 6, 0),
    ("gru_backwards", "GRU",
     dict(go_backwards=True, return_sequences=True), 6, 0),
    ("gru_backwards_state", "GRU",
     dict(go_backwards=True, return_state=True, reset_after=False), 6, 0),
    ("gru_t1", "GRU", dict(), 1, 0),
    ("gru_init_state", "GRU", dict(return_sequences=True), 6, 1),
    ("gru_hard_sigmoid", "GRU",
     dict(recurrent_activation="hard_sigmoid", return_sequences=True), 6, 0),
]


def make_layer_cases():
    out = {}
    for name, cls_name, kwargs, T, n_states in LAYER_CASES:
        rng = case_rng(name)
        config = dict(units=UNITS, **kwargs)
        layer = getattr(layers, cls_name)(**config)
        x = rng.uniform(-1.0, 1.0, size=(B, T, I)).astype(np.float32)
        layer.build((B, T, I))
        weights = [
            rng.uniform(-0.6, 0.6, size=w.shape).astype(np.float32)
            for w in layer.get_weights()
        ]
        layer.set_weights(weights)
        states = [
            rng.uniform(-0.5, 0.5, size=(B, UNITS)).astype(np.float32)
            for _ in range(n_states)
        ]
        if states:
            result = layer(x, initial_state=states)
        else:
            result = layer(x)
        outputs = list(result) if isinstance(result, (list, tuple)) else [result]

        put(f"{name}/x", x)
        for i, w in enumerate(weights):
            put(f"{name}/w{i}", w)
        for j, s in enumerate(states):
            put(f"{name}/h0_{j}", s)
        for k, o in enumerate(outputs):
            put(f"{name}/out{k}", to_numpy(o))

        out[name] = {
            "class": cls_name,
            "config": config,
            "T": T,
            "n_weights": len(weights),
            "n_outputs": len(outputs),
            "n_initial_states": len(states),
            "weight_shapes": [list(w.shape) for w in weights],
            "weight_paths": [v.path for v in layer.weights],
            "output_shapes": [list(to_numpy(o).shape) for o in outputs],
            "keras_config": jsonable(layer.get_config()),
        }
    return out


# --------------------------------------------------------------------------
# B. Freshly initialised biases
# --------------------------------------------------------------------------

INIT_BIAS_CASES = [
    ("lstm_unit_forget_bias", "LSTM", dict(unit_forget_bias=True)),
    ("lstm_no_unit_forget_bias", "LSTM", dict(unit_forget_bias=False)),
    ("gru_reset_after", "GRU", dict(reset_after=True)),
    ("gru_reset_before", "GRU", dict(reset_after=False)),
    ("simple_rnn", "SimpleRNN", dict()),
]


def make_init_bias():
    out = {}
    for name, cls_name, kwargs in INIT_BIAS_CASES:
        layer = getattr(layers, cls_name)(UNITS, **kwargs)
        layer.build((None, None, I))
        bias = [v for v in layer.weights if v.path.endswith("bias")]
        assert len(bias) == 1, [v.path for v in layer.weights]
        value = to_numpy(bias[0])
        put(f"init_bias/{name}", value)
        out[name] = {
            "class": cls_name,
            "config": dict(units=UNITS, **kwargs),
            "shape": list(value.shape),
            "path": bias[0].path,
        }
    return out


# --------------------------------------------------------------------------
# C. model.summary() texts
# --------------------------------------------------------------------------


def capture_summary(model, columns=SUMMARY_COLUMNS):
    raw = raw_summary(model, columns)
    return ANSI_RE.sub("", raw), bool(ANSI_RE.search(raw))


def describe_model(model, columns=SUMMARY_COLUMNS):
    text, had_ansi = capture_summary(model, columns)
    per_layer = []
    for layer in model.layers:
        shape = layer.output.shape
        per_layer.append(
            [layer.name, type(layer).__name__, list(shape), layer.count_params()]
        )
    return {
        "model_name": model.name,
        "text": text,
        "ansi_stripped": had_ansi,
        "columns_env": columns,
        "total": model.count_params(),
        "per_layer": per_layer,
    }


def seed_model(cell_cls, **cell_kwargs):
    """The model from the seed script, verbatim apart from the cell class."""
    model = keras.Sequential()
    model.add(cell_cls(units=128, input_shape=(None, 1), **cell_kwargs))
    model.add(layers.Dense(1, activation="linear"))
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def make_summaries():
    out = {}
    for name, cls, kwargs in [
        ("simple_rnn_seed", layers.SimpleRNN, {}),
        ("lstm_seed", layers.LSTM, {}),
        ("gru_seed", layers.GRU, {}),
        ("gru_reset_before_seed", layers.GRU, {"reset_after": False}),
    ]:
        keras.backend.clear_session()
        caught = []
        with capture_warnings(caught):
            model = seed_model(cls, **kwargs)
        out[name] = describe_model(model)
        out[name]["warnings"] = caught

    keras.backend.clear_session()
    caught = []
    with capture_warnings(caught):
        model = keras.Sequential([
            keras.Input((None, 3)),
            layers.LSTM(16, return_sequences=True),
            layers.GRU(8, return_sequences=True),
            layers.SimpleRNN(4),
            layers.Dense(2, activation="softmax"),
        ])
    out["stack"] = describe_model(model)
    out["stack"]["warnings"] = caught

    # Two models in a row without clear_session: name numbering.
    keras.backend.clear_session()
    caught_first, caught_second = [], []
    with capture_warnings(caught_first):
        first = seed_model(layers.LSTM)
    with capture_warnings(caught_second):
        second = seed_model(layers.LSTM)
    out["names_first"] = describe_model(first)
    out["names_first"]["warnings"] = caught_first
    out["names_second"] = describe_model(second)
    out["names_second"]["warnings"] = caught_second

    # Same LSTM seed model rendered in an 80-column terminal (narrower table).
    keras.backend.clear_session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = seed_model(layers.LSTM)
    out["lstm_seed_cols80"] = describe_model(model, columns="80")
    out["lstm_seed_cols80"]["warnings"] = []  # (input_shape warning ignored)
    keras.backend.clear_session()
    return out


# --------------------------------------------------------------------------
# D. Training steps (train_on_batch)
# --------------------------------------------------------------------------

OPTIMIZERS = [
    ("sgd", lambda: keras.optimizers.SGD()),
    ("sgd_nesterov",
     lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9,
                                  nesterov=True)),
    ("adam", lambda: keras.optimizers.Adam()),
    ("rmsprop", lambda: keras.optimizers.RMSprop()),
    ("adagrad", lambda: keras.optimizers.Adagrad()),
    ("adamw", lambda: keras.optimizers.AdamW()),
    ("adam_amsgrad",
     lambda: keras.optimizers.Adam(learning_rate=0.01, amsgrad=True)),
    # Gradient clipping (a limit of 0 means none) and decoupled weight decay, which every
    # Keras 3 optimizer applies as w <- w - lr * wd * w before its update.
    ("sgd_clipnorm",
     lambda: keras.optimizers.SGD(learning_rate=0.1, clipnorm=0.05)),
    ("sgd_clipnorm_zero",
     lambda: keras.optimizers.SGD(learning_rate=0.1, clipnorm=0.0)),
    ("sgd_global_clipnorm",
     lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9,
                                  global_clipnorm=0.1)),
    ("adam_clipvalue",
     lambda: keras.optimizers.Adam(learning_rate=0.01, clipvalue=0.01)),
    ("sgd_weight_decay",
     lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9,
                                  weight_decay=0.1)),
    ("adam_weight_decay",
     lambda: keras.optimizers.Adam(learning_rate=0.01, weight_decay=0.05)),
]

TRAIN_CELLS = [("simple_rnn", "SimpleRNN"), ("lstm", "LSTM"), ("gru", "GRU")]


def as_float(result):
    arr = np.asarray(result, dtype=np.float64).ravel()
    assert arr.size == 1, result
    return float(arr[0])


def make_training():
    out = {"optimizers": {}, "cells": {}}
    for cell_name, cls_name in TRAIN_CELLS:
        rng = case_rng(f"train/{cell_name}")
        model = keras.Sequential([
            keras.Input((None, 1)),
            getattr(layers, cls_name)(8),
            layers.Dense(1),
        ])
        w_init = [
            rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32)
            for w in model.get_weights()
        ]
        x = rng.standard_normal((6, 5, 1)).astype(np.float32)
        y = rng.standard_normal((6, 1)).astype(np.float32)
        put(f"train/{cell_name}/x", x)
        put(f"train/{cell_name}/y", y)
        for i, w in enumerate(w_init):
            put(f"train/{cell_name}/w_init{i}", w)

        def run(opt, loss, steps, prefix):
            model.set_weights(w_init)
            model.compile(optimizer=opt, loss=loss)
            losses = []
            for step in range(1, steps + 1):
                losses.append(as_float(model.train_on_batch(x, y)))
                if step in (1, 3):
                    for i, w in enumerate(model.get_weights()):
                        put(f"{prefix}/step{step}_w{i}", w)
            return losses

        cell_out = {
            "class": cls_name,
            "units": 8,
            "loss": "mean_squared_error",
            "n_weights": len(w_init),
            "weight_shapes": [list(w.shape) for w in w_init],
            "losses": {},
        }
        for opt_name, make_opt in OPTIMIZERS:
            opt = make_opt()
            out["optimizers"].setdefault(opt_name, jsonable(opt.get_config()))
            cell_out["losses"][opt_name] = run(
                opt, "mean_squared_error", 3, f"train/{cell_name}/{opt_name}"
            )
        if cell_name == "gru":
            # Other losses, plain SGD, one step (only step1 weights saved).
            cell_out["extra_losses"] = {}
            for loss in ("mean_absolute_error", "huber"):
                key = f"sgd_{loss}"
                cell_out["extra_losses"][key] = {
                    "optimizer": "sgd",
                    "loss": loss,
                    "losses": run(keras.optimizers.SGD(), loss, 1,
                                  f"train/{cell_name}/{key}"),
                }
        out["cells"][cell_name] = cell_out
    return out


# --------------------------------------------------------------------------
# E. fit / evaluate / predict
# --------------------------------------------------------------------------


def make_fit():
    rng = case_rng("fit")
    keras.backend.clear_session()
    model = keras.Sequential([
        keras.Input((None, 1)),
        layers.LSTM(4),
        layers.Dense(1),
    ])
    w_init, x, y = random_case("fit", model, rng, (10, 5, 1), (10, 1))

    fit_kwargs = dict(epochs=2, batch_size=3, shuffle=False,
                      validation_split=0.3)

    def fresh_fit(verbose):
        model.set_weights(w_init)
        model.compile("sgd", "mse", metrics=["mae", "mse"])
        return model.fit(x, y, verbose=verbose, **fit_kwargs)

    h = fresh_fit(0)
    out = {
        "model": "Sequential([Input((None, 1)), LSTM(4), Dense(1)])",
        "compile": {"optimizer": "sgd", "loss": "mse",
                    "metrics": ["mae", "mse"]},
        "fit_kwargs": dict(fit_kwargs, verbose=0),
        "history": jsonable(h.history),
        "history_keys": list(h.history.keys()),
        "params": jsonable(h.params),
        "epoch": jsonable(h.epoch),
        "metrics_names": list(model.metrics_names),
    }
    for i, w in enumerate(model.get_weights()):
        put(f"fit/w_after_fit{i}", w)
    out["evaluate_kwargs"] = {"batch_size": 4}
    out["evaluate"] = jsonable(
        model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    )
    out["evaluate_list"] = jsonable(
        model.evaluate(x, y, batch_size=4, verbose=0)
    )
    pred = to_numpy(model.predict(x, batch_size=4, verbose=0))
    put("fit/predict", pred)
    out["predict_shape"] = list(pred.shape)

    # Transcripts printed by fit (timings inside are not reproducible).
    for verbose in (1, 2):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            out[f"fit_text_verbose{verbose}_stdout_isatty"] = bool(
                sys.stdout.isatty()
            )
            h = fresh_fit(verbose)
        out[f"fit_text_verbose{verbose}"] = buf.getvalue()
        out[f"history_verbose{verbose}"] = jsonable(h.history)
    out["real_stdout_isatty"] = bool(sys.__stdout__.isatty())
    out["posix_in_sys_modules"] = "posix" in sys.modules
    return out


HookRecorder = recorder_class(keras.callbacks.Callback)


def make_callbacks():
    """Which callback hooks fit/evaluate/predict call, in which order, with which logs."""
    out = {"samples": 8, "batch_size": 4, "epochs": 2, "initial_epoch": 1,
           "validation_rows": 6}
    rng = case_rng("callbacks")
    x = rng.standard_normal((out["samples"], 6, 1)).astype(np.float32)
    y = x.sum(axis=1)
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input((None, 1)), layers.GRU(4),
                              layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate=0.01), "mse")
    rec, rows, batch_size = HookRecorder(), out["validation_rows"], out["batch_size"]
    model.fit(x, y, batch_size=batch_size, epochs=out["epochs"],
              initial_epoch=out["initial_epoch"],
              validation_data=(x[:rows], y[:rows]), verbose=0, callbacks=[rec])
    out["fit"], out["fit_params"] = rec.take(), dict(rec.params)
    model.evaluate(x, y, batch_size=batch_size, verbose=0, callbacks=[rec])
    out["evaluate"], out["evaluate_params"] = rec.take(), dict(rec.params)
    model.predict(x, batch_size=batch_size, verbose=0, callbacks=[rec])
    out["predict"] = rec.take()
    keras.backend.clear_session()
    return out


# --------------------------------------------------------------------------
# F. Losses, accuracy resolution, activations
# --------------------------------------------------------------------------

ACTIVATIONS = [
    "tanh", "relu", "sigmoid", "hard_sigmoid", "linear", "elu", "selu",
    "softplus", "softsign", "swish", "gelu", "exponential", "relu6",
    "leaky_relu", "hard_silu", "mish",
]


def loss_value(loss_obj, yt, yp):
    return float(to_numpy(loss_obj(yt, yp)))


def make_functions():
    rng = case_rng("functions")
    L = keras.losses
    out = {"losses": {}, "accuracy": {}, "activations": {}}

    yt_reg = rng.standard_normal((4, 3)).astype(np.float32)
    yp_reg = rng.standard_normal((4, 3)).astype(np.float32) * 2.0
    yt_bin = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float32)
    yp_prob = rng.uniform(0.05, 0.95, size=(4, 3)).astype(np.float32)
    logits = rng.standard_normal((4, 3)).astype(np.float32) * 2.0
    labels = np.array([0, 2, 1, 2], dtype=np.int32)
    yt_onehot = np.eye(3, dtype=np.float32)[labels]
    yp_dist = rng.uniform(0.1, 1.0, size=(4, 3)).astype(np.float32)
    yp_dist /= yp_dist.sum(axis=1, keepdims=True)
    yp_exact = np.array([[0, 1, 0], [1, 0, 1], [0.5, 0, 1], [1, 1, 0.25]],
                        dtype=np.float32)
    for key, arr in [("y_true_reg", yt_reg), ("y_pred_reg", yp_reg),
                     ("y_true_bin", yt_bin), ("y_pred_prob", yp_prob),
                     ("logits", logits), ("labels", labels),
                     ("y_true_onehot", yt_onehot), ("y_pred_dist", yp_dist),
                     ("y_pred_exact_01", yp_exact)]:
        put(f"functions/{key}", arr)

    loss_cases = [
        # name, loss object, y_true key, y_pred key
        ("mean_squared_error", L.MeanSquaredError(), "y_true_reg", "y_pred_reg"),
        ("mean_absolute_error", L.MeanAbsoluteError(), "y_true_reg",
         "y_pred_reg"),
        ("huber", L.Huber(), "y_true_reg", "y_pred_reg"),
        ("binary_crossentropy", L.BinaryCrossentropy(), "y_true_bin",
         "y_pred_prob"),
        ("binary_crossentropy_from_logits",
         L.BinaryCrossentropy(from_logits=True), "y_true_bin", "logits"),
        ("binary_crossentropy_pred_exact_01", L.BinaryCrossentropy(),
         "y_true_bin", "y_pred_exact_01"),
        ("binary_crossentropy_pred_all_0", L.BinaryCrossentropy(),
         "y_true_bin", "zeros"),
        ("binary_crossentropy_pred_all_1", L.BinaryCrossentropy(),
         "y_true_bin", "ones"),
        ("categorical_crossentropy", L.CategoricalCrossentropy(),
         "y_true_onehot", "y_pred_dist"),
        ("categorical_crossentropy_from_logits",
         L.CategoricalCrossentropy(from_logits=True), "y_true_onehot",
         "logits"),
        ("sparse_categorical_crossentropy", L.SparseCategoricalCrossentropy(),
         "labels", "y_pred_dist"),
        ("sparse_categorical_crossentropy_from_logits",
         L.SparseCategoricalCrossentropy(from_logits=True), "labels",
         "logits"),
    ]
    inputs = {
        "y_true_reg": yt_reg, "y_pred_reg": yp_reg, "y_true_bin": yt_bin,
        "y_pred_prob": yp_prob, "logits": logits, "labels": labels,
        "y_true_onehot": yt_onehot, "y_pred_dist": yp_dist,
        "y_pred_exact_01": yp_exact,
        "zeros": np.zeros((4, 3), np.float32),
        "ones": np.ones((4, 3), np.float32),
    }
    for name, obj, yt_key, yp_key in loss_cases:
        out["losses"][name] = {
            "class": type(obj).__name__,
            "config": jsonable(obj.get_config()),
            "y_true": yt_key,
            "y_pred": yp_key,
            "value": loss_value(obj, inputs[yt_key], inputs[yp_key]),
        }
    out["loss_arrays_note"] = (
        "y_true/y_pred name npz keys functions/<name>; 'zeros' and 'ones' "
        "are np.zeros/np.ones of shape (4, 3). Values use the loss class "
        "with default reduction ('sum_over_batch_size')."
    )

    # Accuracy resolution: which metric class does metrics=["accuracy"] give?
    acc_rng = case_rng("functions/accuracy")
    xa = acc_rng.standard_normal((8, 3)).astype(np.float32)
    lab8 = np.array([0, 1, 2, 1, 0, 2, 2, 1], dtype=np.int32)
    acc_cases = [
        # name, loss, output units, output activation, y
        ("binary_crossentropy", "binary_crossentropy", 1, "sigmoid",
         (acc_rng.uniform(size=(8, 1)) > 0.5).astype(np.float32)),
        ("binary_crossentropy_multilabel", "binary_crossentropy", 3,
         "sigmoid", (acc_rng.uniform(size=(8, 3)) > 0.5).astype(np.float32)),
        ("categorical_crossentropy", "categorical_crossentropy", 3, "softmax",
         np.eye(3, dtype=np.float32)[lab8]),
        ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy",
         3, "softmax", lab8),
        ("mse_units1", "mse", 1, "sigmoid",
         (acc_rng.uniform(size=(8, 1)) > 0.5).astype(np.float32)),
    ]
    put("functions/accuracy/x", xa)
    for name, loss, units, act, ya in acc_cases:
        keras.backend.clear_session()
        model = keras.Sequential([keras.Input((3,)),
                                  layers.Dense(units, activation=act)])
        w = [acc_rng.uniform(-1, 1, size=v.shape).astype(np.float32)
             for v in model.get_weights()]
        model.set_weights(w)
        model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
        result = model.evaluate(xa, ya, verbose=0, return_dict=True)
        resolved = [type(m).__name__ for m in model._compile_metrics.metrics]
        put(f"functions/accuracy/{name}/y", ya)
        for i, wi in enumerate(w):
            put(f"functions/accuracy/{name}/w{i}", wi)
        put(f"functions/accuracy/{name}/pred",
            to_numpy(model.predict(xa, verbose=0)))
        out["accuracy"][name] = {
            "loss": loss,
            "dense_units": units,
            "dense_activation": act,
            "resolved_metric_classes": resolved,
            "metric_names": [m.name for m in model._compile_metrics.metrics],
            "evaluate": jsonable(result),
        }

    # Activations.
    xs = np.linspace(-5, 5, 41).astype(np.float32)
    put("functions/activations/x", xs)
    missing = []
    for name in ACTIVATIONS:
        fn = getattr(keras.activations, name, None)
        if fn is None:
            missing.append(name)
            continue
        put(f"functions/activations/{name}", to_numpy(fn(xs)))
        out["activations"][name] = {"x": "functions/activations/x"}
    xsm = rng.standard_normal((4, 3)).astype(np.float32) * 2.0
    put("functions/activations/softmax_x", xsm)
    put("functions/activations/softmax", to_numpy(keras.activations.softmax(xsm)))
    out["activations"]["softmax"] = {"x": "functions/activations/softmax_x",
                                     "axis": -1}
    out["activations_missing"] = missing
    return out


# --------------------------------------------------------------------------
# G. Initializer statistics
# --------------------------------------------------------------------------

INITIALIZERS = [
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform",
    "lecun_normal", "lecun_uniform", "orthogonal", "random_normal",
    "random_uniform", "truncated_normal", "zeros", "ones", "identity",
]


def make_initializers():
    out = {}
    for name in INITIALIZERS:
        init = keras.initializers.get(name)
        shapes = [(64, 256)] + ([(64, 64)] if name == "identity" else [])
        entry = {"class": type(init).__name__,
                 "config": jsonable(init.get_config()), "stats": {}}
        for shape in shapes:
            try:
                v = to_numpy(init(shape=shape)).astype(np.float64)
            except Exception as e:  # record, don't crash
                entry["stats"][f"{shape[0]}x{shape[1]}"] = {
                    "error": f"{type(e).__name__}: {e}"}
                continue
            stats = {"min": v.min(), "max": v.max(), "mean": v.mean(),
                     "std": v.std()}
            if name == "orthogonal":
                # rows are orthonormal for (64, 256): W W^T = I
                stats["max_abs_WWt_minus_I"] = np.abs(
                    v @ v.T - np.eye(shape[0])).max()
            entry["stats"][f"{shape[0]}x{shape[1]}"] = jsonable(stats)
        out[name] = entry
    return out


# --------------------------------------------------------------------------



# --------------------------------------------------------------------------
# Regularizers and constraints
# --------------------------------------------------------------------------

REGULARIZED_LAYERS = [
    # (class, kwargs as rnnkit receives them: names or {"class_name", "config"} dicts)
    # No L1 penalty on a weight that NonNeg clamps to exact zeros: the slope of |w| at 0 is the
    # backend's choice in Keras itself (JAX 1, TensorFlow and torch 0).
    ("LSTM", {"units": 4, "return_sequences": True,
              "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}},
              "recurrent_regularizer": {"class_name": "L1", "config": {"l1": 0.02}},
              "bias_regularizer": {"class_name": "L2", "config": {"l2": 0.01}},
              "activity_regularizer": {"class_name": "L2", "config": {"l2": 0.05}},
              "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 0.5, "axis": 0}},
              "recurrent_constraint": "unit_norm", "bias_constraint": "non_neg"}),
    ("GRU", {"units": 3, "return_sequences": True,
             "kernel_constraint": {"class_name": "MinMaxNorm",
                                   "config": {"min_value": 0.1, "max_value": 0.4, "rate": 0.5,
                                              "axis": 0}},
             "recurrent_regularizer": "l2", "activity_regularizer": "l1"}),
    ("SimpleRNN", {"units": 3, "kernel_regularizer": "l1l2", "bias_regularizer": "l1",
                   "recurrent_constraint": {"class_name": "MaxNorm",
                                            "config": {"max_value": 0.3, "axis": 1}}}),
    ("Dense", {"units": 2, "kernel_regularizer": "l2", "bias_constraint": "non_neg",
               "activity_regularizer": {"class_name": "L1", "config": {"l1": 0.1}}}),
]


def make_regularization():
    """get_config of each named regularizer and constraint; a model with every kind on
    LSTM, GRU, SimpleRNN and Dense: model.losses, then three SGD and three Adam steps."""
    out = {"regularizers": {}, "constraints": {}}
    for name in ("l1", "l2", "l1l2"):
        obj = keras.regularizers.get(name)
        out["regularizers"][name] = {"class_name": type(obj).__name__,
                                     "config": jsonable(obj.get_config())}
    for name in ("max_norm", "min_max_norm", "unit_norm", "non_neg"):
        obj = keras.constraints.get(name)
        out["constraints"][name] = {"class_name": type(obj).__name__,
                                    "config": jsonable(obj.get_config())}
    rng = case_rng("regularization")
    keras.backend.clear_session()
    stack = [keras.Input((5, 2))]
    for cls, kwargs in REGULARIZED_LAYERS:
        kw = {k: (keras.regularizers.get(v) if k.endswith("regularizer") else
                  keras.constraints.get(v) if k.endswith("constraint") else v)
              for k, v in kwargs.items()}
        stack.append(getattr(layers, cls)(**kw))
    model = keras.Sequential(stack)
    w_init, x, y = random_case("regularization", model, rng, (4, 5, 2), (4, 2), scale=0.6)
    model.set_weights(w_init)
    model(x)
    out["layers"] = [[cls, kwargs] for cls, kwargs in REGULARIZED_LAYERS]
    out["losses_after_call"] = [as_float(v) for v in model.losses]
    out["runs"] = {}
    for opt_name, make_opt in (("sgd", lambda: keras.optimizers.SGD(0.1)),
                               ("adam", lambda: keras.optimizers.Adam(0.01))):
        model.set_weights(w_init)
        model.compile(optimizer=make_opt(), loss="mean_squared_error")
        losses = [as_float(model.train_on_batch(x, y)) for _ in range(3)]
        for i, w in enumerate(model.get_weights()):
            put(f"regularization/{opt_name}/step3_w{i}", w)
        out["runs"][opt_name] = {"losses": losses,
                                 "evaluate": as_float(model.evaluate(x, y, verbose=0))}
    return out



# --------------------------------------------------------------------------
# Layers stacked with RNNs: TimeDistributed, Flatten, RepeatVector
# --------------------------------------------------------------------------


# [class, kwargs]; a wrapper's "layer" is itself [class, kwargs]. The tests build the same
# stack in rnnkit from this list (stored in the JSON).
MORE_LAYERS = [
    ["LSTM", {"units": 5, "return_sequences": True}],
    ["TimeDistributed", {"layer": ["Dense", {"units": 2, "activation": "tanh"}]}],
    ["Flatten", {}],
    ["Dense", {"units": 3}],
    ["RepeatVector", {"n": 2}],
    ["GRU", {"units": 2}],
]


def build_layer(spec):
    cls, kwargs = spec
    kwargs = {k: build_layer(v) if k in ("layer", "backward_layer") else v
              for k, v in kwargs.items()}
    return getattr(layers, cls)(**kwargs)


def more_layers_model():
    return keras.Sequential([keras.Input((4, 3))] + [build_layer(s) for s in MORE_LAYERS])


def make_more_layers():
    """Summaries (120 and 80 columns), outputs, and three Adam steps of more_layers_model."""
    keras.backend.clear_session()
    model = more_layers_model()
    out = {"layers": MORE_LAYERS, "summary": describe_model(model),
           "summary80": describe_model(model, columns="80")}
    rng = case_rng("more_layers")
    w_init, x, y = random_case("more_layers", model, rng, (3, 4, 3), (3, 2))
    model.set_weights(w_init)
    put("more_layers/predict", to_numpy(model(x)))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mean_squared_error")
    out["losses"] = [as_float(model.train_on_batch(x, y)) for _ in range(3)]
    for i, w in enumerate(model.get_weights()):
        put(f"more_layers/step3_w{i}", w)
    out["n_weights"] = len(w_init)
    return out



# --------------------------------------------------------------------------
# Stateful layers: states carried between batches
# --------------------------------------------------------------------------

STATEFUL_LAYERS = [
    ["LSTM", {"units": 3, "return_sequences": True, "stateful": True}],
    ["SimpleRNN", {"units": 3, "return_sequences": True, "stateful": True}],
    ["GRU", {"units": 2, "stateful": True}],
    ["Dense", {"units": 1}],
]


def make_stateful():
    """Batch size 2 fixed by the Input: predictions on batches a, b, then a again after
    reset_states; then three SGD steps (a, b, a) carrying states, and the states after them.

    Made by Keras 3 on TensorFlow (the seed's stack), in a child process: on JAX, Keras's
    stateless predict and train steps drop the updated states of a stateful RNN (they are
    untracked variables), so nothing is carried from one batch to the next there."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
        subprocess.run([sys.executable, os.path.abspath(__file__), "--stateful", tmp],
                       env=env, check=True)
        with np.load(os.path.join(tmp, "arrays.npz")) as arrays:
            for key in arrays.files:
                put(key, arrays[key])
        with open(os.path.join(tmp, "meta.json"), encoding="utf-8") as f:
            return json.load(f)


def stateful_child(out_dir):
    """make_stateful's work, under KERAS_BACKEND=tensorflow."""
    if keras.backend.backend() != "tensorflow":
        raise SystemExit("the stateful fixtures need KERAS_BACKEND=tensorflow")
    keras.utils.set_random_seed(0)
    meta = make_stateful_here()
    meta["backend"] = "tensorflow"
    meta["tensorflow_version"] = __import__("tensorflow").__version__
    np.savez(os.path.join(out_dir, "arrays.npz"), **ARRAYS)
    with open(os.path.join(out_dir, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(jsonable(meta), f)


def make_stateful_here():
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input((4, 2), batch_size=2)]
                             + [build_layer(spec) for spec in STATEFUL_LAYERS])
    rng = case_rng("stateful")
    w_init, xa, ya = random_case("stateful/a", model, rng, (2, 4, 2), (2, 1))
    xb = rng.standard_normal((2, 4, 2)).astype(np.float32)
    yb = rng.standard_normal((2, 1)).astype(np.float32)
    put("stateful/b/x", xb)
    put("stateful/b/y", yb)
    recurrent = [layer for layer in model.layers if hasattr(layer, "reset_states")]
    model.set_weights(w_init)
    for name, x in (("a", xa), ("b", xb)):
        put(f"stateful/predict_{name}", to_numpy(model.predict_on_batch(x)))
    for layer in recurrent:
        layer.reset_states()
    put("stateful/predict_a_after_reset", to_numpy(model.predict_on_batch(xa)))
    for layer in recurrent:
        layer.reset_states()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mean_squared_error")
    losses = [as_float(model.train_on_batch(x, y)) for x, y in ((xa, ya), (xb, yb), (xa, ya))]
    for i, w in enumerate(model.get_weights()):
        put(f"stateful/step3_w{i}", w)
    for layer in recurrent:
        for k, state in enumerate(layer.states if isinstance(layer.states, (list, tuple))
                                  else [layer.states]):
            put(f"stateful/states/{layer.name}/{k}", to_numpy(state))
    return {"layers": STATEFUL_LAYERS, "losses": losses, "n_weights": len(w_init),
            "recurrent": [layer.name for layer in recurrent]}


# --------------------------------------------------------------------------
# Masks, Bidirectional, Embedding(mask_zero=True); dropout with fixed masks
# --------------------------------------------------------------------------

# Which steps are real (1) in each row of a batch of 3 x 5: whole, right-padded, and a row with
# a leading and a middle padded step.
MASK_PATTERN = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 1, 0, 1, 1]]

MASKED_MODELS = {
    "masked_simple_rnn": [["Masking", {}], ["SimpleRNN", {"units": 3, "return_sequences": True}],
                          ["Dense", {"units": 2}]],
    "masked_lstm": [["Masking", {}], ["LSTM", {"units": 4}], ["Dense", {"units": 2}]],
    "masked_gru_stack": [["Masking", {}], ["GRU", {"units": 3, "return_sequences": True}],
                         ["GRU", {"units": 3, "return_sequences": True, "reset_after": False,
                                  "go_backwards": True}],
                         ["TimeDistributed", {"layer": ["Dense", {"units": 2}]}]],
    "embedding": [["Embedding", {"input_dim": 7, "output_dim": 3, "mask_zero": True}],
                  ["LSTM", {"units": 4, "return_sequences": True}], ["Dense", {"units": 2}]],
    "bidirectional_backward_layer": [
        ["Masking", {}],
        ["Bidirectional", {"layer": ["SimpleRNN", {"units": 3, "return_sequences": True}],
                           "backward_layer": ["SimpleRNN", {"units": 3, "return_sequences": True,
                                                            "go_backwards": True,
                                                            "activation": "relu"}]}],
        ["Dense", {"units": 2}]],
}
for _mode in ("concat", "sum", "mul", "ave"):
    MASKED_MODELS[f"bidirectional_{_mode}"] = [
        ["Masking", {}],
        ["Bidirectional", {"layer": ["LSTM", {"units": 3, "return_sequences": True}],
                           "merge_mode": _mode}],
        ["Bidirectional", {"layer": ["GRU", {"units": 2}], "merge_mode": _mode}],
        ["Dense", {"units": 2}]]


def masked_inputs(name, rng, features):
    pattern = np.array(MASK_PATTERN, dtype=np.float32)
    if name == "embedding":
        return (rng.randint(1, 7, size=pattern.shape) * pattern).astype(np.float32)
    return (rng.standard_normal(pattern.shape + (features,)) * pattern[..., None]).astype(np.float32)


def make_masked_models():
    """Each model of MASKED_MODELS on a batch with padded steps: its summary, prediction, three
    Adam steps (the loss leaves masked output steps out) and the weights after them."""
    out = {"pattern": MASK_PATTERN, "models": {}}
    for name, specs in MASKED_MODELS.items():
        keras.backend.clear_session()
        shape = (5,) if name == "embedding" else (5, 2)
        model = keras.Sequential([keras.Input(shape)] + [build_layer(s) for s in specs])
        rng = case_rng(name)
        x = masked_inputs(name, rng, 2)
        y_shape = tuple(model.output_shape[1:])
        w_init = [rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32)
                  for w in model.get_weights()]
        y = rng.standard_normal((3,) + y_shape).astype(np.float32)
        for key, value in (("x", x), ("y", y), *((f"w_init{i}", w) for i, w in enumerate(w_init))):
            put(f"{name}/{key}", value)
        model.set_weights(w_init)
        put(f"{name}/predict", to_numpy(model.predict_on_batch(x)))
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mean_squared_error")
        losses = [as_float(model.train_on_batch(x, y)) for _ in range(3)]
        for i, w in enumerate(model.get_weights()):
            put(f"{name}/step3_w{i}", w)
        out["models"][name] = {"layers": specs, "input_shape": list(shape), "losses": losses,
                               "n_weights": len(w_init), "summary": describe_model(model)}
    return out


def make_bidirectional_states():
    """Bidirectional(merge_mode=None, return_state=True) called directly, with a mask."""
    keras.backend.clear_session()
    rng = case_rng("bidirectional_states")
    layer = layers.Bidirectional(layers.LSTM(3, return_sequences=True, return_state=True),
                                 merge_mode=None)
    x = masked_inputs("bidirectional_states", rng, 2)
    mask = np.array(MASK_PATTERN, dtype=bool)
    layer.build((3, 5, 2))
    w_init = [rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(w_init)
    put("bidirectional_states/x", x)
    for i, w in enumerate(w_init):
        put(f"bidirectional_states/w_init{i}", w)
    outputs = layer(x, mask=mask)
    for i, o in enumerate(outputs):
        put(f"bidirectional_states/out{i}", to_numpy(o))
    return {"n_weights": len(w_init), "n_outputs": len(outputs)}


DROPOUT_CASES = [
    ["SimpleRNN", {"units": 3, "dropout": 0.3, "recurrent_dropout": 0.4, "return_sequences": True}],
    ["LSTM", {"units": 3, "dropout": 0.3, "return_sequences": True}],
    ["LSTM", {"units": 3, "dropout": 0.3, "recurrent_dropout": 0.4, "return_sequences": True}],
    ["GRU", {"units": 3, "dropout": 0.3, "recurrent_dropout": 0.4, "return_sequences": True}],
    ["GRU", {"units": 3, "recurrent_dropout": 0.4, "reset_after": False}],
]


def fixed_masks(rng, count, shape, rate):
    masks = [((rng.uniform(size=shape) >= rate) / (1.0 - rate)).astype(np.float32)
             for _ in range(count)]
    return masks


def make_dropout():
    """Each DROPOUT_CASES layer called in training mode with dropout masks fixed beforehand
    (Keras keeps a mask the cell already holds), and in inference mode."""
    out = []
    for k, spec in enumerate(DROPOUT_CASES):
        keras.backend.clear_session()
        rng = case_rng(f"dropout{k}")
        layer = build_layer(spec)
        layer.build((2, 4, 3))
        cell = layer.cell
        w_init = [rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32)
                  for w in layer.get_weights()]
        layer.set_weights(w_init)
        x = rng.standard_normal((2, 4, 3)).astype(np.float32)
        count = getattr(cell, "dropout_mask_count", None)
        n = count or 1
        dp = fixed_masks(rng, n, (2, 3), cell.dropout) if cell.dropout else None
        rdp = fixed_masks(rng, n, (2, 3), cell.recurrent_dropout) if cell.recurrent_dropout else None
        prefix = f"dropout{k}"
        put(f"{prefix}/x", x)
        for i, w in enumerate(w_init):
            put(f"{prefix}/w_init{i}", w)
        for tag, masks in (("input_mask", dp), ("recurrent_mask", rdp)):
            for i, m in enumerate(masks or []):
                put(f"{prefix}/{tag}{i}", m)
        cell._dropout_mask = None if dp is None else (dp if count else dp[0])
        cell._recurrent_dropout_mask = None if rdp is None else (rdp if count else rdp[0])
        put(f"{prefix}/train", to_numpy(layer(x, training=True)))
        put(f"{prefix}/infer", to_numpy(layer(x, training=False)))
        out.append({"layer": spec, "n_weights": len(w_init), "mask_count": n,
                    "input_masks": 0 if dp is None else n, "recurrent_masks": 0 if rdp is None else n})
    return out


def main():
    if keras.backend.backend() != "jax":
        raise SystemExit("Run with KERAS_BACKEND=jax")
    keras.utils.set_random_seed(0)

    doc = {
        "keras_version": keras.__version__,
        "jax_version": jax.__version__,
        "numpy_version": np.__version__,
        "backend": keras.backend.backend(),
        "python_version": sys.version.split()[0],
        "generator": "tests/data/make_keras_fixtures.py",
        "npz": os.path.basename(NPZ_PATH),
    }
    doc["layers"] = make_layer_cases()
    doc["init_bias"] = make_init_bias()
    doc["summaries"] = make_summaries()
    keras.utils.set_random_seed(0)
    doc["training"] = make_training()
    keras.utils.set_random_seed(0)
    doc["fit"] = make_fit()
    doc["functions"] = make_functions()
    keras.utils.set_random_seed(0)
    doc["initializers"] = make_initializers()
    keras.utils.set_random_seed(0)
    doc["callbacks"] = make_callbacks()
    keras.utils.set_random_seed(0)
    doc["regularization"] = make_regularization()
    keras.utils.set_random_seed(0)
    doc["more_layers"] = make_more_layers()
    keras.utils.set_random_seed(0)
    doc["stateful"] = make_stateful()
    keras.utils.set_random_seed(0)
    doc["masked"] = make_masked_models()
    doc["bidirectional_states"] = make_bidirectional_states()
    doc["dropout"] = make_dropout()

    np.savez_compressed(NPZ_PATH, **ARRAYS)
    with open(JSON_PATH, "w", encoding="utf-8") as f:
        json.dump(jsonable(doc), f, indent=1, ensure_ascii=False,
                  sort_keys=False)
        f.write("\n")
    print(f"wrote {len(ARRAYS)} arrays to {NPZ_PATH} "
          f"({os.path.getsize(NPZ_PATH)} bytes)")
    print(f"wrote {JSON_PATH} ({os.path.getsize(JSON_PATH)} bytes)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--stateful":
        stateful_child(sys.argv[2])
    else:
        main()
