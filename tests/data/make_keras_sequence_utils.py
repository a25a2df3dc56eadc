"""Records what Keras 3 answers for the sequence utilities, on edge cases: pad_sequences,
to_categorical, normalize, timeseries_dataset_from_array's windows and targets (unshuffled),
split_dataset's parts (plain and with a seeded shuffle), and the legacy Keras 2 preprocessing
that Keras 3 still carries in keras.src.legacy.preprocessing (Tokenizer, TimeseriesGenerator,
skipgrams, make_sampling_table, text_to_word_sequence, hashing_trick).

Run from the repository root:

    KERAS_BACKEND=jax ../kerasenv/bin/python tests/data/make_keras_sequence_utils.py

It writes tests/data/keras_sequence_utils.json: one list of cases per function, each with its
arguments and either the result (values, dtype, shape) or the class of the error raised.

This Keras environment has neither TensorFlow nor Grain, so two functions run with a stand-in:
timeseries_dataset_from_array runs its format="grain" path with a stand-in `grain` that only
holds lists, zips them and batches them with Keras's own make_batch (every window and target
index is Keras's); split_dataset runs its TensorFlow path with a stand-in whose
Dataset.from_tensor_slices returns the arrays Keras hands it (the split itself is Keras's).
"""

import json
import os
import random
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
from keras.src.legacy.preprocessing import sequence as legacy_sequence  # noqa: E402
from keras.src.legacy.preprocessing import text as legacy_text  # noqa: E402
from keras.src.utils import module_utils, timeseries_dataset_utils  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from keras_fixture_common import jsonable  # noqa: E402

OUT = Path(__file__).parent / "keras_sequence_utils.json"


def encode(value):
    """An array as {values, dtype, shape}; tuples and lists element by element."""
    if isinstance(value, (tuple, list)) and value and hasattr(value[0], "shape"):
        return [encode(v) for v in value]
    if hasattr(value, "shape"):
        arr = np.asarray(value)
        values = arr.tolist() if arr.dtype != object else [jsonable(v) for v in arr.tolist()]
        return {"values": values, "dtype": str(arr.dtype), "shape": list(arr.shape)}
    return jsonable(value)


def describe(value):
    """The type of an argument, so that the test can rebuild it from its JSON values."""
    if isinstance(value, np.ndarray):
        return f"ndarray:{value.dtype}"
    if isinstance(value, (tuple, list)):
        return [type(value).__name__] + [describe(v) for v in value]
    return type(value).__name__


def record(fn, kwargs, **extra):
    """A case: the keyword arguments and what `fn(**kwargs)` gave or raised."""
    case = {"kwargs": jsonable(kwargs), "types": {k: describe(v) for k, v in kwargs.items()},
            **extra}
    try:
        case["result"] = encode(fn(**kwargs))
    except Exception as e:  # the fixture records which error Keras raises
        case["error"] = type(e).__name__
        case["message"] = str(e)[:200]
    return case


def pad_cases():
    seqs = [[1], [2, 3], [4, 5, 6]]
    vecs = [[[1, 2], [3, 4]], [[5, 6]], []]
    args = [
        {"sequences": seqs}, {"sequences": seqs, "value": -1}, {"sequences": seqs, "maxlen": 2},
        {"sequences": seqs, "padding": "post"}, {"sequences": seqs, "truncating": "post",
                                                 "maxlen": 2},
        {"sequences": seqs, "padding": "post", "truncating": "post", "maxlen": 2},
        {"sequences": seqs, "maxlen": 5, "value": 9}, {"sequences": [[], [1, 2], []]},
        {"sequences": [[], []], "maxlen": 3}, {"sequences": [], "maxlen": 3},
        {"sequences": []}, {"sequences": vecs}, {"sequences": vecs, "padding": "post",
                                                 "maxlen": 3},
        {"sequences": [[[1, 2]], [[3, 4, 5]]]}, {"sequences": seqs, "dtype": "float32",
                                                 "value": 0.5},
        {"sequences": [[0.25, 1.75], [2.5]], "dtype": "float64"},
        {"sequences": [["a", "b"], ["c"]], "dtype": "object", "value": "<pad>"},
        {"sequences": [["ab", "b"], ["c"]], "dtype": "<U3", "value": "-"},
        {"sequences": [["a"]], "value": "x"}, {"sequences": seqs, "padding": "middle"},
        {"sequences": seqs, "truncating": "both", "maxlen": 2}, {"sequences": [1, [2]]},
        {"sequences": seqs, "maxlen": 0, "truncating": "post"},
        {"sequences": seqs, "maxlen": 0}, {"sequences": [np.arange(4), np.arange(2)],
                                           "maxlen": 3},
    ]
    cases = []
    for kw in args:
        kw = dict(kw)
        if kw.get("dtype") == "object":
            kw["dtype"] = object
        case = record(keras.utils.pad_sequences, kw)
        if "dtype" in kw:
            case["kwargs"]["dtype"] = case["types"]["dtype"] = (
                "object" if kw["dtype"] is object else kw["dtype"])
        cases.append(case)
    return cases


