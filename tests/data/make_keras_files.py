"""Write small Keras model files for the tests of `rnnkit.interop.load_keras`.

Run from the repository root, in an environment with keras 3 and jax (tensorflow-cpu and
tf_keras only for the optional tf.keras 2 files; no torch needed)::

    KERAS_BACKEND=jax python tests/data/make_keras_files.py

Writes into tests/data/keras_files/:

* ``<case>.keras`` (Keras 3 format; the zip archive rewritten with deflate to keep the
  repository small, its members unchanged) and ``<case>.h5`` (the legacy HDF5 format that
  Keras 3 still writes for ``model.save("x.h5")``) for every case of CASES and ``functional``
  (a functional model that is a plain chain of layers);
* ``unsupported.keras``: a model with a layer rnnkit does not have (Conv1D);
* ``tf2_<case>.h5`` for the TF2_CASES, written by tf.keras 2 (the ``tf_keras`` package), whose
  weight names end in ``:0``; skipped, with a message, when ``tf_keras`` is not installed;
* ``expected.npz``: per case ``<case>/x`` (an input) and ``<case>/y`` (Keras's ``predict`` on
  it), ``<case>/params`` (each layer's parameter count), ``<case>/names`` (layer names);
  ``stateful/x2`` and ``stateful/y2`` for a second batch that continues the first one's states;
  ``regularized/losses`` (Keras's ``model.losses`` after a call on ``x``).

The COMPILED cases (and ``tf2_stack``) are saved compiled, so their files carry an optimizer,
a loss and metrics.

Weights are drawn uniformly from [-0.5, 0.5] by a RandomState seeded from the case name, so
biases are not zero and every file is reproducible. Inputs of masked models are right-padded
with zeros. Keras on JAX does not carry a stateful RNN's states from one ``predict`` to the
next, so ``stateful/y2`` is the prediction of the same model without ``stateful`` on both
batches concatenated in time, which is what carrying the states computes.
"""

import io
import os
import shutil
import sys
import zipfile
import zlib

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

import keras  # noqa: E402
from keras import constraints as C  # noqa: E402
from keras import initializers as I  # noqa: E402
from keras import layers as L  # noqa: E402
from keras import regularizers as R  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_files")
BATCH, TIME, FEATURES = 3, 6, 3
LENGTHS = (6, 4, 2)  # valid steps per sample of the masked inputs
VOCAB = 9


def rng_for(name):
    return np.random.RandomState(zlib.crc32(name.encode()) % 2**31)


def float_input(rng, time=TIME, batch=BATCH):
    return rng.uniform(-1.0, 1.0, size=(batch, time, FEATURES)).astype(np.float32)


def padded(x):
    keep = (np.arange(x.shape[1])[None, :] < np.array(LENGTHS)[:, None])
    return (x * (keep[..., None] if x.ndim == 3 else keep)).astype(x.dtype)


def padded_ids(rng):
    return padded(rng.randint(1, VOCAB, size=(BATCH, TIME))).astype(np.int32)


def recurrent():
    return [keras.Input((None, FEATURES)),
            L.SimpleRNN(4, activation="relu", return_sequences=True),
            L.LSTM(5, recurrent_activation="hard_sigmoid", unit_forget_bias=False,
                   return_sequences=True),
            L.LSTM(4, go_backwards=True, return_sequences=True),
            L.GRU(4, return_sequences=True),
            L.GRU(3, reset_after=False, go_backwards=True),
            L.Dense(2, activation="softmax")]


def misc():
    return [keras.Input((5, FEATURES)), L.Dense(4, activation="relu"), L.Dropout(0.3),
            L.Activation("tanh"), L.SimpleRNN(4, use_bias=False, return_sequences=True),
            L.TimeDistributed(L.Dense(2, activation="sigmoid")), L.Flatten(), L.RepeatVector(3),
            L.GRU(2, return_sequences=True, go_backwards=True), L.Flatten(), L.Dense(1)]


