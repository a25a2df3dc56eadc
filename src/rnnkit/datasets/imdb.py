"""The IMDB movie-review sentiment data of `keras.datasets.imdb`, read from Keras's own cache.

25,000 training and 25,000 test reviews labelled positive (1) or negative (0), each a list of
word ids ranked by frequency. The functions and arguments are Keras 3's; the files are Keras's
(`imdb.npz`, `imdb_word_index.json` in `~/.keras/datasets/` or `$KERAS_HOME/datasets/`). Nothing
is downloaded: a missing file raises FileNotFoundError with the URL to fetch it from once.

    load_data       (x_train, y_train), (x_test, y_test): shuffled, shifted, filtered as in Keras
    get_word_index  {word: rank}
"""

from __future__ import annotations

import numpy as np

from .keras_cache import (cached_file, check_sequence_args, drop_long, limit_vocabulary,
                          load_json, load_npz, members, sequence_array, shift_words)

__all__ = ["load_data", "get_word_index"]

_DATA_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3, **kwargs):
    """Loads the IMDB dataset from Keras's cache, exactly as `keras.datasets.imdb.load_data`.

    Each split is shuffled with `numpy.random.RandomState(seed)` (the training set first, then the
    test set, from the one generator); each word id `w` becomes `w + index_from` after
    `start_char`; sequences of `maxlen` ids or more are dropped; ids outside
    `[skip_top, num_words)` become `oov_char` (or are dropped where it is None).

    Args:
        path: a file name in Keras's cache folder (`~/.keras/datasets`, or `$KERAS_HOME/datasets`),
            or a path to the file.
        num_words: keep the ids below this; None (or 0) keeps all but the largest id, as Keras.
        skip_top: ids below this become `oov_char`.
        maxlen: drop the sequences of `maxlen` or more ids (the start mark counts); None keeps all.
        seed: the shuffling seed.
        start_char: the id put first in each sequence; None puts none.
        oov_char: the id of out-of-vocabulary words; None drops them.
        index_from: added to every word id of the file.
        **kwargs: accepted for Keras's signature only; any given is an error (Keras 3 silently
            ignores them).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x an object array of lists of ints, y the labels
        (0 or 1) with the file's dtype.

    Raises:
        FileNotFoundError: the file is not in the cache (the message says where it goes and the
            URL to fetch it from by hand).
        ValueError: maxlen leaves no training or no test sequence.

    >>> (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)  # doctest: +SKIP
    >>> x_train.shape, y_train.shape  # doctest: +SKIP
    ((25000,), (25000,))
    """
    if kwargs:
        raise TypeError(f"rnnkit.datasets.imdb.load_data: unexpected arguments {sorted(kwargs)}; "
                        "it takes path, num_words, skip_top, maxlen, seed, start_char, oov_char "
                        "and index_from.")
    check_sequence_args("imdb.load_data", num_words, skip_top, maxlen, seed, start_char,
                        oov_char, index_from)
    file = cached_file(path, "imdb.npz", _DATA_HASH, "imdb.load_data")
    x_train, y_train, x_test, y_test = members(
        load_npz(file), ("x_train", "y_train", "x_test", "y_test"), file, "imdb.load_data")
    rng = np.random.RandomState(seed)
    x_train, y_train = _shuffled(rng, x_train, y_train)
    x_test, y_test = _shuffled(rng, x_test, y_test)
    x_train = shift_words(x_train, start_char, index_from)
    x_test = shift_words(x_test, start_char, index_from)
    if maxlen:
        x_train, y_train = drop_long(maxlen, x_train, y_train)
        x_test, y_test = drop_long(maxlen, x_test, y_test)
        if not x_train or not x_test:
            raise ValueError(
                f"rnnkit.datasets.imdb.load_data: no {'training' if not x_train else 'test'} "
                f"sequence is shorter than maxlen={maxlen}; increase maxlen.")
    n = len(x_train)
    xs = limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char, "imdb.load_data")
    # Lists of numpy scalars (after maxlen) become arrays of the file's dtype again here.
    labels = np.concatenate([y_train, y_test])
    return (sequence_array(xs[:n]), labels[:n]), (sequence_array(xs[n:]), labels[n:])


def _shuffled(rng: np.random.RandomState, x: np.ndarray, y: np.ndarray):
    order = np.arange(len(x))
    rng.shuffle(order)
    return x[order], y[order]


def get_word_index(path="imdb_word_index.json"):
    """The IMDB word index of Keras's cache, as `keras.datasets.imdb.get_word_index`: a dict from
    word to its frequency rank (1 = most frequent). In `load_data`'s sequences a word of rank `r`
    is the id `r + index_from`.

    Args:
        path: a file name in Keras's cache folder, or a path to the file.

    Returns:
        The dict {word: rank}.

    >>> index = get_word_index()  # doctest: +SKIP
    >>> words = {rank + 3: word for word, rank in index.items()}  # doctest: +SKIP
    """
    return load_json(cached_file(path, "imdb_word_index.json", _INDEX_HASH, "imdb.get_word_index"))
