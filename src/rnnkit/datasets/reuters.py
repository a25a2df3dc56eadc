"""The Reuters newswire topics of `keras.datasets.reuters`, read from Keras's own cache.

11,228 newswires over 46 topics, each a list of word ids ranked by frequency. The functions and
arguments are Keras 3's; the files are Keras's (`reuters.npz`, `reuters_word_index.json` in
`~/.keras/datasets/` or `$KERAS_HOME/datasets/`). Nothing is downloaded: a missing file raises
FileNotFoundError with the URL to fetch it from once.

    load_data        (x_train, y_train), (x_test, y_test): shuffled, shifted, filtered, split
    get_word_index   {word: rank}
    get_label_names  the 46 topic names, in label order
"""

from __future__ import annotations

import numbers

import numpy as np

from .keras_cache import (cached_file, check_sequence_args, drop_long, limit_vocabulary,
                          load_json, load_npz, members, sequence_array, shift_words)

__all__ = ["load_data", "get_word_index", "get_label_names"]

_DATA_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Loads the Reuters dataset from Keras's cache, exactly as `keras.datasets.reuters.load_data`.

    The newswires are shuffled with `numpy.random.RandomState(seed)`; each word id `w` becomes
    `w + index_from` after `start_char`; sequences of `maxlen` ids or more are dropped; ids
    outside `[skip_top, num_words)` become `oov_char` (or are dropped where it is None); the
    first `int(n * (1 - test_split))` of the n left are the training set.

    Args:
        path: a file name in Keras's cache folder (`~/.keras/datasets`, or `$KERAS_HOME/datasets`),
            or a path to the file.
        num_words: keep the ids below this; None (or 0) keeps all but the largest id, as Keras.
        skip_top: ids below this become `oov_char`.
        maxlen: drop the sequences of `maxlen` or more ids (the start mark counts); None keeps all.
        test_split: the fraction of the newswires in the test set, from 0 to 1.
        seed: the shuffling seed.
        start_char: the id put first in each sequence; None puts none.
        oov_char: the id of out-of-vocabulary words; None drops them.
        index_from: added to every word id of the file.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x an object array of lists of ints, y the topic
        ids 0-45 (see `get_label_names`). As in Keras, where `maxlen` is given the labels are
        rebuilt from a list, so an empty split's labels are float64.

    Raises:
        FileNotFoundError: the file is not in the cache (the message says where it goes and the
            URL to fetch it from by hand).

    >>> (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)  # doctest: +SKIP
    >>> len(x_train), len(x_test)  # doctest: +SKIP
    (8982, 2246)
    """
    check_sequence_args("reuters.load_data", num_words, skip_top, maxlen, seed, start_char,
                        oov_char, index_from)
    if (isinstance(test_split, bool) or not isinstance(test_split, numbers.Real)
            or not 0.0 <= test_split <= 1.0):
        raise ValueError("rnnkit.datasets.reuters.load_data: expected test_split, a fraction from "
                         f"0 to 1, got {test_split!r}.")
    file = cached_file(path, "reuters.npz", _DATA_HASH, "reuters.load_data")
    xs, labels = members(load_npz(file), ("x", "y"), file, "reuters.load_data")
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    xs = shift_words(xs[order], start_char, index_from)
    labels = labels[order]
    xs, labels = drop_long(maxlen, xs, labels)
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char, "reuters.load_data")
    n = int(len(xs) * (1 - test_split))
    return ((sequence_array(xs[:n]), np.array(labels[:n])),
            (sequence_array(xs[n:]), np.array(labels[n:])))


def get_word_index(path="reuters_word_index.json"):
    """The Reuters word index of Keras's cache, as `keras.datasets.reuters.get_word_index`: a dict
    from word to its frequency rank (1 = most frequent). In `load_data`'s sequences a word of rank
    `r` is the id `r + index_from` ("the", rank 1, is 4 by default).

    Args:
        path: a file name in Keras's cache folder, or a path to the file.

    Returns:
        The dict {word: rank}.

    >>> get_word_index()["the"]  # doctest: +SKIP
    1
    """
    return load_json(cached_file(path, "reuters_word_index.json", _INDEX_HASH,
                                 "reuters.get_word_index"))


def get_label_names():
    """The 46 topic names, at the index of their label, as `keras.datasets.reuters.get_label_names`.

    >>> get_label_names()[3]
    'earn'
    """
    return _LABEL_NAMES
