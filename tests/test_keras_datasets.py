"""rnnkit.datasets.imdb, reuters and mnist against Keras 3's load_data on the same small files in
Keras's cache formats (tests/data/make_keras_datasets.py writes the files and recorded Keras's
outputs), and against numpy formulas of the shuffling and encoding."""

from __future__ import annotations

import builtins
import json
import os
import io
import pickle
import pickletools
import socket
import sys
import zipfile

import numpy as np
import pytest

from helpers import DATA
from rnnkit.datasets import imdb, keras_cache, mnist, reuters

sys.path.insert(0, str(DATA))
from make_keras_datasets import CASES, describe_split, write_cache  # noqa: E402

META = json.loads((DATA / "keras_datasets.json").read_text(encoding="utf-8"))
ARRAYS = np.load(DATA / "keras_datasets.npz")
LOADERS = {"imdb": imdb, "reuters": reuters, "mnist": mnist}


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """A KERAS_HOME whose datasets folder holds the fixture files; no socket may connect."""
    write_cache(tmp_path / "datasets")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def refuse(*args, **kwargs):
        raise AssertionError("rnnkit.datasets tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return tmp_path


@pytest.mark.parametrize("name", [name for name, _, _ in CASES])
def test_load_data_equals_keras(keras_home, name):
    case = META["cases"][name]
    load = LOADERS[case["loader"]].load_data
    if "error" in case:
        with pytest.raises(getattr(builtins, case["error"])):
            load(**case["kwargs"])
        return
    (x_train, y_train), (x_test, y_test) = load(**case["kwargs"])
    if case["loader"] == "mnist":
        for key, value in zip(("x_train", "y_train", "x_test", "y_test"),
                              (x_train, y_train, x_test, y_test)):
            expected = ARRAYS[f"{name}/{key}"]
            assert value.dtype == expected.dtype and value.shape == expected.shape
            np.testing.assert_array_equal(value, expected)
        return
    assert describe_split(x_train, y_train) == case["train"]
    assert describe_split(x_test, y_test) == case["test"]


def test_word_indexes_and_label_names_equal_keras(keras_home):
    assert imdb.get_word_index() == META["word_indexes"]["imdb"]
    assert reuters.get_word_index() == META["word_indexes"]["reuters"]
    assert list(reuters.get_label_names()) == META["label_names"]
    assert len(reuters.get_label_names()) == 46


def _raw(folder, name):
    with np.load(folder / "datasets" / name, allow_pickle=True) as f:
        return {key: f[key] for key in f.files}


def test_imdb_matches_a_numpy_formula(keras_home):
    raw = _raw(keras_home, "imdb.npz")
    rng = np.random.RandomState(113)
    train_order = rng.permutation(len(raw["x_train"]))
    test_order = rng.permutation(len(raw["x_test"]))
    shifted = [[1] + [w + 3 for w in raw["x_train"][i]] for i in train_order]
    shifted_test = [[1] + [w + 3 for w in raw["x_test"][i]] for i in test_order]
    top = max(max(x) for x in shifted + shifted_test)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=None)
    assert x_train.tolist() == [[w if w < top else 2 for w in x] for x in shifted]
    assert x_test.tolist() == [[w if w < top else 2 for w in x] for x in shifted_test]
    np.testing.assert_array_equal(y_train, raw["y_train"][train_order])
    np.testing.assert_array_equal(y_test, raw["y_test"][test_order])


def test_reuters_split_matches_a_numpy_formula(keras_home):
    raw = _raw(keras_home, "reuters.npz")
    order = np.random.RandomState(5).permutation(len(raw["x"]))
    cut = int(len(order) * (1 - 0.3))
    (x_train, y_train), (x_test, y_test) = reuters.load_data(
        test_split=0.3, seed=5, start_char=None, index_from=0, num_words=1000)
    assert x_train.tolist() == [list(raw["x"][i]) for i in order[:cut]]
    assert x_test.tolist() == [list(raw["x"][i]) for i in order[cut:]]
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), raw["y"][order])


def test_path_may_name_a_file_anywhere(keras_home, tmp_path_factory, monkeypatch):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (keras_home / "datasets" / "mnist.npz").rename(elsewhere / "digits.npz")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("empty_home")))
    (x_train, _), _ = mnist.load_data(path=elsewhere / "digits.npz")
    (x_again, _), _ = mnist.load_data(path=str(elsewhere / "digits.npz"))
    np.testing.assert_array_equal(x_train, ARRAYS["mnist_default/x_train"])
    np.testing.assert_array_equal(x_again, x_train)


@pytest.mark.parametrize("call, default_name", [
    (lambda: imdb.load_data(), "imdb.npz"),
    (lambda: imdb.get_word_index(), "imdb_word_index.json"),
    (lambda: reuters.load_data(), "reuters.npz"),
    (lambda: reuters.get_word_index(), "reuters_word_index.json"),
    (lambda: mnist.load_data(), "mnist.npz"),
])
def test_missing_file_says_where_it_goes_and_where_from(tmp_path, monkeypatch, call,
                                                        default_name):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("network"))
    with pytest.raises(FileNotFoundError) as error:
        call()
    message = str(error.value)
    assert os.path.join(str(tmp_path), "datasets", default_name) in message
    assert keras_cache.ORIGIN + default_name in message
    assert "never downloads" in message and "KERAS_HOME" in message


def test_missing_absolute_path_is_named(tmp_path):
    target = tmp_path / "nowhere" / "reuters.npz"
    with pytest.raises(FileNotFoundError, match="reuters.load_data: no file " + str(target)):
        reuters.load_data(path=target)


