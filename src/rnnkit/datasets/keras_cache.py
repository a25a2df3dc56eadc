"""Reading the files Keras keeps in its dataset cache, without ever downloading them.

Keras 3's `keras.datasets.*.load_data` fetch a file once into `<keras home>/datasets/` and read
it from there afterwards. rnnkit reads the same files, by the same names and in the same formats,
from the same folder; where a file is missing it says where to put it and where Keras would have
fetched it from, and stops (design principle 7: nothing downloads at run time).

The Keras home is `$KERAS_HOME` when that variable is set, else `~/.keras` (`/tmp/.keras` where
the home folder is not writable); a home that cannot be written falls back to `/tmp/.keras`, as
Keras's `get_file` does. Keras reads `KERAS_HOME` once, when it is imported; rnnkit reads it at
each call.

This module also holds what `imdb` and `reuters` share: checks of their arguments and the
encoding of word-index sequences (shift by `index_from`, mark the start, drop long sequences,
replace rare words by the out-of-vocabulary id).
"""

from __future__ import annotations

import io
import json
import numbers
import os
import pickle
import tempfile
import zipfile

import numpy as np

# Where keras.datasets fetches every file from: the URL is this folder + the file's default name.
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# Rebuilding a pickled object array needs exactly these; anything else in a dataset file
# (os.system, builtins.eval, ...) is refused, as Keras 3 refuses it, so a tampered file cannot run
# code. numpy < 2 wrote `numpy.core`, numpy >= 2 writes `numpy._core`.
_ARRAY_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
})


def keras_home() -> str:
    """Keras's home folder: `$KERAS_HOME`, else `~/.keras` (`/tmp/.keras` without a writable
    home), with `~` expanded.

    >>> keras_home()  # doctest: +SKIP
    '/home/me/.keras'
    """
    home = os.environ.get("KERAS_HOME")
    if home is None:
        user = os.path.expanduser("~")
        home = os.path.join(user if os.access(user, os.W_OK) else "/tmp", ".keras")
    return os.path.expanduser(home)


def _writable_or_creatable(folder: str) -> bool:
    # Keras creates its home when it is imported, so a home that does not exist yet still counts
    # when the folder above it lets it be made.
    while not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
    return os.access(folder, os.W_OK)


def cache_dir() -> str:
    """The folder Keras keeps its datasets in: `<keras home>/datasets`.

    >>> cache_dir().endswith("datasets")
    True
    """
    home = keras_home()
    if not _writable_or_creatable(home):
        tmp = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
        home = os.path.join(tmp, ".keras")
    return os.path.join(home, "datasets")


def cached_file(path, default_name: str, file_hash: str, function: str) -> str:
    """The file that a Keras loader would read for `path`: a bare file name is looked up in
    `cache_dir()`, anything with a folder in it (`/data/imdb.npz`, `~/imdb.npz`) is read as it is.
    Keras 3 refuses such paths; rnnkit accepts them, since it never downloads.

    Args:
        path: the loader's `path` argument (a str or os.PathLike).
        default_name: the file's name at `ORIGIN`, for the URL to fetch it from.
        file_hash: the hash Keras checks the download against (sha256, or md5 for 32 digits).
        function: the public function, named in errors.

    Returns:
        The path of an existing file.

    Raises:
        FileNotFoundError: naming the file, where it goes, and the URL to fetch it from by hand.

    >>> cached_file("imdb.npz", "imdb.npz", "69664113", "imdb.load_data")  # doctest: +SKIP
    '/home/me/.keras/datasets/imdb.npz'
    """
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise TypeError(f"rnnkit.datasets.{function}: expected path to be a file name or a path, "
                        f"got {path!r}.")
    name = os.fsdecode(path)
    has_folder = os.sep in name or (os.altsep is not None and os.altsep in name) or name[0] == "~"
    target = os.path.expanduser(name) if has_folder else os.path.join(cache_dir(), name)
    if os.path.isfile(target):
        return target
    url = ORIGIN + default_name
    algorithm = "md5" if len(file_hash) == 32 else "sha256"
    where = ("" if has_folder else
             " (Keras's dataset cache: $KERAS_HOME/datasets, else ~/.keras/datasets; or pass an "
             "absolute path as path=)")
    raise FileNotFoundError(
        f"rnnkit.datasets.{function}: no file {target}. rnnkit never downloads: fetch {url} by "
        f"hand (its {algorithm} is {file_hash}) and save it as {target}{where}, for example\n"
        f"    mkdir -p {os.path.dirname(target) or '.'} && curl -L -o {target} {url}")


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ARRAY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"rnnkit.datasets: refusing to load {module}.{name} from a dataset file; only numpy "
            "arrays may be stored in it (is the file corrupted or tampered with?).")


def _read_npy(data: bytes) -> np.ndarray:
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    # Version 3 differs from 2 only in the header's text encoding, not in its layout.
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    _, _, dtype = read_header(stream)
    if not dtype.hasobject:
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    return _ArrayUnpickler(stream).load()


