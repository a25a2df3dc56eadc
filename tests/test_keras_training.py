"""Training against real Keras 3: optimizer steps, train_on_batch losses, fit/evaluate/predict."""

import numpy as np
import pytest

from rnnkit import layers, optimizers
from rnnkit.models import Sequential
from helpers import assert_close

CELLS = ["simple_rnn", "lstm", "gru"]
OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(),
    "sgd_nesterov": lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(),
    "rmsprop": lambda: optimizers.RMSprop(),
    "adagrad": lambda: optimizers.Adagrad(),
    "adamw": lambda: optimizers.AdamW(),
    "adam_amsgrad": lambda: optimizers.Adam(learning_rate=0.01, amsgrad=True),
    "sgd_clipnorm": lambda: optimizers.SGD(learning_rate=0.1, clipnorm=0.05),
    "sgd_clipnorm_zero": lambda: optimizers.SGD(learning_rate=0.1, clipnorm=0.0),
    "sgd_global_clipnorm": lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9,
                                                  global_clipnorm=0.1),
    "adam_clipvalue": lambda: optimizers.Adam(learning_rate=0.01, clipvalue=0.01),
    "sgd_weight_decay": lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.1),
    "adam_weight_decay": lambda: optimizers.Adam(learning_rate=0.01, weight_decay=0.05),
}


def _seed_like_model(golden, cell):
    meta = golden.meta["training"]["cells"][cell]
    model = Sequential([layers.Input((None, 1)), getattr(layers, meta["class"])(meta["units"]),
                        layers.Dense(1)])
    model.set_weights(golden.seq(f"train/{cell}/w_init", meta["n_weights"]))
    return model, meta


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_train_on_batch_matches_keras(golden, cell, opt):
    model, meta = _seed_like_model(golden, cell)
    model.compile(optimizer=OPTIMIZERS[opt](), loss=meta["loss"])
    x, y = golden[f"train/{cell}/x"], golden[f"train/{cell}/y"]
    losses = [model.train_on_batch(x, y) for _ in range(3)]
    np.testing.assert_allclose(losses, meta["losses"][opt], rtol=2e-5)
    # weights after step 1 are checked by a fresh run, after step 3 here
    for got, want in zip(model.get_weights(), golden.seq(f"train/{cell}/{opt}/step3_w", meta["n_weights"])):
        assert_close(got, want)


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_one_step_weights_match_keras(golden, opt):
    model, meta = _seed_like_model(golden, "lstm")
    model.compile(optimizer=opt, loss="mean_squared_error")
    model.train_on_batch(golden["train/lstm/x"], golden["train/lstm/y"])
    for got, want in zip(model.get_weights(), golden.seq(f"train/lstm/{opt}/step1_w", 5)):
        assert_close(got, want)


@pytest.mark.parametrize("loss", ["mean_absolute_error", "huber"])
def test_other_losses_train_like_keras(golden, loss):
    model, meta = _seed_like_model(golden, "gru")
    model.compile(optimizer="sgd", loss=loss)
    got = model.train_on_batch(golden["train/gru/x"], golden["train/gru/y"])
    np.testing.assert_allclose(got, meta["extra_losses"][f"sgd_{loss}"]["losses"][0], rtol=2e-5)
    for got_w, want in zip(model.get_weights(), golden.seq(f"train/gru/sgd_{loss}/step1_w", 5)):
        assert_close(got_w, want)


def test_global_clipnorm_spans_every_parameter_group(golden):
    """Two param groups clip by the norm over both, exactly as one group does (Keras has one
    list of variables), and the one-group result is Keras's."""
    x, y = golden["train/lstm/x"], golden["train/lstm/y"]
    model, meta = _seed_like_model(golden, "lstm")
    params = list(model.parameters())
    opt = optimizers.SGD([{"params": params[:3]}, {"params": params[3:]}], learning_rate=0.1,
                         momentum=0.9, global_clipnorm=0.1)
    model.compile(optimizer=opt, loss=meta["loss"])
    for _ in range(3):
        model.train_on_batch(x, y)
    for got, want in zip(model.get_weights(),
                         golden.seq("train/lstm/sgd_global_clipnorm/step3_w", meta["n_weights"])):
        assert_close(got, want)


def test_optimizer_defaults_match_keras(golden):
    configs = golden.meta["training"]["optimizers"]
    for key, make in OPTIMIZERS.items():
        ours = make().get_config()
        for name, value in configs[key].items():
            if name in ours:
                if isinstance(value, float):
                    assert ours[name] == pytest.approx(value, rel=1e-6), (key, name)
                else:
                    assert ours[name] == value, (key, name)


def _fit_model(golden):
    model = Sequential([layers.Input((None, 1)), layers.LSTM(4), layers.Dense(1)])
    model.set_weights(golden.seq("fit/w_init", 5))
    model.compile("sgd", "mse", metrics=["mae", "mse"])
    return model


def test_fit_history_matches_keras(golden):
    meta = golden.meta["fit"]
    model = _fit_model(golden)
    h = model.fit(golden["fit/x"], golden["fit/y"], **meta["fit_kwargs"])
    assert list(h.history) == meta["history_keys"]
    for key, values in meta["history"].items():
        np.testing.assert_allclose(h.history[key], values, rtol=2e-5, err_msg=key)
    assert h.params == meta["params"]
    assert h.epoch == meta["epoch"]
    assert model.history is h
    for got, want in zip(model.get_weights(), golden.seq("fit/w_after_fit", 5)):
        assert_close(got, want)

    result = model.evaluate(golden["fit/x"], golden["fit/y"], batch_size=4, verbose=0,
                            return_dict=True)
    assert list(result) == list(meta["evaluate"])
    for key, value in meta["evaluate"].items():
        assert result[key] == pytest.approx(value, rel=2e-5)
    as_list = model.evaluate(golden["fit/x"], golden["fit/y"], batch_size=4, verbose=0)
    np.testing.assert_allclose(as_list, meta["evaluate_list"], rtol=2e-5)
    assert_close(model.predict(golden["fit/x"], batch_size=4, verbose=0), golden["fit/predict"])


def test_fit_verbose2_text_matches_keras_format(golden, capsys):
    meta = golden.meta["fit"]
    model = _fit_model(golden)
    model.fit(golden["fit/x"], golden["fit/y"], **{**meta["fit_kwargs"], "verbose": 2})
    ours = capsys.readouterr().out
    strip = lambda text: [line.split(" - ", 3)[::3] for line in text.splitlines()]  # drop times
    assert strip(ours) == strip(meta["fit_text_verbose2"])


def test_fit_verbose1_not_a_terminal_prints_one_line_per_epoch(golden, capsys):
    meta = golden.meta["fit"]
    model = _fit_model(golden)
    model.fit(golden["fit/x"], golden["fit/y"], **{**meta["fit_kwargs"], "verbose": 1})
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ", 3)[::3] for line in lines] == \
        [line.split(" - ", 3)[::3] for line in meta["fit_text_verbose2"].splitlines()]