def test_cache_folder_follows_keras_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "not_yet_made"))
    assert keras_cache.cache_dir() == str(tmp_path / "not_yet_made" / "datasets")
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keras_cache.cache_dir() == str(tmp_path / ".keras" / "datasets")
    monkeypatch.setenv("KERAS_HOME", "~/elsewhere")
    assert keras_cache.cache_dir() == str(tmp_path / "elsewhere" / "datasets")


def test_a_pickled_object_other_than_an_array_is_refused(tmp_path):
    np.savez(tmp_path / "imdb.npz", x_train=np.array([os.getcwd, None], dtype=object),
             y_train=np.zeros(2), x_test=np.array([[1], [2, 3]], dtype=object), y_test=np.zeros(2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load posix.getcwd"):
        imdb.load_data(path=tmp_path / "imdb.npz")


def _legacy_pickle(array: np.ndarray) -> bytes:
    # What numpy 1.x under Python 2 wrote (Keras's files are that old): numpy.core's
    # _reconstruct, and byte strings as Python 2 str (SHORT_BINSTRING) rather than the
    # _codecs.encode call Python 3 uses for bytes.
    data = pickletools.optimize(pickle.dumps(array, protocol=2))
    data = data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    py3_bytes = b"c_codecs\nencode\nX\x01\x00\x00\x00bX\x06\x00\x00\x00latin1\x86R"
    assert py3_bytes in data
    return data.replace(py3_bytes, b"U\x01b")


def test_files_pickled_by_old_numpy_read_alike(keras_home):
    raw = _raw(keras_home, "reuters.npz")
    with zipfile.ZipFile(keras_home / "datasets" / "old.npz", "w") as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, np.lib.format.header_data_from_array_1_0(raw["x"]))
        archive.writestr("x.npy", header.getvalue() + _legacy_pickle(raw["x"]))
        numbers = io.BytesIO()
        np.save(numbers, raw["y"])
        archive.writestr("y.npy", numbers.getvalue())
    (x_old, y_old), (x_old_test, _) = reuters.load_data(path="old.npz")
    (x_new, y_new), (x_new_test, _) = reuters.load_data()
    assert x_old.tolist() == x_new.tolist() and x_old_test.tolist() == x_new_test.tolist()
    np.testing.assert_array_equal(y_old, y_new)


def test_compressed_files_read_alike(keras_home):
    raw = _raw(keras_home, "reuters.npz")
    np.savez_compressed(keras_home / "datasets" / "packed.npz", **raw)
    (x_plain, y_plain), _ = reuters.load_data()
    (x_packed, y_packed), _ = reuters.load_data(path="packed.npz")
    assert x_packed.tolist() == x_plain.tolist()
    np.testing.assert_array_equal(y_packed, y_plain)


def test_a_file_of_other_arrays_names_what_it_holds(tmp_path):
    np.savez(tmp_path / "reuters.npz", x_train=np.zeros(2), y_train=np.zeros(2))
    with pytest.raises(KeyError, match=r"expected arrays \['x', 'y'\].*found \['x_train'"):
        reuters.load_data(path=tmp_path / "reuters.npz")


def test_empty_sequences_do_not_stop_the_vocabulary_bound(tmp_path):
    # Keras's max(max(x) for x in xs) fails on an empty review; rnnkit takes the bound from the
    # others (the only departure from Keras's results, where Keras gives none).
    x = np.empty(2, dtype=object)
    x[0], x[1] = [], [4, 7]
    np.savez(tmp_path / "imdb.npz", x_train=x, y_train=np.array([0, 1]), x_test=x.copy(),
             y_test=np.array([1, 0]))
    (x_train, _), _ = imdb.load_data(path=tmp_path / "imdb.npz", start_char=None, index_from=0,
                                     seed=0)
    assert sorted(x_train.tolist()) == [[], [4, 2]]


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: imdb.load_data(nb_words=10), TypeError,
     r"imdb.load_data: unexpected arguments \['nb_words'\]"),
    (lambda: imdb.load_data(num_words=-1), ValueError, "expected num_words >= 0, got -1"),
    (lambda: imdb.load_data(skip_top=None), TypeError,
     "expected skip_top to be an integer, got None"),
    (lambda: imdb.load_data(maxlen=True), TypeError, "expected maxlen to be an integer or None"),
    (lambda: imdb.load_data(maxlen=2.5), TypeError, "expected maxlen to be an integer or None"),
    (lambda: imdb.load_data(seed=2**32), ValueError, "expected seed < 2\\*\\*32"),
    (lambda: imdb.load_data(start_char="1"), TypeError, "expected start_char"),
    (lambda: reuters.load_data(index_from=None), TypeError,
     "reuters.load_data: expected index_from"),
    (lambda: reuters.load_data(test_split=1.5), ValueError,
     "expected test_split, a fraction from 0 to 1, got 1.5"),
    (lambda: reuters.load_data(test_split="0.2"), ValueError, "expected test_split"),
    (lambda: mnist.load_data(path=None), TypeError, "mnist.load_data: expected path"),
    (lambda: mnist.load_data(path=""), TypeError, "mnist.load_data: expected path"),
])
def test_bad_arguments_are_refused_before_reading(tmp_path, monkeypatch, call, error, pattern):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # empty: the checks come before the file
    with pytest.raises(error, match=pattern):
        call()


def test_fixture_was_made_by_keras():
    assert META["keras_version"].startswith("3.")
    assert set(META["cases"]) == {name for name, _, _ in CASES}