def categorical_cases():
    args = [
        {"x": [0, 1, 2, 3], "num_classes": 4}, {"x": [0, 2, 1]}, {"x": [[0], [2]]},
        {"x": [[[1]], [[0]]]}, {"x": [1]}, {"x": 2, "num_classes": 3}, {"x": [1.7, 0.2]},
        {"x": [1, 0], "num_classes": 0}, {"x": [[0, 1, 2], [2, 1, 0]]},
        {"x": [3, 0], "num_classes": 3}, {"x": [-1, 0], "num_classes": 3},
        {"x": [], "num_classes": 2}, {"x": []},
    ]
    return [record(keras.utils.to_categorical, kw) for kw in args]


def normalize_cases():
    rng = np.random.RandomState(0)
    m = rng.randn(2, 3)
    args = [
        {"x": m}, {"x": m, "order": 1}, {"x": m, "order": np.inf}, {"x": m, "axis": 1},
        {"x": m, "axis": 0}, {"x": rng.randn(3, 3), "axis": 0}, {"x": rng.randn(2, 3, 4),
                                                                   "axis": 1},
        {"x": np.array([[0.0, 0.0], [3.0, 4.0]])}, {"x": np.array([3, 4])},
        {"x": np.array([[1, 2], [3, 4]])},
    ]
    return [record(keras.utils.normalize, kw) for kw in args]


class _Holder:
    """Stands in for a Grain dataset or a tf.data.Dataset: a list of elements."""

    def __init__(self, items):
        self.items = list(items)

    def to_iter_dataset(self):
        return self

    def prefetch(self, *_):
        return self

    def batch(self, batch_size, batch_fn=None):
        return _Holder(batch_fn(self.items[i:i + batch_size])
                       for i in range(0, len(self.items), batch_size))


class _Grain:
    class MapDataset:
        source = _Holder

    class experimental:
        @staticmethod
        def ZipMapDataset(parts):
            return _Holder(zip(*(p.items for p in parts)))


class _TF:
    class data:
        AUTOTUNE = -1

        class Dataset:
            from_tensor_slices = _Holder


def timeseries_cases():
    timeseries_dataset_utils.grain = _Grain
    data = np.arange(20)
    data2 = np.arange(40, dtype="float32").reshape(20, 2)
    targets = np.arange(20) * 10
    args = [
        {"sequence_length": 5, "batch_size": 4},
        {"sequence_length": 4, "sequence_stride": 3, "sampling_rate": 2, "batch_size": 3},
        {"sequence_length": 3, "start_index": 4, "end_index": 15, "batch_size": 5},
        {"sequence_length": 3, "batch_size": None, "sequence_stride": 4},
        {"sequence_length": 6, "sampling_rate": 3, "batch_size": 128},
        {"sequence_length": 3, "targets": None, "batch_size": 8},
        {"sequence_length": 4, "data": data2, "batch_size": 6, "sequence_stride": 2},
        {"sequence_length": 3, "targets": targets[:7], "batch_size": 4},
        {"sequence_length": 3, "start_index": 0, "end_index": 10, "batch_size": 4},
        {"sequence_length": 2, "start_index": 20}, {"sequence_length": 2, "end_index": 20},
        {"sequence_length": 2, "start_index": 5, "end_index": 5},
        {"sequence_length": 2, "start_index": -1}, {"sequence_length": 2, "end_index": -2},
        {"sequence_length": 2, "sampling_rate": 0}, {"sequence_length": 2, "sampling_rate": 20},
        {"sequence_length": 2, "sequence_stride": 0},
        {"sequence_length": 2, "sequence_stride": 20},
    ]
    cases = []
    for kw in args:
        kw = {"data": data, "targets": targets, **kw}

        def run(**k):
            return [b for b in keras.utils.timeseries_dataset_from_array(format="grain", **k)
                    .items]
        case = record(run, kw)
        cases.append(case)
    return cases


