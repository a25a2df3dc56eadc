"""Sequence utilities against Keras 3's answers (tests/data/make_keras_sequence_utils.py) and
against hand-computed expectations: pad_sequences, to_categorical, normalize, PyDataset,
timeseries_dataset_from_array, split_dataset and Keras 2's preprocessing.sequence / .text."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

import rnnkit
from helpers import DATA
from rnnkit.preprocessing import sequence as legacy_sequence
from rnnkit.preprocessing import text as legacy_text
from rnnkit.utils import (PyDataset, normalize, pad_sequences, split_dataset,
                          timeseries_dataset_from_array, to_categorical)

FIX = json.loads((DATA / "keras_sequence_utils.json").read_text())

# Cases where rnnkit answers on purpose otherwise than Keras 3 (see each function's docstring):
# (function, case index) -> what rnnkit does instead.
DIFFERS = {
    # pad_sequences(maxlen=0, truncating="pre"): Keras slices s[-0:] (the whole sequence) and
    # fails to broadcast it; rnnkit gives the (n, 0) array that truncating="post" gives.
    ("pad_sequences", 23): "empty",
    # to_categorical([-1, 0]): Keras's -1 silently marks the last class; rnnkit refuses it.
    ("to_categorical", 10): "refused",
    # normalize(axis=0): Keras puts the norms back on axis -1 (`axis or -1`), which fails on
    # (2, 3) and divides by the wrong norms on (3, 3); rnnkit divides along axis 0.
    ("normalize", 4): "axis0", ("normalize", 5): "axis0",
}
# Keras's exception classes where rnnkit raises another one (rnnkit: ValueError, naming the
# function and the allowed range).
RENAMED = {"IndexError": "ValueError"}
ERRORS = {"ValueError": ValueError, "TypeError": TypeError}


def rebuild(value, kind):
    """An argument from its JSON value and the type the fixture recorded for it."""
    if isinstance(kind, list):
        items = [rebuild(v, k) for v, k in zip(value, kind[1:])]
        return tuple(items) if kind[0] == "tuple" else items
    if kind.startswith("ndarray:"):
        return np.array(value, dtype=kind.split(":", 1)[1])
    if kind == "int64":
        return np.int64(value)
    return object if value == "object" else value


def kwargs_of(case):
    return {k: rebuild(v, case["types"][k]) for k, v in case["kwargs"].items()}


def check_array(got, want):
    got = np.asarray(got)
    assert list(got.shape) == want["shape"]
    assert str(got.dtype) == want["dtype"]
    if got.dtype.kind == "f":
        expected = np.array(want["values"], dtype=got.dtype).reshape(got.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-15)
    else:
        assert got.tolist() == want["values"]


def cases(name):
    return [pytest.param(i, c, id=f"{name}{i}") for i, c in enumerate(FIX[name])
            if (name, i) not in DIFFERS]


def expect_keras(fn, case):
    kwargs = kwargs_of(case)
    if "error" in case:
        error = RENAMED.get(case["error"], case["error"])
        with pytest.raises(ERRORS[error]):
            fn(**kwargs)
        return None
    return fn(**kwargs)


@pytest.mark.parametrize("i,case", cases("pad_sequences"))
def test_pad_sequences_matches_keras(i, case):
    got = expect_keras(pad_sequences, case)
    if got is not None:
        check_array(got, case["result"])


@pytest.mark.parametrize("i,case", cases("to_categorical"))
def test_to_categorical_matches_keras(i, case):
    got = expect_keras(to_categorical, case)
    if got is not None:
        check_array(got, case["result"])


@pytest.mark.parametrize("i,case", cases("normalize"))
def test_normalize_matches_keras(i, case):
    got = expect_keras(normalize, case)
    if got is not None:
        check_array(got, case["result"])


def test_where_rnnkit_differs_from_keras_on_purpose():
    assert pad_sequences([[1], [2, 3]], maxlen=0).shape == (2, 0)
    with pytest.raises(ValueError, match=r"to_categorical: class values must lie in \[0, 2\]"):
        to_categorical([-1, 0], num_classes=3)
    for i in (4, 5):
        x = kwargs_of(FIX["normalize"][i])["x"]
        np.testing.assert_allclose(normalize(x, axis=0), x / np.linalg.norm(x, axis=0),
                                   rtol=1e-15)


def test_pad_sequences_errors_name_the_function():
    with pytest.raises(ValueError, match="pad_sequences: cannot infer `maxlen`"):
        pad_sequences([])
    with pytest.raises(ValueError, match="pad_sequences: `maxlen` must be None or an int"):
        pad_sequences([[1]], maxlen=-1)
    with pytest.raises(ValueError, match="pad_sequences: `sequences` must be a sized"):
        pad_sequences(iter([[1]]))
    with pytest.raises(ValueError, match="steps of the sequence at position 0"):
        pad_sequences([[[1, 2], [3]]])
    # Keras checks truncating only on a non-empty sequence; rnnkit always does.
    with pytest.raises(ValueError, match='truncating type "x"'):
        pad_sequences([[]], maxlen=1, truncating="x")


def test_to_categorical_and_normalize_on_torch_tensors():
    y = torch.tensor([[2], [0]])
    out = to_categorical(y, num_classes=3)
    assert out.dtype == torch.float32 and out.tolist() == [[0, 0, 1], [1, 0, 0]]
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=torch.float64)
    np.testing.assert_allclose(normalize(x).numpy(), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, order=1).numpy(), [[3 / 7, 4 / 7], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(torch.tensor([1.0, 3.0]), axis=0, order=1).numpy(),
                               [0.25, 0.75])
    with pytest.raises(ValueError, match="normalize: for a tensor `order` must be an int"):
        normalize(x, order=np.inf)
    with pytest.raises(ValueError, match="normalize: `axis` 2 is out of range"):
        normalize(np.ones((2, 2)), axis=2)


# ---- timeseries_dataset_from_array ---------------------------------------------------------

def batch_lists(dataset):
    """The dataset's batches as nested lists, as the fixture holds them."""
    out = []
    for batch in dataset:
        if isinstance(batch, tuple):
            out.append([np.asarray(b).tolist() for b in batch])
        else:
            out.append(np.asarray(batch).tolist())
    return out


