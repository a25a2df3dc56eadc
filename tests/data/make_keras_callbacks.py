"""Keras 3 fixtures of ModelCheckpoint(save_freq=N) and TensorBoard for
tests/test_callbacks_more.py, from the calls of tests/data/callback_cases.py: which files
ModelCheckpoint has written after each batch and epoch (names from {epoch}, {batch} and the
logs), which filepaths it refuses, and the scalars TensorBoard writes (folder, tag, step,
value). No TensorFlow is installed with Keras on JAX, so TensorBoard's `summary` module is
replaced by a recorder that keeps tf.summary's rules (a scalar is written only under a default
writer, and only when the innermost `record_if` condition holds).

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_callbacks.py
"""

import contextlib
import json
import os
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import keras  # noqa: E402

import callback_cases as cases  # noqa: E402


class _Summary:
    """tf.summary's rules for scalar(): the default writer and the record_if condition."""

    def __init__(self):
        self.records, self._writers, self._conditions = [], [], []

    def create_file_writer(self, folder):
        return _Writer(self, os.path.basename(folder))

    def record_if(self, condition):
        @contextlib.contextmanager
        def scope():
            self._conditions.append(condition)
            try:
                yield
            finally:
                self._conditions.pop()
        return scope()

    def scalar(self, tag, value, step=None):
        if not self._writers:
            return
        folder, default_step = self._writers[-1]
        if self._conditions and not self._conditions[-1]():
            return
        self.records.append((folder, tag, int(step if step is not None else default_step),
                             float(value)))


class _Writer:
    def __init__(self, summary, folder):
        self.summary, self.folder = summary, folder

    @contextlib.contextmanager
    def _default(self, step):
        self.summary._writers.append((self.folder, step))
        try:
            yield
        finally:
            self.summary._writers.pop()

    def as_default(self, step=None):
        return self._default(step)

    def close(self):
        pass

    def flush(self):
        pass


def board_rows(**kwargs):
    with tempfile.TemporaryDirectory() as folder:
        cb = keras.callbacks.TensorBoard(folder, write_graph=False, **kwargs)
        cb._summary_module = summary = _Summary()
        for _ in cases.drive(cb, cases._model(keras)):
            pass
    return cases.as_rows(summary.records)


def checkpoints():
    out = {}
    for name, kwargs in cases.CHECKPOINTS.items():
        with tempfile.TemporaryDirectory() as folder:
            try:
                out[name] = cases.checkpoint_files(keras, folder, **kwargs)
            except Exception as e:  # noqa: BLE001 - Keras's own failure is the fixture
                out[name] = f"{type(e).__name__}: {e}"
    return out


if __name__ == "__main__":
    out = {"keras": keras.__version__, "checkpoints": checkpoints(),
           "bad_paths": [cases.bad_path_error(keras, **kw) for kw in cases.BAD_PATHS],
           "boards": {name: board_rows(**kw) for name, kw in cases.BOARDS.items()}}
    with open(os.path.join(HERE, "keras_callbacks.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
