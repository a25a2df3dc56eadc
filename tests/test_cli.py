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
    assert code != 0 and "unknown keys ['epochs']" in out and "bad.json" in out
    code, out = rnnkit("train", "missing.json", cwd=tmp_path, check=False)
    assert code != 0 and "cannot read config missing.json" in out


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
    assert code != 0 and "expected a shape B,T,I,H of four positive integers, got '2,5,3'" in out


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
        assert code not in (0, None) and message in (out + str(code))