def regularized():
    return [keras.Input((TIME, FEATURES)),
            L.LSTM(4, return_sequences=True, kernel_regularizer=R.L2(0.01),
                   recurrent_regularizer=R.L1L2(l1=0.001, l2=0.002), bias_regularizer=R.L1(0.003),
                   activity_regularizer=R.L2(0.004), kernel_constraint=C.MaxNorm(1.5),
                   recurrent_constraint=C.UnitNorm(axis=0), bias_constraint=C.NonNeg(),
                   kernel_initializer=I.HeNormal(seed=3),
                   recurrent_initializer=I.Orthogonal(gain=0.9, seed=4),
                   bias_initializer=I.Constant(0.1)),
            L.GRU(3, return_sequences=True, kernel_regularizer="l2",
                  kernel_initializer=I.RandomNormal(stddev=0.1, seed=1),
                  recurrent_initializer=I.TruncatedNormal(seed=2), bias_initializer="ones",
                  kernel_constraint=C.MinMaxNorm(0.1, 1.0, rate=0.5)),
            L.SimpleRNN(3, kernel_initializer=I.VarianceScaling(2.0, "fan_out", "uniform", seed=5),
                        recurrent_initializer=I.Identity(gain=0.5),
                        bias_initializer=I.RandomUniform(-0.1, 0.1, seed=6)),
            L.Dense(2, kernel_initializer=I.GlorotNormal(seed=7),
                    bias_initializer=I.LecunUniform(seed=8), kernel_regularizer=R.L1(0.01),
                    bias_regularizer=R.L2(0.02), activity_regularizer=R.L1L2(0.01, 0.02),
                    kernel_constraint=C.NonNeg()),
            L.Dense(1, kernel_initializer=I.HeUniform(seed=9), bias_initializer=I.Zeros())]


def stateful(time=4, is_stateful=True):
    return [keras.Input((time, 2), batch_size=BATCH),
            L.LSTM(4, stateful=is_stateful, return_sequences=True),
            L.GRU(3, stateful=is_stateful), L.Dense(1)]


def rnn_dropout():
    return [keras.Input((TIME, FEATURES)),
            L.LSTM(4, dropout=0.2, recurrent_dropout=0.1, return_sequences=True),
            L.GRU(3, dropout=0.1, return_sequences=True), L.SimpleRNN(2, recurrent_dropout=0.3),
            L.Dense(1)]


def masking():
    return [keras.Input((TIME, FEATURES)), L.Masking(0.0),
            L.SimpleRNN(4, return_sequences=True), L.LSTM(3, return_sequences=True),
            L.Dense(2)]


def embedding_mask():
    return [keras.Input((TIME,), dtype="int32"),
            L.Embedding(VOCAB, 4, mask_zero=True, embeddings_regularizer=R.L2(1e-3),
                        embeddings_constraint=C.MaxNorm(2.0),
                        embeddings_initializer=I.RandomNormal(seed=8)),
            L.LSTM(5, return_sequences=True), L.GRU(3), L.Dense(1)]


def bidirectional():
    return [keras.Input((TIME, FEATURES)),
            L.Bidirectional(L.LSTM(3, return_sequences=True)),
            L.Bidirectional(L.GRU(2), merge_mode="sum"), L.Dense(1)]


def bidirectional_masked():
    return [keras.Input((TIME,), dtype="int32"), L.Embedding(VOCAB, 3, mask_zero=True),
            L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="mul"),
            L.Bidirectional(L.GRU(2, reset_after=False, return_sequences=True), merge_mode="ave"),
            L.Bidirectional(L.LSTM(2)), L.Dense(1)]


def bidirectional_backward_layer():
    return [keras.Input((TIME, FEATURES)),
            L.Bidirectional(L.LSTM(3, return_sequences=True),
                            backward_layer=L.GRU(3, activation="relu", return_sequences=True,
                                                 go_backwards=True)),
            L.TimeDistributed(L.Dense(2)), L.Flatten(), L.Dense(1)]


# case -> (layers, input maker, masked)
CASES = {
    "recurrent": (recurrent, float_input),
    "misc": (misc, lambda rng: float_input(rng, time=5)),
    "regularized": (regularized, float_input),
    "stateful": (stateful, lambda rng: float_input(rng, time=4)[..., :2].copy()),
    "rnn_dropout": (rnn_dropout, float_input),
    "masking": (masking, lambda rng: padded(float_input(rng))),
    "embedding_mask": (embedding_mask, padded_ids),
    "bidirectional": (bidirectional, float_input),
    "bidirectional_masked": (bidirectional_masked, padded_ids),
    "bidirectional_backward_layer": (bidirectional_backward_layer, float_input),
}

# files saved with a compile config (optimizer settings, loss, metrics)
COMPILED = {
    "recurrent": lambda: dict(optimizer=keras.optimizers.Adam(0.01),
                              loss="categorical_crossentropy", metrics=["accuracy"]),
    "stateful": lambda: dict(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                             loss=keras.losses.MeanSquaredError(), metrics=["mae"]),
}

ARRAYS = {}


def set_random_weights(model, rng):
    model.set_weights([rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32)
                       for w in model.get_weights()])


def record(case, model, x, y):
    ARRAYS[f"{case}/x"] = x
    ARRAYS[f"{case}/y"] = np.asarray(y, dtype=np.float32)
    kept = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    ARRAYS[f"{case}/params"] = np.array([layer.count_params() for layer in kept], np.int64)
    ARRAYS[f"{case}/names"] = np.array([layer.name for layer in kept])


