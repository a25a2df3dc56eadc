"""Records what Keras 3's dataset loaders return for small files in Keras's own cache formats,
for tests/test_keras_datasets.py (rnnkit.datasets.imdb, reuters, mnist).

`write_cache(folder)` writes the small files deterministically (numpy only, so the test writes the
very same ones): `imdb.npz` (x_train, y_train, x_test, y_test: object arrays of lists of ints and
int64 labels, as numpy pickles Keras's file), `imdb_equal.npz` (every review of one length, where
numpy makes a 2-D object array), `reuters.npz` (x, y), `mnist.npz` (uint8 images and labels) and
the two word-index JSON files. The script puts them in `$KERAS_HOME/datasets` of a temporary
KERAS_HOME, runs `keras.datasets.*.load_data` / `get_word_index` for every case of `CASES`, and
writes keras_datasets.json (each case's sequences, label values and dtypes, array shapes, element
types, or the error Keras raised) and keras_datasets.npz (the MNIST arrays).

Keras's `get_file` reads a cached file without downloading only when its hash matches Keras's
real file; these small files do not, so the loaders' `get_file` is called with `file_hash=None`
(the cache path is still found by Keras's own code), and `urlretrieve` is replaced by a function
that raises, so no download can happen.

Run from the repository root:

    KERAS_BACKEND=jax /work/kerasenv/bin/python tests/data/make_keras_datasets.py
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent

# (case name, loader, keyword arguments); `path` names a file of write_cache's folder.
CASES = [
    ("imdb_default", "imdb", {}),
    ("imdb_num_words", "imdb", {"num_words": 20}),
    ("imdb_skip_top", "imdb", {"num_words": 25, "skip_top": 6}),
    ("imdb_maxlen", "imdb", {"maxlen": 8}),
    ("imdb_seed", "imdb", {"seed": 7}),
    ("imdb_no_start", "imdb", {"start_char": None}),
    ("imdb_drop_oov", "imdb", {"num_words": 20, "skip_top": 5, "oov_char": None}),
    ("imdb_raw_ids", "imdb", {"start_char": None, "index_from": 0}),
    ("imdb_num_words_zero", "imdb", {"num_words": 0, "skip_top": 2}),
    ("imdb_all_options", "imdb", {"num_words": 30, "skip_top": 4, "maxlen": 10, "seed": 0,
                                  "start_char": 5, "oov_char": 3, "index_from": 10}),
    ("imdb_maxlen_empties", "imdb", {"maxlen": 2}),
    ("imdb_equal_lengths", "imdb", {"path": "imdb_equal.npz"}),
    ("reuters_default", "reuters", {}),
    ("reuters_half", "reuters", {"test_split": 0.5}),
    ("reuters_no_test", "reuters", {"test_split": 0.0}),
    ("reuters_all_test", "reuters", {"test_split": 1.0}),
    ("reuters_uneven_split", "reuters", {"test_split": 0.33}),
    ("reuters_maxlen", "reuters", {"maxlen": 9}),
    ("reuters_maxlen_no_test", "reuters", {"maxlen": 9, "test_split": 0.0}),
    ("reuters_vocabulary", "reuters", {"num_words": 20, "skip_top": 5, "seed": 1}),
    ("reuters_drop_oov", "reuters", {"num_words": 20, "oov_char": None}),
    ("reuters_raw_ids", "reuters", {"start_char": None, "index_from": 0, "seed": 3}),
    ("reuters_maxlen_empties", "reuters", {"maxlen": 2}),
    ("reuters_maxlen_empties_num_words", "reuters", {"maxlen": 2, "num_words": 10}),
    ("mnist_default", "mnist", {}),
]
WORD_INDEXES = ("imdb", "reuters")
WORDS = ("the", "and", "a", "of", "to", "is", "br", "in", "it", "i", "this", "that", "was",
         "as", "film", "movie", "café", "naïve")


def _sequences(rng, n, low_length, high_length, high_id):
    x = np.empty(n, dtype=object)
    for i in range(n):
        x[i] = rng.randint(1, high_id, size=rng.randint(low_length, high_length)).tolist()
    return x


def write_cache(folder) -> None:
    """Writes the small dataset files, the same ones at every call, into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(20240613)
    np.savez(folder / "imdb.npz",
             x_train=_sequences(rng, 10, 1, 13, 40), y_train=rng.randint(0, 2, 10).astype(np.int64),
             x_test=_sequences(rng, 8, 1, 13, 40), y_test=rng.randint(0, 2, 8).astype(np.int64))
    np.savez(folder / "imdb_equal.npz",
             x_train=_sequences(rng, 4, 5, 6, 20), y_train=rng.randint(0, 2, 4).astype(np.int64),
             x_test=_sequences(rng, 3, 5, 6, 20), y_test=rng.randint(0, 2, 3).astype(np.int64))
    np.savez(folder / "reuters.npz",
             x=_sequences(rng, 15, 1, 15, 50), y=rng.randint(0, 46, 15).astype(np.int64))
    np.savez(folder / "mnist.npz",
             x_train=rng.randint(0, 256, (6, 28, 28)).astype(np.uint8),
             y_train=rng.randint(0, 10, 6).astype(np.uint8),
             x_test=rng.randint(0, 256, (4, 28, 28)).astype(np.uint8),
             y_test=rng.randint(0, 10, 4).astype(np.uint8))
    for name in WORD_INDEXES:
        ranks = rng.permutation(len(WORDS)) + 1
        index = {word: int(rank) for word, rank in zip(WORDS, ranks)}
        (folder / f"{name}_word_index.json").write_text(json.dumps(index), encoding="utf-8")


