"""Keras 3 fixtures of CSVLogger for tests/test_csv_logger.py: the file it writes for the epoch
logs of tests/data/csv_logger_cases.py, after a second run with append=True, and with a ";"
separator.

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_csv_logger.py
"""

import json
import os
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import keras  # noqa: E402

import csv_logger_cases as cases  # noqa: E402

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "log.csv")
        out = {"keras": keras.__version__, "plain": cases.run(keras, path),
               "appended": cases.run(keras, path, append=True),
               "semicolon": cases.run(keras, os.path.join(folder, "semi.csv"), separator=";")}
    with open(os.path.join(HERE, "keras_csv_logger.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
