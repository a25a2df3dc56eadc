"""A labelled sentiment corpus that no package ships, read from a file the user fetched once:
the 10,605 movie-review snippets of Hutto & Gilbert's VADER study (ICWSM 2014), each with the
mean rating of human raters from -4 (extremely negative) to +4 (extremely positive). The
vaderSentiment 3.3.2 source archive (MIT licence) carries it, in a tarball inside the tarball:

    vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz
        hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt

(UTF-8, CRLF, one snippet a line: id, mean rating, text, separated by tabs). Nothing is
downloaded here; fetch the archive with

    pip download --no-binary :all: --no-deps vaderSentiment==3.3.2

which saves vaderSentiment-3.3.2.tar.gz in the current directory, and pass its path.

    load_sentiment  positive or negative snippet, as padded word (or character) ids for
                    Embedding(len(vocabulary), ..., mask_zero=True) and a recurrent layer
"""

from __future__ import annotations

import io
import re
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np

from .real import random_split

FETCH = "pip download --no-binary :all: --no-deps vaderSentiment==3.3.2"
ARCHIVE = "vaderSentiment-3.3.2.tar.gz"
INNER = "hutto_ICWSM_2014.tar.gz"
CORPUS = "movieReviewSnippets_GroundTruth.txt"
PAD, OOV = "", "[UNK]"  # ids 0 and 1, as in Keras's TextVectorization
_WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def _from_tar(archive: tarfile.TarFile) -> bytes | None:
    """The corpus's bytes from a tar archive holding it, or holding INNER that holds it."""
    for member in archive:
        name = member.name.rsplit("/", 1)[-1]
        if member.isfile() and name in (CORPUS, INNER):
            data = archive.extractfile(member).read()
            if name == CORPUS:
                return data
            with tarfile.open(fileobj=io.BytesIO(data)) as inner:
                return _from_tar(inner)
    return None


def read_snippets(path=ARCHIVE):
    """(ratings, snippets) of the corpus: float64 mean ratings and the texts, in file order.
    `path` is the source archive, the hutto_ICWSM_2014.tar.gz inside it, or the extracted
    movieReviewSnippets_GroundTruth.txt."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"rnnkit.datasets.load_sentiment reads the vaderSentiment 3.3.2 source archive, and "
            f"{str(path)!r} is not a file. Fetch the archive with: {FETCH} (it saves {ARCHIVE} "
            f"in the current directory), then pass its path.")
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            data = _from_tar(archive)
        if data is None:
            raise ValueError(f"{str(path)!r} holds no {CORPUS}; expected the archive that "
                             f"{FETCH} saves.")
    else:
        data = path.read_bytes()
    ratings, snippets = [], []
    for number, line in enumerate(data.decode("utf-8").split("\n"), 1):
        if not line.strip():
            continue
        fields = line.split("\t", 2)
        try:
            ratings.append(float(fields[1]))
            snippets.append(fields[2].strip())
        except (IndexError, ValueError):
            raise ValueError(f"line {number} of {CORPUS} is not id<TAB>mean rating<TAB>text: "
                             f"{line[:60]!r}") from None
    return np.array(ratings, dtype=np.float64), snippets


def tokenize(snippet: str, level: str = "word", lowercase: bool = True) -> list[str]:
    """level="word": runs of letters and digits, apostrophes inside a word kept (’ read as '),
    and every other non-space character alone; level="char": the characters."""
    if lowercase:
        snippet = snippet.lower()
    if level == "char":
        return list(snippet)
    return _WORD.findall(snippet.replace("\u2019", "'"))


def load_sentiment(path=ARCHIVE, level: str = "word", max_len: int | None = None,
                   max_tokens: int | None = None, test_fraction: float = 0.2, seed: int = 0,
                   lowercase: bool = True):
    """The movie-review snippets as a binary task: y = 1 where the mean rating is positive,
    0 where it is negative; the 37 snippets rated exactly 0 are dropped (10,568 remain). Split
    at random by seed.

    Returns (x_train, y_train), (x_test, y_test), vocabulary: x (n, max_len) int64 token ids,
    each row the snippet's tokens (see `tokenize`) from the left, padded with 0 on the right
    and cut after max_len tokens (default: the longest snippet, so none is cut); y (n,) int64.
    vocabulary[i] is the token of id i: 0 the padding "", 1 "[UNK]" for tokens outside the
    vocabulary, then the training part's tokens, most frequent first (ties in string order),
    at most max_tokens ids in all. The test part has no say in the vocabulary: its unseen
    tokens are 1. Feed x to Embedding(len(vocabulary), ..., mask_zero=True)."""
    if level not in ("word", "char"):
        raise ValueError(f'expected level "word" or "char", got {level!r}.')
    if max_tokens is not None and max_tokens < 3:
        raise ValueError(f"expected max_tokens of at least 3 (padding, [UNK], a token), got "
                         f"{max_tokens!r}.")
    if max_len is not None and max_len < 1:
        raise ValueError(f"expected max_len of at least 1, got {max_len!r}.")
    ratings, snippets = read_snippets(path)
    kept = np.flatnonzero(ratings != 0)
    tokens = [tokenize(snippets[i], level, lowercase) for i in kept]
    y = (ratings[kept] > 0).astype(np.int64)
    train, test = random_split(len(kept), test_fraction, seed)

    counts = Counter(token for i in train for token in tokens[i])
    ranked = sorted(counts, key=lambda token: (-counts[token], token))
    vocabulary = [PAD, OOV] + ranked[: None if max_tokens is None else max_tokens - 2]
    lookup = {token: i for i, token in enumerate(vocabulary)}
    max_len = max_len or max(map(len, tokens), default=1)
    x = np.zeros((len(tokens), max_len), dtype=np.int64)
    for row, sequence in enumerate(tokens):
        ids = [lookup.get(token, 1) for token in sequence[:max_len]]
        x[row, : len(ids)] = ids
    return (x[train], y[train]), (x[test], y[test]), vocabulary