def describe_split(x, y) -> dict:
    """What a test compares of one (x, y) split: shape and contents of the object array, the type
    of its elements and of their items, and the labels with their dtype."""
    items = [v for row in x for v in row]
    return {"x_shape": list(x.shape), "x_dtype": str(x.dtype), "x": x.tolist(),
            "row_types": sorted({type(row).__name__ for row in x}),
            "item_types": sorted({type(v).__name__ for v in items}),
            "y": y.tolist(), "y_dtype": str(y.dtype), "y_shape": list(y.shape)}


def _keras_without_downloads():
    from keras.src.datasets import imdb, mnist, reuters
    from keras.src.utils import file_utils

    def no_download(*args, **kwargs):
        raise RuntimeError(f"make_keras_datasets: Keras tried to download {args[:1]}")

    def cached_only(*args, **kwargs):
        kwargs["file_hash"] = None
        path = file_utils.get_file(*args, **kwargs)
        assert path.startswith(os.environ["KERAS_HOME"]), path
        return path

    file_utils.urlretrieve = no_download
    for module in (imdb, mnist, reuters):
        module.get_file = cached_only
    return {"imdb": imdb, "reuters": reuters, "mnist": mnist}


def record(modules) -> tuple[dict, dict]:
    cases, arrays = {}, {}
    for name, loader, kwargs in CASES:
        try:
            (x_train, y_train), (x_test, y_test) = modules[loader].load_data(**kwargs)
        except Exception as error:  # the test checks that rnnkit raises the same type
            cases[name] = {"loader": loader, "kwargs": kwargs, "error": type(error).__name__,
                           "message": str(error)}
            continue
        if loader == "mnist":
            for key, value in zip(("x_train", "y_train", "x_test", "y_test"),
                                  (x_train, y_train, x_test, y_test)):
                arrays[f"{name}/{key}"] = value
            cases[name] = {"loader": loader, "kwargs": kwargs}
            continue
        cases[name] = {"loader": loader, "kwargs": kwargs,
                       "train": describe_split(x_train, y_train),
                       "test": describe_split(x_test, y_test)}
    indexes = {name: modules[name].get_word_index() for name in WORD_INDEXES}
    return {"cases": cases, "word_indexes": indexes,
            "label_names": list(modules["reuters"].get_label_names())}, arrays


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        # Keras reads KERAS_HOME when it is imported.
        os.environ["KERAS_HOME"] = home
        write_cache(Path(home) / "datasets")
        import keras
        meta, arrays = record(_keras_without_downloads())
    meta["keras_version"] = keras.__version__
    (HERE / "keras_datasets.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    np.savez(HERE / "keras_datasets.npz", **arrays)
    print(f"{len(meta['cases'])} cases written", file=sys.stderr)


if __name__ == "__main__":
    main()