def deflate(path):
    """Keras stores its zip members uncompressed, and model.weights.h5 is mostly padding;
    rewrite the archive with deflate (the members stay byte for byte what Keras wrote)."""
    with zipfile.ZipFile(path) as zf:
        members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def save(model, stem, legacy=True):
    model.save(os.path.join(OUT, f"{stem}.keras"))
    deflate(os.path.join(OUT, f"{stem}.keras"))
    if legacy:
        model.save(os.path.join(OUT, f"{stem}.h5"))


def make_case(case, make_layers, make_input):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    rng = rng_for(case)
    model = keras.Sequential(make_layers(), name=case)
    set_random_weights(model, rng)
    x = make_input(rng)
    record(case, model, x, model.predict(x, verbose=0, batch_size=BATCH))
    if case in COMPILED:
        model.compile(**COMPILED[case]())
    save(model, case)
    if case == "regularized":
        model(x)  # the activity penalties of a call join model.losses
        ARRAYS[f"{case}/losses"] = np.array([float(v) for v in model.losses], np.float32)
    if case == "stateful":
        x2 = float_input(rng, time=4)[..., :2].copy()
        twin = keras.Sequential(stateful(time=8, is_stateful=False))
        twin.set_weights(model.get_weights())
        ARRAYS["stateful/x2"] = x2
        ARRAYS["stateful/y2"] = twin.predict(np.concatenate([x, x2], axis=1), verbose=0)


def make_functional():
    """A functional model that is a plain chain of layers."""
    keras.backend.clear_session()
    rng = rng_for("functional")
    inputs = keras.Input((TIME, FEATURES))
    h = L.LSTM(4, return_sequences=True)(inputs)
    outputs = L.Dense(1)(L.GRU(3)(h))
    model = keras.Model(inputs, outputs, name="functional")
    set_random_weights(model, rng)
    x = float_input(rng)
    record("functional", model, x, model.predict(x, verbose=0))
    save(model, "functional")


def make_unsupported():
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input((TIME, FEATURES)), L.Conv1D(2, 3), L.LSTM(2)])
    save(model, "unsupported", legacy=False)


# tf.keras 2 (package tf_keras, `pip install tf_keras` next to tensorflow): legacy .h5 files
# with ":0" weight names and Keras 2 configs (batch_input_shape, string dtypes, time_major,
# implementation, "Custom>" optimizer names).
TF2_CASES = ("stack", "bidirectional")


def tf2_layers(tk, case):
    if case == "stack":
        return [tk.layers.InputLayer(input_shape=(TIME, FEATURES)),
                tk.layers.LSTM(4, return_sequences=True,
                               kernel_regularizer=tk.regularizers.L2(0.01)),
                tk.layers.GRU(3, reset_after=False, return_sequences=True),
                tk.layers.SimpleRNN(2), tk.layers.Dense(1)]
    return [tk.layers.Embedding(VOCAB, 3, mask_zero=True, input_length=TIME),
            tk.layers.Bidirectional(tk.layers.LSTM(3, return_sequences=True), merge_mode="sum"),
            tk.layers.Bidirectional(tk.layers.GRU(2)), tk.layers.Dense(1)]


def make_tf2_files():
    try:
        import tf_keras as tk
    except ImportError:
        print("tf_keras is not installed: no tf.keras 2 files written", file=sys.stderr)
        return
    for case in TF2_CASES:
        tk.backend.clear_session()
        rng = rng_for(f"tf2_{case}")
        model = tk.Sequential(tf2_layers(tk, case))
        if case == "bidirectional":
            model.build((None, TIME))
        else:
            model.compile(optimizer=tk.optimizers.RMSprop(0.002), loss="mse")
        set_random_weights(model, rng)
        x = padded_ids(rng) if case == "bidirectional" else float_input(rng)
        record(f"tf2_{case}", model, x, model.predict(x, verbose=0))
        model.save(os.path.join(OUT, f"tf2_{case}.h5"))
    ARRAYS["meta/tf_keras_version"] = np.array(tk.__version__)


def main():
    if keras.backend.backend() != "jax":
        raise SystemExit("Run with KERAS_BACKEND=jax")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    for case, (make_layers, make_input) in CASES.items():
        make_case(case, make_layers, make_input)
    make_functional()
    make_unsupported()
    make_tf2_files()
    ARRAYS["meta/keras_version"] = np.array(keras.__version__)
    np.savez_compressed(os.path.join(OUT, "expected.npz"), **ARRAYS)
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):8d}  {name}")


if __name__ == "__main__":
    main()
