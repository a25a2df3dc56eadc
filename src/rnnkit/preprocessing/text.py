"""`keras.preprocessing.text` as Keras 2 programs import it (Keras 3 keeps it in
`keras.src.legacy.preprocessing.text`): `Tokenizer`, `tokenizer_from_json`,
`text_to_word_sequence`, `one_hot`, `hashing_trick`."""

from __future__ import annotations

import collections
import hashlib
import json
import warnings

import numpy as np

__all__ = ["Tokenizer", "tokenizer_from_json", "text_to_word_sequence", "one_hot",
           "hashing_trick"]

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(input_text, filters=FILTERS, lower=True, split=" "):
    """Splits a text into words: lower-cased, each character of `filters` turned into `split`.

    Args:
        input_text: The text.
        filters: Characters to drop (default: punctuation except `'`, tabs, newlines).
        lower: Whether to lower-case the text first.
        split: The word separator.

    Returns:
        The list of non-empty words.

    >>> text_to_word_sequence("Hello, World!")
    ['hello', 'world']
    """
    if not isinstance(split, str) or not split:
        raise ValueError(f"text_to_word_sequence: `split` must be a non-empty string, "
                         f"got {split!r}.")
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in input_text.split(split) if w]


def hashing_trick(text, n, hash_function=None, filters=FILTERS, lower=True, split=" ",
                  analyzer=None):
    """Words of a text as indices in `[1, n - 1]` by hashing (collisions possible).

    Args:
        text: The text.
        n: Size of the hashing space (index 0 is never given).
        hash_function: `None` for Python's `hash` (which varies between runs unless
            PYTHONHASHSEED is set), `"md5"` for a stable hash, or a function of a string.
        filters: As in `text_to_word_sequence`.
        lower: As in `text_to_word_sequence`.
        split: As in `text_to_word_sequence`.
        analyzer: A function from text to words, used instead of the three above.

    Returns:
        A list of ints.

    >>> hashing_trick("a b a", 10, hash_function="md5")
    [2, 5, 2]
    """
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        def hash_function(word):
            return int(hashlib.md5(word.encode()).hexdigest(), 16)
    elif not callable(hash_function):
        raise ValueError(f"hashing_trick: `hash_function` must be None, 'md5' or a function, "
                         f"got {hash_function!r}.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"hashing_trick: `n` must be an int >= 2, got {n!r}.")
    words = (text_to_word_sequence(text, filters=filters, lower=lower, split=split)
             if analyzer is None else analyzer(text))
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(input_text, n, filters=FILTERS, lower=True, split=" ", analyzer=None):
    """`hashing_trick` with Python's `hash` (not one-hot vectors, despite the name).

    >>> len(one_hot("a b", 5))
    2
    """
    return hashing_trick(input_text, n, hash_function=hash, filters=filters, lower=lower,
                         split=split, analyzer=analyzer)


class Tokenizer:
    """Keeps a word index of a corpus and turns texts into index sequences or matrices.

    Words are indexed from 1 by decreasing count (ties in order of first appearance); 0 is
    never a word; `oov_token`, if given, is index 1 and replaces unknown words. Only indices
    below `num_words` are used in sequences and matrices.

    Args:
        num_words: Keep only the `num_words - 1` most common words (`None`: all).
        filters: Characters removed from texts.
        lower: Whether to lower-case texts.
        split: Word separator.
        char_level: Every character is a token.
        oov_token: The token standing for out-of-vocabulary words.
        analyzer: A function from a text to its tokens, used instead of filters/lower/split.

    >>> tok = Tokenizer()
    >>> tok.fit_on_texts(["the cat", "the dog"])
    >>> tok.texts_to_sequences(["the dog"])
    [[1, 3]]
    """

    def __init__(self, num_words=None, filters=FILTERS, lower=True, split=" ", char_level=False,
                 oov_token=None, analyzer=None, **kwargs):
        if "nb_words" in kwargs:
            warnings.warn("Tokenizer: `nb_words` has been renamed `num_words`.")
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError(f"Tokenizer: unrecognized keyword arguments: {sorted(kwargs)}.")
        if num_words is not None and (isinstance(num_words, bool)
                                      or not isinstance(num_words, (int, np.integer))
                                      or num_words < 0):
            raise ValueError(f"Tokenizer: `num_words` must be None or an int >= 0, "
                             f"got {num_words!r}.")
        self.word_counts = collections.OrderedDict()
        self.word_docs = collections.defaultdict(int)
        self.filters, self.split, self.lower = filters, split, lower
        self.num_words, self.document_count = num_words, document_count
        self.char_level, self.oov_token, self.analyzer = char_level, oov_token, analyzer
        self.index_docs = collections.defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    def _tokens(self, text):
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, filters=self.filters, lower=self.lower,
                                     split=self.split)

    def fit_on_texts(self, texts):
        """Counts the words of `texts` (strings, or lists of tokens) and rebuilds the index."""
        if isinstance(texts, str):
            raise ValueError("Tokenizer.fit_on_texts: expected a list of texts, got one string "
                             "(wrap it in a list).")
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for w in tokens:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(tokens):
                self.word_docs[w] += 1
        # sorted() is stable: words of equal count keep their order of first appearance.
        ranked = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)
        vocabulary = ([] if self.oov_token is None else [self.oov_token])
        vocabulary += [w for w, _ in ranked]
        self.word_index = {w: i for i, w in enumerate(vocabulary, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences):
        """Counts, for `tfidf`, in how many sequences each index occurs."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def _kept(self, index) -> int | None:
        """The index a known word's `index` becomes: itself, the OOV index, or None."""
        if self.num_words and index >= self.num_words:
            return self.word_index.get(self.oov_token)
        return index

    def texts_to_sequences_generator(self, texts):
        """Yields `texts_to_sequences`'s sequences one by one."""
        oov = self.word_index.get(self.oov_token)
        for text in texts:
            seq = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                i = oov if i is None else self._kept(i)
                if i is not None:
                    seq.append(i)
            yield seq

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices (unknown words dropped, or the OOV index)."""
        return list(self.texts_to_sequences_generator(texts))

    def sequences_to_texts_generator(self, sequences):
        """Yields `sequences_to_texts`'s texts one by one."""
        oov = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for i in seq:
                i = oov if i not in self.index_word else self._kept(i)
                if i is not None:
                    words.append(self.index_word[i])
            yield " ".join(words)

    def sequences_to_texts(self, sequences):
        """Each index sequence back as a space-joined text."""
        return list(self.sequences_to_texts_generator(sequences))

    def texts_to_matrix(self, texts, mode="binary"):
        """`sequences_to_matrix(texts_to_sequences(texts), mode)`."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A `(len(sequences), num_words)` float matrix of the indices below `num_words`.

        Args:
            sequences: Lists of word indices.
            mode: `"binary"` (1 where present), `"count"`, `"freq"` (count over the sequence's
                length) or `"tfidf"` (`(1 + log count) * log(1 + docs / (1 + docs with it))`).
        """
        if mode not in MODES:
            raise ValueError(f"Tokenizer.sequences_to_matrix: unknown mode {mode!r}; expected "
                             f"one of {', '.join(MODES)}.")
        num_words = self.num_words or (len(self.word_index) + 1 if self.word_index else None)
        if num_words is None:
            raise ValueError("Tokenizer.sequences_to_matrix: specify a dimension (`num_words` "
                             "argument), or fit on some text data first.")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Tokenizer: fit the Tokenizer on some data before using tfidf "
                             "mode.")
        x = np.zeros((len(sequences), num_words))
        for row, seq in enumerate(sequences):
            counts = collections.Counter(j for j in seq if j < num_words)
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(seq)
                elif mode == "binary":
                    x[row, j] = 1
                else:  # tfidf, weighting scheme 2 of Wikipedia's tf-idf article
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[row, j] = (1 + np.log(c)) * idf
        return x

    def get_config(self):
        """The arguments and the fitted tables (the tables as JSON strings, as Keras keeps
        them)."""
        tables = ("word_counts", "word_docs", "index_docs", "index_word", "word_index")
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower,
                "split": self.split, "char_level": self.char_level, "oov_token": self.oov_token,
                "document_count": self.document_count,
                **{name: json.dumps(getattr(self, name)) for name in tables}}

    def to_json(self, **kwargs):
        """The tokenizer as a JSON string (read back with `tokenizer_from_json`)."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                          **kwargs)


def tokenizer_from_json(json_string):
    """A `Tokenizer` from `Tokenizer.to_json()`'s string.

    >>> tok = Tokenizer(oov_token="?")
    >>> tok.fit_on_texts(["a b"])
    >>> tokenizer_from_json(tok.to_json()).texts_to_sequences(["b c"])
    [[3, 1]]
    """
    config = dict(json.loads(json_string).get("config") or {})
    tables = {name: json.loads(config.pop(name, "{}"))
              for name in ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
    tokenizer = Tokenizer(**config)
    # JSON turns integer keys into strings; the index tables are keyed by int.
    tokenizer.index_docs = {int(k): v for k, v in tables["index_docs"].items()}
    tokenizer.index_word = {int(k): v for k, v in tables["index_word"].items()}
    tokenizer.word_counts = tables["word_counts"]
    tokenizer.word_docs = tables["word_docs"]
    tokenizer.word_index = tables["word_index"]
    return tokenizer