def keras_batches(result):
    return [b["values"] if isinstance(b, dict) else b for b in result]


@pytest.mark.parametrize("i,case", cases("timeseries"))
def test_timeseries_windows_match_keras(i, case):
    got = expect_keras(timeseries_dataset_from_array, case)
    if got is not None:
        assert isinstance(got, PyDataset)
        assert batch_lists(got) == keras_batches(case["result"])
        assert len(got) == len(case["result"])


def test_timeseries_shuffle_is_seeded_and_keeps_the_windows():
    data, targets = np.arange(30) * 1.5, np.arange(30)
    kw = dict(sequence_length=4, sequence_stride=2, batch_size=5, shuffle=True)
    a = timeseries_dataset_from_array(data, targets, seed=3, **kw)
    b = timeseries_dataset_from_array(data, targets, seed=3, **kw)
    assert batch_lists(a) == batch_lists(b)
    xs = np.concatenate([x for x, _ in a])
    ys = np.concatenate([y for _, y in a])
    # Keras's first shuffle: the start positions, permuted by RandomState(seed).
    starts = np.arange(0, 27, 2)
    np.random.RandomState(3).shuffle(starts)
    np.testing.assert_array_equal(ys, starts)
    np.testing.assert_array_equal(xs, data[starts[:, None] + np.arange(4)])


def test_timeseries_dataset_is_a_pydataset_of_numpy_batches():
    ds = timeseries_dataset_from_array(torch.arange(12.0).reshape(6, 2), None, 2,
                                       batch_size=4)
    assert len(ds) == 2 and ds.num_batches == 2
    assert ds[-1].shape == (1, 2, 2) and isinstance(ds[0], np.ndarray)
    with pytest.raises(IndexError):
        ds[2]
    with pytest.raises(ValueError, match="`sequence_length` must be an int > 0"):
        timeseries_dataset_from_array(np.arange(5), None, 0)
    with pytest.raises(ValueError, match="`batch_size` must be an int > 0"):
        timeseries_dataset_from_array(np.arange(5), None, 2, batch_size=0)


# ---- split_dataset -------------------------------------------------------------------------

def as_lists(part):
    if isinstance(part, tuple):
        return [np.asarray(p).tolist() for p in part]
    return np.asarray(part).tolist()


@pytest.mark.parametrize("i,case", cases("split_dataset"))
def test_split_dataset_matches_keras(i, case):
    got = expect_keras(split_dataset, case)
    if got is not None:
        assert [as_lists(p) for p in got] == case["result"]


def test_split_dataset_shapes_and_torch_datasets():
    x, y = np.arange(12).reshape(6, 2), np.arange(6)
    (xl, yl), (xr, yr) = split_dataset([x, y], right_size=2)
    assert xl.shape == (4, 2) and yr.tolist() == [4, 5]
    state = random.getstate()
    split_dataset(x, left_size=0.5, shuffle=True, seed=1)
    assert random.getstate() == state  # the global generator is left alone
    tds = torch.utils.data.TensorDataset(torch.arange(5))
    left, right = split_dataset(tds, left_size=2)
    assert [int(t[0]) for t in left] == [0, 1] and len(right) == 3
    with pytest.raises(TypeError, match="split_dataset: `dataset` must be"):
        split_dataset({"x": x}, left_size=1)