def load_npz(path: str) -> dict[str, np.ndarray]:
    """Every array of an `.npz` file, by name; object arrays (ragged sequences, pickled by numpy)
    are rebuilt with an unpickler that admits numpy arrays and nothing else.

    Args:
        path: an `.npz` file (compressed or not).

    Returns:
        A dict from member name (without `.npy`) to array.

    >>> sorted(load_npz("/home/me/.keras/datasets/reuters.npz"))  # doctest: +SKIP
    ['x', 'y']
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                arrays[member[:-len(".npy")]] = _read_npy(archive.read(member))
    return arrays


def load_json(path: str):
    """A JSON file's value (the word indexes are plain JSON objects).

    >>> load_json("/home/me/.keras/datasets/imdb_word_index.json")["the"]  # doctest: +SKIP
    1
    """
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def members(arrays: dict, names: tuple[str, ...], path: str, function: str) -> list[np.ndarray]:
    """The arrays `names` of a loaded `.npz`, or a KeyError that lists what the file holds.

    >>> members({"x": 1, "y": 2}, ("x", "y"), "reuters.npz", "reuters.load_data")
    [1, 2]
    """
    missing = [name for name in names if name not in arrays]
    if missing:
        raise KeyError(f"rnnkit.datasets.{function}: expected arrays {list(names)} in {path}, "
                       f"found {sorted(arrays)}; is it Keras's file?")
    return [arrays[name] for name in names]


def check_int(function: str, name: str, value, *, minimum=None, none: bool = True):
    """`value` if it is an integer (not a bool) of at least `minimum`, or None where allowed;
    else a TypeError or ValueError naming the function and the argument.

    >>> check_int("imdb.load_data", "maxlen", 100, minimum=0)
    100
    """
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        allowed = "an integer or None" if none else "an integer"
        raise TypeError(f"rnnkit.datasets.{function}: expected {name} to be {allowed}, "
                        f"got {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"rnnkit.datasets.{function}: expected {name} >= {minimum}, "
                         f"got {value!r}.")
    return int(value)


def check_sequence_args(function: str, num_words, skip_top, maxlen, seed, start_char, oov_char,
                        index_from) -> None:
    """The checks shared by `imdb.load_data` and `reuters.load_data` (Keras makes none).

    >>> check_sequence_args("imdb.load_data", None, 0, None, 113, 1, 2, 3)
    """
    check_int(function, "num_words", num_words, minimum=0)
    check_int(function, "skip_top", skip_top, minimum=0, none=False)
    check_int(function, "maxlen", maxlen, minimum=0)
    seed = check_int(function, "seed", seed, minimum=0)
    if seed is not None and seed >= 2**32:
        raise ValueError(f"rnnkit.datasets.{function}: expected seed < 2**32 (numpy's RandomState "
                         f"takes 32 bits), got {seed!r}.")
    check_int(function, "start_char", start_char)
    check_int(function, "oov_char", oov_char)
    check_int(function, "index_from", index_from, none=False)


def shift_words(xs, start_char, index_from) -> list[list]:
    """Each sequence as a list, word ids moved up by `index_from` and `start_char` put first
    (when not None); the ids below `index_from` stay free for padding, start and oov.

    >>> shift_words([[1, 5]], start_char=1, index_from=3)
    [[1, 4, 8]]
    """
    head = [] if start_char is None else [start_char]
    return [head + [w + index_from for w in x] for x in xs]


def drop_long(maxlen, xs: list, labels) -> tuple[list, list]:
    """The sequences shorter than `maxlen` (strictly: Keras keeps `len(x) < maxlen`, counting the
    start mark) and their labels; all of them where `maxlen` is None or 0, as in Keras.

    >>> drop_long(3, [[1, 2], [1, 2, 3]], [0, 1])
    ([[1, 2]], [0])
    """
    if not maxlen:
        return xs, labels
    kept = [i for i, x in enumerate(xs) if len(x) < maxlen]
    return [xs[i] for i in kept], [labels[i] for i in kept]


def limit_vocabulary(xs: list, num_words, skip_top: int, oov_char, function: str) -> list[list]:
    """Ids in `[skip_top, num_words)` kept, the others replaced by `oov_char` (or left out where it
    is None). Without `num_words` (None or 0) the bound is the largest id present, and, as in
    Keras, that id itself counts as out of range.

    >>> limit_vocabulary([[1, 4, 9]], num_words=5, skip_top=2, oov_char=2, function="f")
    [[2, 4, 2]]
    """
    if not num_words:
        ids = [max(x) for x in xs if len(x)]
        if not ids:
            raise ValueError(f"rnnkit.datasets.{function}: no word is left to take the vocabulary "
                             "from (every sequence is empty or was dropped by maxlen); increase "
                             "maxlen or pass num_words.")
        num_words = max(ids)
    if oov_char is None:
        return [[w for w in x if skip_top <= w < num_words] for x in xs]
    return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]


def sequence_array(xs: list) -> np.ndarray:
    """The sequences as numpy makes them of `np.array(xs, dtype=object)`, as Keras returns them:
    one-dimensional, holding lists, except where every sequence has the same length, when numpy
    makes a (n, length) object array instead.

    >>> sequence_array([[1, 2], [3]]).shape
    (2,)
    """
    return np.array(xs, dtype=object)
