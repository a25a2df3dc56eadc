"""The `rnnkit` command through its installed entry point, each subcommand on a tiny budget,
its numbers checked against the same experiment run here through the public API."""

import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from rnnkit.cli import tasks
from rnnkit.cli.experiment import CellRun
from rnnkit.diagnostics import gradient_norms, memory_horizon
from rnnkit.models import load_model
from rnnkit.utils import set_random_seed

ENTRY = pathlib.Path(sys.executable).with_name("rnnkit")


def rnnkit(*args, cwd, check=True):
    """Run the installed `rnnkit` script; (returncode, stdout + stderr)."""
    assert ENTRY.exists(), f"the rnnkit entry point is not installed next to {sys.executable}"
    done = subprocess.run([str(ENTRY), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done.returncode, done.stdout + done.stderr


def fit_like_the_cli(task, cell, units, epochs, batch_size, seed):
    set_random_seed(seed)
    model = task.model(cell, units)
    probe = task.x_val[:256], task.y_val[:256]
    before = gradient_norms(model, *probe)
    set_random_seed(seed)
    history = model.fit(task.x_train, task.y_train, epochs=epochs, batch_size=batch_size,
                        validation_data=(task.x_val, task.y_val), shuffle=True, verbose=0)
    return model, history.history, before, gradient_norms(model, *probe)


def test_help_for_every_command(tmp_path, capsys):
    from rnnkit.cli import main

    _, out = rnnkit("--help", cwd=tmp_path)
    for command in ("compare", "gradients", "horizon", "train", "bench"):
        assert command in out
        with pytest.raises(SystemExit) as stop:
            main([command, "--help"])
        sub = capsys.readouterr().out
        assert stop.value.code == 0 and f"usage: rnnkit {command}" in sub and "--seed" in sub
    code, out = rnnkit("compare", "--dataset", "nope", cwd=tmp_path, check=False)
    assert code == 2 and "invalid choice: 'nope'" in out


def test_compare_on_the_default_dataset_writes_the_report(tmp_path):
    _, out = rnnkit("compare", "--epochs", "2", "--units", "4", "--seed", "3", "--verbose", "0",
                    "--out", "report", cwd=tmp_path)
    folder = tmp_path / "report"
    assert {p.name for p in folder.iterdir()} == {"compare.md", "compare.html", "compare.json",
                                                 "losses.png", "gradients.png"}
    assert all((folder / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
               for p in ("losses.png", "gradients.png"))
    numbers = json.loads((folder / "compare.json").read_text())
    task = tasks.load("sunspots", seed=3)
    assert "sunspot" in out and numbers["dataset"] == task.description
    assert numbers["baselines"]["persistence"] == pytest.approx(
        np.mean((task.y_val - task.x_val[:, -1]) ** 2), rel=1e-6)
    for run in numbers["runs"]:
        model, history, before, after = fit_like_the_cli(task, run["cell"], 4, 2, 32, seed=3)
        assert run["params"] == model.count_params()
        assert f"{run['cell']}" in out and f"{model.count_params():,}" in out
        for key in ("loss", "val_loss"):
            np.testing.assert_allclose(run["history"][key], history[key], rtol=1e-5)
        np.testing.assert_allclose(run["norms_initial"], before, rtol=1e-5)
        np.testing.assert_allclose(run["norms_trained"], after, rtol=1e-5)
    markdown = (folder / "compare.md").read_text()
    html = (folder / "compare.html").read_text()
    for run in numbers["runs"]:
        row = f"| {run['cell']} | {run['params']:,} |"
        assert row in markdown and f"<td>{run['cell']}</td><td>{run['params']:,}</td>" in html
    assert "![Training (solid)" in markdown and "<img src='losses.png'" in html


def test_compare_is_deterministic_and_its_report_names_the_command_that_repeats_it(tmp_path):
    def history(out):
        return json.loads((tmp_path / out / "compare.json").read_text())["runs"][0]["history"]

    rnnkit("compare", "--dataset", "sine", "--samples", "64", "--time-steps", "6", "--epochs",
           "2", "--units", "3", "--cells", "GRU", "--seed", "1", "--verbose", "0", "--out", "a",
           cwd=tmp_path)
    command = re.search(r"Command: rnnkit (compare .*)\.$", (tmp_path / "a" / "compare.md")
                        .read_text(), re.M).group(1).split()
    assert command == ["compare", "--seed", "1", "--dataset", "sine", "--epochs", "2", "--units",
                       "3", "--out", "a", "--cells", "GRU", "--batch-size", "32",
                       "--time-steps", "6", "--samples", "64", "--backend", "auto"]
    def again(out, seed):
        words = list(command)
        words[words.index("--out") + 1], words[words.index("--seed") + 1] = out, seed
        rnnkit(*words, "--verbose", "0", cwd=tmp_path)
        return history(out)

    assert again("b", "1") == history("a")
    assert again("c", "2") != history("a")


def test_gradients_reports_the_first_to_last_ratio(tmp_path):
    _, out = rnnkit("gradients", "--time-steps", "12", "--samples", "40", "--epochs", "1",
                    "--units", "5", "--batch-size", "8", "--verbose", "0", "--out", "g",
                    cwd=tmp_path)
    numbers = json.loads((tmp_path / "g" / "gradients.json").read_text())
    task = tasks.load("adding", time_steps=12, samples=40)
    assert [r["cell"] for r in numbers["runs"]] == ["SimpleRNN", "LSTM", "GRU"]
    for run in numbers["runs"]:
        _, _, before, after = fit_like_the_cli(task, run["cell"], 5, 1, 8, seed=0)
        assert len(run["norms_initial"]) == 12
        np.testing.assert_allclose(run["norms_initial"], before, rtol=1e-5)
        np.testing.assert_allclose(run["norms_trained"], after, rtol=1e-5)
        ratio = f"{CellRun.first_to_last(np.array(run['norms_trained'])):.3e}"
        assert ratio in out and ratio in (tmp_path / "g" / "gradients.md").read_text()
    assert (tmp_path / "g" / "gradients.png").stat().st_size > 0


def test_horizon_matches_memory_horizon(tmp_path):
    _, out = rnnkit("horizon", "--task", "copy", "--lags", "3", "5", "--cells", "SimpleRNN",
                    "LSTM", "--samples", "30", "--epochs", "1", "--units", "3", "--seed", "4",
                    "--verbose", "0", "--out", "h", cwd=tmp_path)
    points = json.loads((tmp_path / "h" / "horizon.json").read_text())["points"]
    expected = memory_horizon(("SimpleRNN", "LSTM"), (3, 5), task="copy", units=3, samples=30,
                              epochs=1, seed=4)
    assert [(p["cell"], p["lag"]) for p in points] == [(p.cell, p.lag) for p in expected]
    for got, want in zip(points, expected):
        assert got["val_loss"] == pytest.approx(want.val_loss, rel=1e-5)
        assert got["relative"] == pytest.approx(want.relative, rel=1e-5)
        assert f"{want.relative:.3f}" in out
    assert (tmp_path / "h" / "horizon.png").exists()


def test_train_from_a_config_file_saves_a_model_that_scores_as_printed(tmp_path):
    config = {"dataset": "sine", "time_steps": 8, "samples": 80,
              "layers": [{"class_name": "GRU", "config": {"units": 6}},
                         {"class_name": "Dense", "config": {"units": 1}}],
              "compile": {"optimizer": "rmsprop"}, "fit": {"epochs": 2, "batch_size": 16}}
    (tmp_path / "c.json").write_text(json.dumps(config))
    _, out = rnnkit("train", "c.json", "--output", "m.rnnkit", "--verbose", "0", cwd=tmp_path)
    model = load_model(tmp_path / "m.rnnkit")
    task = tasks.load("sine", time_steps=8, samples=80)
    assert [type(l).__name__ for l in model.layers] == ["GRU", "Dense"]
    assert type(model.optimizer).__name__ == "RMSprop"
    loss = model.evaluate(task.x_val, task.y_val, verbose=0)
    assert f"Validation: loss {loss:.4f}" in out
    # the same training here gives the same model
    from rnnkit.cli.train import build
    set_random_seed(0)
    here = build(config, task)
    here.fit(task.x_train, task.y_train, validation_data=(task.x_val, task.y_val), verbose=0,
             epochs=2, batch_size=16)
    for a, b in zip(here.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_train_config_errors_name_the_problem(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"dataset": "sine", "epochs": 3}))
    code, out = rnnkit("train", "bad.json", cwd=tmp_path, check=False)
    assert code == 2 and "unknown keys ['epochs']" in out and "bad.json" in out
    code, out = rnnkit("train", "missing.json", cwd=tmp_path, check=False)
    assert code == 2 and "cannot read config missing.json" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1


def test_bench_times_every_cell_against_torch(tmp_path):
    _, out = rnnkit("bench", "--shapes", "2,5,3,4", "--reps", "1", "--verbose", "0",
                    cwd=tmp_path)
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in
            (["SimpleRNN"], ["LSTM"], ["GRU"])]
    assert [r[0] for r in rows] == ["SimpleRNN", "LSTM", "GRU"]
    for r in rows:
        assert r[1] == "2,5,3,4" and r[2] in ("native", "reference")
        train, torch_train, ratio = map(float, r[3:6])  # printed to 0.01
        assert (torch_train - 0.005) / (train + 0.005) - 0.005 <= ratio
        assert ratio <= (torch_train + 0.005) / max(train - 0.005, 1e-9) + 0.005
    code, out = rnnkit("bench", "--shapes", "2,5,3", cwd=tmp_path, check=False)
    assert code == 2 and "expected a shape B,T,I,H of four positive integers, got '2,5,3'" in out


def test_plots_without_matplotlib_name_the_extra(monkeypatch):
    from rnnkit.cli import report
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "rnnkit\[plots\]"'):
        report.pyplot()


@pytest.mark.parametrize("name, kwargs", [
    ("sunspots", {"time_steps": 12}), ("co2", {"time_steps": 20}), ("sine", {"samples": 40}),
    ("adding", {"time_steps": 9, "samples": 40}), ("digits", {}), ("mnist", {}),
    ("text", {"time_steps": 10, "samples": 200})])
def test_every_named_dataset_trains_the_seed_model_and_knows_its_baselines(name, kwargs):
    import torch

    task = tasks.load(name, **kwargs)
    assert len(task.x_train) > len(task.x_val) > 0
    if kwargs.get("time_steps"):
        assert task.time_steps == kwargs["time_steps"]
    model = task.model("GRU", 4)
    model.fit(task.x_train[:16], task.y_train[:16], epochs=1, batch_size=8, verbose=0)
    prediction = model.predict(task.x_val[:5], verbose=0)
    assert prediction.shape == (5, task.classes or 1)
    if task.classes:  # the loss of predicting the training part's class frequencies, add-one
        counts = np.bincount(task.y_train, minlength=task.classes) + 1
        frequencies = counts / counts.sum()
        logits = torch.log(torch.tensor(frequencies)).expand(len(task.y_val), -1)
        assert task.baselines["class frequencies"] == pytest.approx(
            torch.nn.functional.cross_entropy(logits, torch.from_numpy(task.y_val)).item())
        assert prediction.sum(axis=1) == pytest.approx(1.0, abs=1e-5)
    else:
        assert task.baselines["mean predictor"] == pytest.approx(
            np.mean((task.y_val - np.mean(task.y_train)) ** 2), rel=1e-6)
    if name in ("sunspots", "co2", "sine"):
        assert task.baselines["persistence"] == pytest.approx(
            np.mean((task.y_val[:, 0] - task.x_val[:, -1, 0]) ** 2), rel=1e-6)
    with pytest.raises(ValueError, match="expected a dataset among sunspots, .*, got 'iris'"):
        tasks.load("iris")


def test_bad_input_gets_one_clear_error(tmp_path, capsys):
    from rnnkit.cli import main

    def error(*argv):
        try:
            code = main(list(argv))
        except SystemExit as stop:
            code = stop.code
        out = capsys.readouterr()
        return code, out.out + out.err

    code, out = error("compare", "--epochs", "-1")
    assert code == 2 and "argument --epochs: expected an integer of at least 0, got '-1'" in out
    code, out = error("horizon", "--lags", "50", "1")
    assert code == 2 and "argument --lags: expected an integer of at least 2, got '1'" in out
    code, out = error("compare", "--dataset", "digits", "--time-steps", "5", "--out",
                      str(tmp_path / "r"))
    assert code == 2 and out.strip().endswith(
        "the digits dataset is fixed: expected no time_steps (it takes neither time_steps nor "
        "samples), got time_steps=5.")
    for layers, message in (([], 'expected at least one layer in "layers", got none.'),
                            ([{"class_name": "GRU", "config": {"units": 3}}],
                             "expected the last layer to output 1 value for the sine dataset, "
                             "got 3.")):
        (tmp_path / "c.json").write_text(json.dumps({"dataset": "sine", "samples": 20,
                                                     "layers": layers}))
        code, out = error("train", str(tmp_path / "c.json"))
        assert code == 2 and message in out


GRU_2 = {"class_name": "GRU", "config": {"units": 2}}
DENSE_1 = {"class_name": "Dense", "config": {"units": 1}}


@pytest.mark.parametrize("change,message", [
    ({"layers": {"class_name": "GRU", "config": {"units": 2}}},
     "expected \"layers\" to be a list of layer records, got {'class_name': 'GRU', 'config': "),
    ({"layers": [{"class_name": "GRU", "config": {}}, DENSE_1]},
     "layers[0] (GRU): GRU.__init__() missing 1 required positional argument: 'units'"),
    ({"layers": [{"class_name": "Dense", "config": {"units": "1"}}]},
     "layers[0] (Dense): dense: expected units to be a positive integer, got '1' (str)."),
    ({"layers": [GRU_2, 7]}, 'expected layers[1] as {"class_name": "...", "config": {...}}, '
                             "got 7."),
    ({"layers": [{"class_name": "Conv2D", "config": {}}]},
     "layers[0] (Conv2D): unknown layer class 'Conv2D'"),
    ({"layers": [{"class_name": "Dropout", "config": {"rate": -0.5}}, GRU_2, DENSE_1]},
     "layers[0] (Dropout): dropout: expected rate to be a number between 0 and 1, got -0.5."),
    ({"layers": [{"class_name": "GRU", "config": {"units": 2, "return_sequences": True}},
                 DENSE_1]},
     "the sine dataset: expected y of shape (16, 4, 1) or (16, 4) for the model's output of "
     "shape (None, 4, 1)"),
    ({"layers": [{"class_name": "GRU", "config": {"units": 2, "input_shape": [None, 3]}},
                 DENSE_1]},
     "the first layer declares input of shape (None, None, 3), but the sine dataset's x has "
     "shape (None, 4, 1)"),
    ({"layers": [GRU_2, DENSE_1], "units": 4}, '"cell" and "units" choose the seed\'s model'),
    ({"fit": {"epochs": 1, "batch_sise": 8}},
     "unknown fit argument(s) ['batch_sise']; expected some of ['epochs', 'batch_size'"),
    ({"fit": {"epochs": 1, "verbose": 2}}, "unknown fit argument(s) ['verbose']"),
    ({"fit": {"epochs": "2"}}, "fit: expected epochs to be a non-negative integer, got '2' (str)."),
    ({"fit": {"epochs": 1, "batch_size": 0}},
     "fit: expected batch_size to be a positive integer, got 0."),
    ({"fit": [1]}, 'expected "fit" to be a JSON object of fit\'s arguments, got [1].'),
    ({"compile": "adam"}, 'expected "compile" to be a JSON object of compile\'s arguments'),
    ({"compile": {"optimiser": "adam"}},
     "compile: sequential.compile: unexpected argument(s) ['optimiser']"),
    ({"compile": {"optimizer": 3}}, "compile: sequential: unknown optimizer 3."),
    ({"compile": {"loss": None}}, "compile: expected a loss for the sine dataset, got null."),
    ({"compile": {"loss": "sparse_categorical_crossentropy"}},
     "the loss sparse_categorical_crossentropy takes class ids, but the sine dataset's targets "
     "are values."),
    ({"cell": "Transformer"}, 'expected "cell" one of SimpleRNN, LSTM, GRU, got \'Transformer\'.'),
    ({"units": 2.5}, "expected units to be a positive integer, got 2.5 (float)."),
    ({"samples": "20"}, "expected samples to be an integer of at least 10, got '20' (str)."),
    ({"time_steps": 1}, "expected time_steps to be an integer of at least 2, got 1."),
    ({"dataset": ["sine"]}, "expected a dataset among sunspots, co2, sine, adding, digits, "
                            "mnist, text, got ['sine']."),
])
def test_train_config_mistakes_exit_2_with_one_line(tmp_path, capsys, change, message):
    """Every mistake in a config: status 2 and one line naming it, as argparse reports a bad
    option; before, some printed a traceback and others exited with status 1."""
    from rnnkit.cli import main

    config = {"dataset": "sine", "samples": 20, "time_steps": 4, "fit": {"epochs": 1}, **change}
    (tmp_path / "c.json").write_text(json.dumps(config))
    code = main(["train", str(tmp_path / "c.json"), "--verbose", "0",
                 "--output", str(tmp_path / "m.rnnkit")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("rnnkit train: error: "), err
    assert message in err and not (tmp_path / "m.rnnkit").exists()


@pytest.mark.parametrize("text", ["[1, 2]", "{\"dataset\": ", "\"sine\"", "\udcff"])
def test_train_config_that_is_no_json_object(tmp_path, capsys, text):
    from rnnkit.cli import main

    (tmp_path / "c.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    assert main(["train", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rnnkit train: error: ")
    assert "cannot read config" in err or 'expected a JSON object with a "dataset" key' in err


def test_train_keeps_the_traceback_of_a_bug(tmp_path, monkeypatch):
    """Only the config's checks and the model's construction speak for the user: an error
    while training is a bug, and it must reach the user whole."""
    from rnnkit.cli import main
    from rnnkit.models import Sequential

    def broken(self, *args, **kwargs):
        raise ValueError("an internal mistake")

    monkeypatch.setattr(Sequential, "fit", broken)
    (tmp_path / "c.json").write_text(json.dumps({"dataset": "sine", "samples": 20, "units": 2,
                                                 "fit": {"epochs": 1}}))
    with pytest.raises(ValueError, match="an internal mistake"):
        main(["train", str(tmp_path / "c.json"), "--verbose", "0",
              "--output", str(tmp_path / "m.rnnkit")])
