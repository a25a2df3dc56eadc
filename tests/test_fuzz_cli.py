"""`rnnkit train` on random configs, most of them wrong: each run ends (status 0, the model
saved) or reports the mistake (status 2, one line "rnnkit train: error: ..."); never a
traceback. In-process on a tiny generated dataset, one epoch."""

import contextlib
import io
import json
import math
import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.cli import main

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# JSON's values, NaN and infinities included (Python's json reads and writes them)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 6),
                    st.sampled_from([0.5, -0.2, 1.0, 2.5, math.nan, math.inf]),
                    st.sampled_from(["", "x", "tanh", "relu", "adam", "mse", "3"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["a", "units", "class_name"]), inner,
                                        max_size=2), max_leaves=4)


def _keys(names, values):
    return st.dictionaries(st.sampled_from(names), values, max_size=3)


LAYER_CONFIG = _keys(["units", "activation", "return_sequences", "dropout", "recurrent_dropout",
                      "rate", "use_bias", "bogus"], st.one_of(st.integers(1, 3), VALUES))
RECORD = st.one_of(
    st.fixed_dictionaries({"class_name": st.sampled_from(
        ["SimpleRNN", "LSTM", "GRU", "Dense", "Dropout", "Flatten", "Conv1D"]),
        "config": LAYER_CONFIG}),
    VALUES)
# a recurrent layer and Dense(1), each with some random arguments: often a model that trains
GOOD_STACK = st.tuples(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]), LAYER_CONFIG,
                       LAYER_CONFIG).map(lambda t: [
                           {"class_name": t[0], "config": {"units": 2, **t[1]}},
                           {"class_name": "Dense", "config": {**t[2], "units": 1}}])
LAYERS = st.one_of(GOOD_STACK, st.lists(RECORD, max_size=3), VALUES)
FIT = _keys(["epochs", "batch_size", "shuffle", "initial_epoch", "validation_batch_size",
             "verbose", "epoch"], st.one_of(st.integers(-1, 2), VALUES))
COMPILE = _keys(["optimizer", "loss", "metrics", "optimiser"], st.one_of(
    st.sampled_from(["adam", "sgd", "mae", "huber", "binary_crossentropy",
                     "sparse_categorical_crossentropy", ["mae"], ["accuracy"]]), VALUES))


@st.composite
def configs(draw):
    config = {"dataset": draw(st.sampled_from(["sine", "adding", "nope"])),
              "samples": draw(st.sampled_from([10, 20])), "time_steps": 3}
    if draw(st.booleans()):
        config["layers"] = draw(LAYERS)
    else:
        config.update(draw(_keys(["cell", "units"], st.one_of(
            st.sampled_from(["GRU", "LSTM", "SimpleRNN", "RNN"]), st.integers(0, 3), VALUES))))
    fit = draw(st.one_of(FIT, VALUES))
    config["fit"] = {"epochs": 1, **fit} if isinstance(fit, dict) else fit
    if draw(st.booleans()):
        config["compile"] = draw(st.one_of(COMPILE, VALUES))
    for key in draw(st.lists(st.sampled_from(sorted(config) + ["extra"]), max_size=2)):
        config[key] = draw(VALUES)  # a key's value replaced by anything, or a key added
    return draw(st.one_of(st.just(config), st.just(config), VALUES))


def _train(config) -> tuple[int, str, bool]:
    with tempfile.TemporaryDirectory() as folder:
        path, output = Path(folder) / "c.json", Path(folder) / "m.rnnkit"
        path.write_text(json.dumps(config))
        err = io.StringIO()
        with (contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err),
              warnings.catch_warnings()):
            warnings.simplefilter("ignore")  # e.g. a build without the compiled core
            code = main(["train", str(path), "--verbose", "0", "--output", str(output)])
        return code, err.getvalue(), output.exists()


@SETTINGS
@given(configs())
def test_random_configs_train_or_name_the_mistake(config):
    code, err, saved = _train(config)
    if code == 0:
        assert saved and err == ""
    else:
        assert code == 2 and not saved, (code, err)
        assert err.startswith("rnnkit train: error: ") and err.count("\n") == 1, err
