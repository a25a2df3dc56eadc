"""Generated long-memory tasks: their definitions, and that the answer lies `lag` steps back."""

import numpy as np
import pytest

from rnnkit.datasets import adding_problem, copy_task


def test_adding_problem_by_definition():
    x, y = adding_problem(50, 30, lag=20, seed=1)
    assert x.shape == (50, 30, 2) and y.shape == (50, 1) and x.dtype == np.float32
    marks = x[..., 1]
    assert (marks.sum(1) == 2).all()
    first = marks.argmax(1)
    assert (first == 10).all()  # lag 20 before the end of 30 steps
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * marks).sum(1), rtol=1e-6)
    # the chance level: predicting the mean target
    _, y = adding_problem(20000, 30, seed=2)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.01)


def test_adding_problem_default_marks_the_first_half():
    x, _ = adding_problem(200, 40, seed=3)
    first = x[..., 1].argmax(1)
    assert first.max() < 20 and len(set(first.tolist())) > 5
    assert np.array_equal(adding_problem(5, 40, seed=3)[0], adding_problem(5, 40, seed=3)[0])


def test_copy_task_by_definition():
    x, y = copy_task(6, length=4, lag=7, symbols=5, seed=0)
    assert x.shape == (6, 15, 7) and y.shape == (6, 15)
    ids = x.argmax(-1)
    np.testing.assert_array_equal(y[:, -4:], ids[:, :4])  # the symbols come back, in order
    assert (ids[:, 4:10] == 0).all() and (ids[:, 10] == 6).all()  # blanks, then the delimiter
    assert (y[:, :11] == 0).all() and ((y[:, -4:] >= 1) & (y[:, -4:] <= 5)).all()


def test_a_lag_out_of_range_is_refused():
    with pytest.raises(ValueError, match="expected lag an integer from 2 to 30, got 31"):
        adding_problem(2, 30, lag=31)


def test_sunspots_windows_are_the_series_in_order():
    import statsmodels.api as sm
    from rnnkit.datasets import load_sunspots

    series = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    (x, y), (xt, yt) = load_sunspots(window=10, test_fraction=0.25)
    n = len(series) - 10
    assert len(x) + len(xt) == n and len(xt) == round(n * 0.25)
    scale = series[: len(x) + 10].max()
    np.testing.assert_allclose(x[0, :, 0] * scale, series[:10], rtol=1e-6)
    np.testing.assert_allclose(y[:, 0] * scale, series[10:10 + len(x)], rtol=1e-5)
    np.testing.assert_allclose(xt[-1, :, 0] * scale, series[-11:-1], rtol=1e-5)
    np.testing.assert_allclose(yt[-1, 0] * scale, series[-1], rtol=1e-6)
    assert x.dtype == np.float32 and x.shape[1:] == (10, 1)


def test_co2_has_no_gaps():
    from rnnkit.datasets import load_co2

    (x, y), (xt, yt) = load_co2(window=52)
    assert np.isfinite(x).all() and np.isfinite(yt).all()
    assert len(x) + len(xt) == 2284 - 52 and 0.9 < float(y.max()) <= 1.0


def test_digits_are_images_read_row_by_row():
    from sklearn.datasets import load_digits as sk_digits
    from rnnkit.datasets import load_digits

    (x, y), (xt, yt) = load_digits(test_fraction=0.2, seed=0)
    images, labels = sk_digits(return_X_y=False).images, sk_digits().target
    order = np.random.default_rng(0).permutation(len(images))
    np.testing.assert_allclose(x[0] * 16, images[order[0]])
    assert y[0] == labels[order[0]] and len(x) + len(xt) == 1797 and x.shape[1:] == (8, 8)


def test_text_windows_decode_to_the_text():
    from pydoc_data import topics
    from rnnkit.datasets import load_text

    x, y, vocabulary = load_text(time_steps=30, step=7, max_chars=5000)
    text = "\n".join(topics.topics[k] for k in sorted(topics.topics))[:5000]
    decode = lambda ids: "".join(vocabulary[i] for i in ids)  # noqa: E731
    assert decode(x[3]) == text[21:51] and vocabulary[y[3]] == text[51]
    assert len(x) == len(range(0, 5000 - 30, 7))


def test_a_missing_extra_names_the_install_command(monkeypatch):
    import builtins
    from rnnkit.datasets import load_sunspots

    real_import = builtins.__import__

    def no_statsmodels(name, *args, **kwargs):
        if name.startswith("statsmodels"):
            raise ImportError("no statsmodels here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_statsmodels)
    monkeypatch.setattr("importlib.import_module",
                        lambda name: no_statsmodels(name))
    with pytest.raises(ImportError, match=r'load_sunspots needs statsmodels: pip install "rnnkit\[datasets\]"'):
        load_sunspots()