def split_cases():
    module_utils.tensorflow = _TF
    x = np.arange(10)
    xy = (np.arange(20).reshape(10, 2), np.arange(10) * 3)
    args = [
        {"dataset": x, "left_size": 0.8}, {"dataset": x, "right_size": 3},
        {"dataset": x, "left_size": 3, "right_size": 4}, {"dataset": xy, "left_size": 0.25},
        {"dataset": list(xy), "right_size": 0.5}, {"dataset": x, "left_size": 0.44},
        {"dataset": x, "left_size": 0.45}, {"dataset": x, "left_size": 0.8, "shuffle": True,
                                            "seed": 7},
        {"dataset": xy, "left_size": 6, "shuffle": True, "seed": 1},
        {"dataset": x}, {"dataset": x, "left_size": 10}, {"dataset": x, "left_size": 0},
        {"dataset": x, "left_size": 1.0}, {"dataset": x, "left_size": 0.6, "right_size": 0.6},
        {"dataset": x, "left_size": 7, "right_size": 4}, {"dataset": x, "left_size": 0.01},
        {"dataset": x, "left_size": "5"}, {"dataset": x, "left_size": np.int64(3)},
        {"dataset": (x, np.arange(4)), "left_size": 0.5},
        {"dataset": [x, [1, 2]], "left_size": 0.5}, {"dataset": x,
                                                                    "right_size": 0.96},
    ]

    def run(**k):
        return tuple(h.items for h in keras.utils.split_dataset(**k))
    return [record(run, kw) for kw in args]


def tokenizer_cases():
    texts = ["The cat sat on the mat.", "The dog ate my homework!", "Cat and dog, dog and cat",
             "It's the END"]
    probe = ["the cat ate a fish", "unknown words only", "DOG DOG the"]
    cases = []
    for kw in [{}, {"num_words": 4}, {"oov_token": "<OOV>"}, {"num_words": 5, "oov_token": "?"},
               {"lower": False}, {"char_level": True}, {"filters": "", "split": " "},
               {"split": ","}]:
        tok = legacy_text.Tokenizer(**kw)
        tok.fit_on_texts(texts)
        seqs = tok.texts_to_sequences(probe)
        case = {"kwargs": kw, "word_index": tok.word_index, "word_counts": tok.word_counts,
                "word_docs": dict(tok.word_docs), "index_docs": dict(tok.index_docs),
                "document_count": tok.document_count, "sequences": seqs,
                "texts": tok.sequences_to_texts(seqs + [[1, 2, 99, 0]]),
                "config": tok.get_config()}
        for mode in ("binary", "count", "freq", "tfidf"):
            case[mode] = tok.texts_to_matrix(probe, mode=mode).tolist()
        cases.append(jsonable(case))
    return cases


def legacy_sequence_cases():
    data = np.arange(50).reshape(50, 1)
    out = {"generator": []}
    for kw in [{"length": 10, "sampling_rate": 2, "batch_size": 2},
               {"length": 5, "stride": 3, "batch_size": 4, "start_index": 2, "end_index": 30},
               {"length": 4, "reverse": True, "batch_size": 16}]:
        gen = legacy_sequence.TimeseriesGenerator(data, data * 2, **kw)
        out["generator"].append({"kwargs": kw, "len": len(gen),
                                 "batches": [encode(gen[i]) for i in range(len(gen))]})
    out["sampling_table"] = legacy_sequence.make_sampling_table(12, 1e-3).tolist()
    seq = [1, 2, 0, 3, 4, 2]
    out["skipgrams_plain"] = legacy_sequence.skipgrams(seq, 5, window_size=2,
                                                       negative_samples=0, shuffle=False)
    random.seed(123)
    out["skipgrams_seeded"] = legacy_sequence.skipgrams(seq, 5, window_size=1, seed=3,
                                                        categorical=True)
    table = np.array([0.0, 1.0, 0.5, 0.0, 1.0])
    random.seed(5)
    out["skipgrams_table"] = legacy_sequence.skipgrams(seq, 5, window_size=1, shuffle=False,
                                                       sampling_table=table,
                                                       negative_samples=0.5)
    out["words"] = legacy_text.text_to_word_sequence("Hello, World! It's\tme -- again.")
    out["words_upper"] = legacy_text.text_to_word_sequence("A-B c", lower=False, split="-",
                                                           filters=" ")
    out["md5"] = legacy_text.hashing_trick("The cat, the hat.", 7, hash_function="md5")
    return jsonable(out)


def main():
    fixtures = {"keras_version": keras.__version__, "pad_sequences": pad_cases(),
                "to_categorical": categorical_cases(), "normalize": normalize_cases(),
                "timeseries": timeseries_cases(), "split_dataset": split_cases(),
                "tokenizer": tokenizer_cases(), "legacy": legacy_sequence_cases()}
    OUT.write_text(json.dumps(fixtures, indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