# ---- PyDataset -----------------------------------------------------------------------------

class Batches(PyDataset):
    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n, self.epochs = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        return np.full((2,), index), np.array([index])

    def on_epoch_end(self):
        self.epochs += 1


def test_pydataset_contract():
    ds = Batches(3, workers=2, use_multiprocessing=True, max_queue_size=4)
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size) == (2, True, 4)
    assert ds.num_batches == 3 and [int(y[0]) for _, y in ds] == [0, 1, 2]
    ds.on_epoch_begin()
    ds.on_epoch_end()
    assert ds.epochs == 1
    ds.workers = 5
    assert ds.workers == 5
    default = Batches(1)
    assert (default.workers, default.use_multiprocessing, default.max_queue_size) == (1, False,
                                                                                       10)
    assert rnnkit.utils.Sequence is PyDataset


def test_pydataset_errors_and_missing_super_init():
    with pytest.raises(ValueError, match="Batches: `workers` must be an int >= 0"):
        Batches(1, workers=-1)
    with pytest.raises(ValueError, match="`use_multiprocessing` must be a bool"):
        Batches(1, use_multiprocessing="yes")
    with pytest.raises(NotImplementedError, match="must implement __getitem__"):
        PyDataset()[0]
    with pytest.raises(NotImplementedError, match="num_batches"):
        PyDataset().num_batches

    class NoSuper(PyDataset):
        def __init__(self):
            pass

    with pytest.warns(UserWarning, match=r"super\(\).__init__"):
        assert NoSuper().max_queue_size == 10

    class Endless(PyDataset):
        num_batches = None

        def __getitem__(self, index):
            return index

    items = iter(Endless())
    assert [next(items) for _ in range(4)] == [0, 1, 2, 3]


# ---- Keras 2's preprocessing.text and preprocessing.sequence -------------------------------

TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "Cat and dog, dog and cat",
         "It's the END"]
PROBE = ["the cat ate a fish", "unknown words only", "DOG DOG the"]


@pytest.mark.parametrize("case", FIX["tokenizer"], ids=lambda c: json.dumps(c["kwargs"]))
def test_tokenizer_matches_keras(case):
    tok = legacy_text.Tokenizer(**case["kwargs"])
    tok.fit_on_texts(TEXTS)
    assert tok.word_index == case["word_index"]
    assert list(tok.word_counts.items()) == list(case["word_counts"].items())
    assert dict(tok.word_docs) == case["word_docs"]
    assert {str(k): v for k, v in tok.index_docs.items()} == case["index_docs"]
    assert tok.document_count == case["document_count"]
    seqs = tok.texts_to_sequences(PROBE)
    assert seqs == case["sequences"]
    assert tok.sequences_to_texts(seqs + [[1, 2, 99, 0]]) == case["texts"]
    for mode in ("binary", "count", "freq", "tfidf"):
        np.testing.assert_allclose(tok.texts_to_matrix(PROBE, mode=mode), case[mode],
                                   rtol=1e-15)
    config = tok.get_config()
    assert {k: json.loads(v) if k in ("word_counts", "word_docs", "index_docs", "index_word",
                                      "word_index") else v for k, v in config.items()} == {
        k: json.loads(v) if isinstance(v, str) and v.startswith("{") else v
        for k, v in case["config"].items()}


def test_tokenizer_by_hand_and_json_round_trip():
    tok = legacy_text.Tokenizer(num_words=3, oov_token="<unk>")
    tok.fit_on_texts(["b a b", "c b"])
    # b: 3, a: 1, c: 1 (a first seen) -> <unk> 1, b 2, a 3, c 4; only indices < 3 are kept.
    assert tok.word_index == {"<unk>": 1, "b": 2, "a": 3, "c": 4}
    assert tok.texts_to_sequences(["a b z"]) == [[1, 2, 1]]
    assert tok.sequences_to_texts([[2, 3, 7]]) == ["b <unk> <unk>"]
    tok.num_words = None
    m = tok.texts_to_matrix(["b b c"], mode="tfidf")
    # docs = 2; b in 2 documents, c in 1.
    np.testing.assert_allclose(m[0, 2], (1 + np.log(2)) * np.log(1 + 2 / 3))
    np.testing.assert_allclose(m[0, 4], np.log(1 + 2 / 2))
    assert tok.texts_to_matrix(["b b c"], mode="freq")[0].tolist() == [0, 0, 2 / 3, 0, 1 / 3]
    back = legacy_text.tokenizer_from_json(tok.to_json())
    assert back.word_index == tok.word_index and back.index_word == tok.index_word
    assert back.texts_to_sequences(["c a q"]) == tok.texts_to_sequences(["c a q"])
    assert back.document_count == 2 and back.index_docs == dict(tok.index_docs)
    chars = legacy_text.Tokenizer(char_level=True)
    chars.fit_on_texts(["abA"])
    assert chars.word_index == {"a": 1, "b": 2}
    lists = legacy_text.Tokenizer(lower=False)
    lists.fit_on_texts([["X", "y"], ["y"]])
    assert lists.word_index == {"y": 1, "X": 2}


