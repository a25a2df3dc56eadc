"""The programs of examples/ run in-process on a tiny budget (they run and report what they
promise), and, marked slow, on their default budget, where they must have learned: accuracy
above chance, a forecast better than the naive ones, a text model better than character counts.

Run the slow ones with: .venv/bin/python -m pytest tests/test_examples.py -m slow -s
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUIET = ["--verbose", "0"]


def example(name):
    """The example's module, imported from its path (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"rnnkit_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_examples_are_listed_in_the_readme():
    readme = (EXAMPLES / "README.md").read_text()
    for name in SLOW_RUNS:
        assert f"`{name}.py`" in readme, name


def test_addition_runs_and_reports(capsys):
    mod = example("addition_seq2seq")
    result = mod.main(["--samples", "300", "--epochs", "1", "--hidden", "16", *QUIET])
    out = capsys.readouterr().out
    assert "Total questions: 300" in out and "Validation accuracy:" in out
    assert out.count(" T ") == 10  # ten decoded questions, "Q 12+3 T 15 ☒ 1"
    assert set(result["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert 0 <= result["val_exact_accuracy"] <= 1 and 0 <= result["val_char_accuracy"] <= 1


def test_addition_questions_are_reversed_sums():
    mod = example("addition_seq2seq")
    questions, answers = mod.generate_questions(50, 2, np.random.default_rng(0))
    table = mod.CharacterTable("0123456789+ ")
    for q, a in zip(questions, answers):
        left, right = q[::-1].strip().split("+")
        assert int(a) == int(left) + int(right) and len(q) == 5 and len(a) == 3
        assert table.decode(table.encode(q, 5)) == q


def test_imdb_falls_back_to_synthetic_reviews(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty cache: no imdb.npz
    mod = example("imdb_bidirectional_lstm")
    result = mod.main(["--samples", "64", "--epochs", "1", "--maxlen", "40", "--units", "4",
                       *QUIET])
    out = capsys.readouterr().out
    assert "imdb.npz" in out and "Data: synthetic; 64 training and 64 validation" in out
    assert result["source"] == "synthetic" and 0 <= result["val_accuracy"] <= 1
    assert set(result["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_synthetic_reviews_are_deterministic_and_labelled_by_majority():
    mod = example("imdb_bidirectional_lstm")
    a = mod.synthetic_reviews(200, np.random.default_rng(1))
    b = mod.synthetic_reviews(200, np.random.default_rng(1))
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert all(ids[0] == 1 and min(ids[1:]) >= 3 for ids in a[0])  # start mark, index_from
    assert 0.35 < a[1].mean() < 0.65
    assert mod.synthetic_sentence(np.random.default_rng(2), 1)[-1] in \
        mod.POSITIVE + mod.NEGATIVE


def test_char_generation_runs_and_samples(capsys):
    mod = example("char_text_generation")
    result = mod.main(["--epochs", "1", "--step", "20", "--units", "16", "--generate", "5",
                       *QUIET])
    out = capsys.readouterr().out
    assert "Corpus length:" in out and out.count("...Diversity:") == 4
    assert sorted(result["samples"]) == [0.2, 0.5, 1.0, 1.2]
    assert all(len(s) == 5 for s in result["samples"].values())
    assert len(result["loss"]) == 1 and result["unigram_entropy"] > 2


def test_char_sampling_temperature():
    mod = example("char_text_generation")
    rng = np.random.default_rng(0)
    preds = np.array([0.6, 0.3, 0.1])
    cold = [mod.sample(preds, 0.01, rng) for _ in range(50)]
    assert cold == [0] * 50  # near zero temperature is argmax
    hot = np.bincount([mod.sample(preds, 1.0, rng) for _ in range(3000)], minlength=3) / 3000
    np.testing.assert_allclose(hot, preds, atol=0.04)


def test_encoder_decoder_runs_saves_and_decodes(capsys):
    mod = example("encoder_decoder_states")
    result = mod.main(["--samples", "60", "--epochs", "1", "--latent-dim", "8", "--decode", "3",
                       *QUIET])
    out = capsys.readouterr().out
    assert "Number of samples: 60" in out and "Held-out numbers translated exactly:" in out
    assert result["decoded"] == 3 and 0 <= result["held_out_exact"] <= 1
    assert set(result["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_number_words():
    words = example("encoder_decoder_states").number_to_words
    assert [words(n) for n in (0, 13, 40, 472, 900, 1005)] == [
        "zero", "thirteen", "forty", "four hundred seventy-two", "nine hundred",
        "one thousand five"]


def test_forecasting_runs_with_checkpoint_and_baselines(capsys):
    mod = example("timeseries_forecasting")
    result = mod.main(["--hours", "1200", "--epochs", "2", "--batch-size", "128", *QUIET])
    out = capsys.readouterr().out
    assert "Input shape: (128, 60, 5) - target shape: (128,)" in out
    assert "saving model to" in out and "model_checkpoint.weights.h5" in out
    assert result["epochs_run"] == 2 and set(result["history"]) == {"loss", "val_loss"}
    assert min(result["mae"], result["naive_last_mae"], result["naive_yesterday_mae"]) > 0


def test_forecast_windows_align_targets_as_keras_does():
    mod = example("timeseries_forecasting")
    features = np.random.default_rng(0).standard_normal((300, 5)).astype("float32")
    past, future, step = 24, 6, 3
    x, y = mod.windows(features, past, future, step, 16, 0, 300)[1]
    i = 16  # the first window of batch 1
    np.testing.assert_array_equal(x[0], features[i:i + past:step])
    assert y[0] == features[i + past + future, mod.TARGET]


SLOW_RUNS = {
    "addition_seq2seq": lambda r: r["val_char_accuracy"] > 0.85 and r["val_exact_accuracy"] > 0.5,
    "imdb_bidirectional_lstm": lambda r: r["val_accuracy"] > max(0.8, r["majority"] + 0.2),
    "char_text_generation": lambda r: r["loss"][-1] < 0.6 * r["unigram_entropy"]
    and r["known_word_fraction"] > 0.7,
    "encoder_decoder_states": lambda r: r["held_out_exact"] > 0.5,
    "timeseries_forecasting": lambda r: r["mae"] < 0.8 * min(r["naive_last_mae"],
                                                             r["naive_yesterday_mae"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_RUNS))
def test_example_learns_on_its_default_budget(name):
    result = example(name).main(QUIET)
    summary = {k: v for k, v in result.items() if k not in ("history", "samples", "loss")}
    assert SLOW_RUNS[name](result), summary