def test_tokenizer_errors():
    with pytest.raises(TypeError, match="unrecognized keyword arguments"):
        legacy_text.Tokenizer(foo=1)
    with pytest.raises(ValueError, match="fit on some text data first"):
        legacy_text.Tokenizer().sequences_to_matrix([[1]])
    tok = legacy_text.Tokenizer(num_words=4)
    with pytest.raises(ValueError, match="before using tfidf"):
        tok.sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(ValueError, match="unknown mode 'bag'"):
        tok.sequences_to_matrix([[1]], mode="bag")
    with pytest.raises(ValueError, match="one string"):
        tok.fit_on_texts("a text")
    with pytest.warns(UserWarning, match="nb_words"):
        assert legacy_text.Tokenizer(nb_words=7).num_words == 7


def test_text_helpers_match_keras():
    legacy = FIX["legacy"]
    assert legacy_text.text_to_word_sequence("Hello, World! It's\tme -- again.") == \
        legacy["words"]
    assert legacy_text.text_to_word_sequence("A-B c", lower=False, split="-", filters=" ") == \
        legacy["words_upper"]
    assert legacy_text.hashing_trick("The cat, the hat.", 7, hash_function="md5") == \
        legacy["md5"]
    words = legacy_text.text_to_word_sequence("the cat")
    assert legacy_text.one_hot("The cat", 5) == [hash(w) % 4 + 1 for w in words]
    with pytest.raises(ValueError, match="hashing_trick: `n` must be an int >= 2"):
        legacy_text.hashing_trick("a", 1)


@pytest.mark.parametrize("case", FIX["legacy"]["generator"], ids=lambda c: str(c["kwargs"]))
def test_timeseries_generator_matches_keras(case):
    data = np.arange(50).reshape(50, 1)
    gen = legacy_sequence.TimeseriesGenerator(data, data * 2, **case["kwargs"])
    assert len(gen) == case["len"]
    for i, (x, y) in enumerate(case["batches"]):
        got_x, got_y = gen[i]
        check_array(got_x, x)
        check_array(got_y, y)
    config = json.loads(gen.to_json())["config"]
    assert json.loads(config["data"]) == data.tolist()
    with pytest.raises(ValueError, match="same length"):
        legacy_sequence.TimeseriesGenerator(data, data[:3], length=2)
    with pytest.raises(ValueError, match="start_index\\+length=60 > end_index=49"):
        legacy_sequence.TimeseriesGenerator(data, data, length=60)


def test_skipgrams_and_sampling_table_match_keras():
    legacy = FIX["legacy"]
    np.testing.assert_allclose(legacy_sequence.make_sampling_table(12, 1e-3),
                               legacy["sampling_table"], rtol=1e-15)
    seq = [1, 2, 0, 3, 4, 2]
    got = legacy_sequence.skipgrams(seq, 5, window_size=2, negative_samples=0, shuffle=False)
    assert [list(p) for p in got] == legacy["skipgrams_plain"]
    state = random.getstate()
    try:
        random.seed(123)
        got = legacy_sequence.skipgrams(seq, 5, window_size=1, seed=3, categorical=True)
        assert [list(p) for p in got] == legacy["skipgrams_seeded"]
        random.seed(5)
        got = legacy_sequence.skipgrams(seq, 5, window_size=1, shuffle=False,
                                        sampling_table=np.array([0.0, 1.0, 0.5, 0.0, 1.0]),
                                        negative_samples=0.5)
        assert [list(p) for p in got] == legacy["skipgrams_table"]
    finally:
        random.setstate(state)


def test_keras2_import_paths():
    from rnnkit.preprocessing.sequence import pad_sequences as legacy_pad
    assert legacy_pad is pad_sequences
    assert rnnkit.preprocessing.timeseries_dataset_from_array is timeseries_dataset_from_array
    assert "preprocessing" in rnnkit.__all__
