"""Record Keras 3's TextVectorization, StringLookup and IntegerLookup: for each case, the layer's
arguments, what it is adapted on, its vocabulary (with and without special tokens), its
vocabulary size, its get_config (without dtype) and its outputs on a few inputs, or the error
it raises. Writes tests/data/keras_text_layers.json.

Keras's text layers need TensorFlow (they run on tf.strings and TF lookup tables) even on the
JAX backend, so run it with Keras 3.15.1 and TensorFlow installed:

    KERAS_BACKEND=jax kerasenv/bin/python tests/data/make_keras_text_layers.py

(kerasenv has no TensorFlow; the committed file was made with a venv that adds
tensorflow-cpu 2.21.0 to kerasenv's packages.)
"""

import json
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402

from keras_fixture_common import jsonable  # noqa: E402

# Ties ("cat"/"hat", "a"/"b"), punctuation, upper case, unicode (ASCII-only lowercasing)
CORPUS = ["The cat sat on the mat.", "THE HAT, the cat!", "Ünïcode straße ÄÖ äö",
          "dog's day: a b", "a b   c\td", "émile ÉMILE café"]
CALLS = [["The cat, the HAT!", "Ünïcode straße ÄÖ", "  spaced\tout\nwords  ", "unknownword"],
         ["a b c d e f g h i j k l m n o"], ["dog's day a\u00a0b"]]

CASES = [
    ("tv_default", "TextVectorization", {}, CORPUS, CALLS),
    ("tv_seq_short", "TextVectorization", {"output_sequence_length": 3}, CORPUS, CALLS),
    ("tv_seq_long", "TextVectorization", {"output_sequence_length": 12}, CORPUS, CALLS),
    ("tv_ngrams2", "TextVectorization", {"ngrams": 2}, CORPUS, CALLS),
    ("tv_ngrams_1_3", "TextVectorization", {"ngrams": (1, 3)}, CORPUS, CALLS),
    ("tv_max_tokens", "TextVectorization", {"max_tokens": 6}, CORPUS, CALLS),
    ("tv_multi_hot", "TextVectorization", {"output_mode": "multi_hot"}, CORPUS, CALLS),
    ("tv_count", "TextVectorization", {"output_mode": "count", "max_tokens": 8}, CORPUS, CALLS),
    ("tv_count_pad", "TextVectorization", {"output_mode": "count", "max_tokens": 40,
                                           "pad_to_max_tokens": True}, CORPUS, CALLS),
    ("tv_tf_idf", "TextVectorization", {"output_mode": "tf_idf"}, CORPUS, CALLS),
    ("tv_tf_idf_pad", "TextVectorization", {"output_mode": "tf_idf", "max_tokens": 30,
                                            "pad_to_max_tokens": True}, CORPUS, CALLS),
    ("tv_lower", "TextVectorization", {"standardize": "lower"}, CORPUS, CALLS),
    ("tv_strip", "TextVectorization", {"standardize": "strip_punctuation"}, CORPUS, CALLS),
    ("tv_no_standardize", "TextVectorization", {"standardize": None}, CORPUS, CALLS),
    ("tv_character", "TextVectorization", {"split": "character", "output_sequence_length": 8},
     CORPUS, CALLS),
    ("tv_split_none", "TextVectorization", {"split": None}, ["cat", "Dog", "cat", "émile"],
     [["cat", "DOG", "bird"], [["cat"], ["émile"]]]),
    ("tv_vocabulary", "TextVectorization", {"vocabulary": ["the", "cat", "hat"]}, None, CALLS),
    ("tv_vocabulary_tf_idf", "TextVectorization",
     {"vocabulary": ["the", "cat", "hat"], "idf_weights": [0.5, 1.0, 2.0],
      "output_mode": "tf_idf"}, None, CALLS),
    ("tv_column", "TextVectorization", {}, [["a b"], ["b c"], ["c"]], [[["a c"], ["b"]]]),
    ("sl_adapt", "StringLookup", {}, [["a", "b", "b"], ["c", "a", "b"], ["d", "é", "d"]],
     [[["a", "z", "é"]], ["d", "c"], "b"]),
    ("sl_max_tokens", "StringLookup", {"max_tokens": 4},
     [["a", "b", "b"], ["c", "a", "b"], ["d", "é", "d"]], [["a", "b", "c", "d", "é"]]),
    ("sl_oov0", "StringLookup", {"vocabulary": ["a", "b", "c"], "num_oov_indices": 0}, None,
     [["c", "a"], ["zz"]]),
    ("sl_oov2", "StringLookup", {"vocabulary": ["a", "b"], "num_oov_indices": 2}, None,
     [["a", "x", "y", "zz", "ÄÖ", "a longer token of 20", "seventeen chars!!",
       "a token that is longer than thirty-two bytes"]]),
    ("sl_mask", "StringLookup", {"vocabulary": ["a", "b"], "mask_token": "[MASK]"}, None,
     [["a", "[MASK]", "q", "b"]]),
    ("sl_mask_adapt", "StringLookup", {"mask_token": "", "num_oov_indices": 2},
     [["a", "", "b", "[UNK]", "b"]], [["", "b", "a", "zz"]]),
    ("sl_invert", "StringLookup", {"vocabulary": ["a", "b", "c"], "invert": True}, None,
     [[[0, 1, 2], [3, 4, 9]]]),
    ("sl_invert_mask", "StringLookup", {"vocabulary": ["a", "b"], "invert": True,
                                        "mask_token": "[MASK]"}, None, [[0, 1, 2, 3]]),
    ("sl_one_hot", "StringLookup", {"vocabulary": ["a", "b", "c"], "output_mode": "one_hot"},
     None, [["a", "c", "q"], [["a"], ["b"]], "b"]),
    ("sl_multi_hot", "StringLookup", {"vocabulary": ["a", "b", "c"],
                                      "output_mode": "multi_hot"}, None,
     [[["a", "c", "a"], ["q", "b", "b"]], ["a", "b"]]),
    ("sl_multi_hot_mask", "StringLookup", {"vocabulary": ["a", "b", "c"], "mask_token": "",
                                           "output_mode": "multi_hot"}, None,
     [[["a", "", "a"], ["", "b", "q"]]]),
    ("sl_count", "StringLookup", {"vocabulary": ["a", "b", "c"], "output_mode": "count",
                                  "pad_to_max_tokens": True, "max_tokens": 6}, None,
     [[["a", "c", "a"], ["q", "b", "b"]]]),
    ("sl_tf_idf", "StringLookup", {"output_mode": "tf_idf"},
     [["a", "b", "b"], ["c", "a", "b"], ["d", "é", "d"]], [[["a", "b", "b"], ["d", "q", "q"]]]),
    ("sl_tf_idf_vocab", "StringLookup", {"output_mode": "tf_idf",
                                         "vocabulary": ["[UNK]", "a", "b"],
                                         "idf_weights": [0.25, 1.5, 3.0]}, None,
     [[["a", "b", "b"], ["q", "q", "a"]]]),
    ("il_adapt", "IntegerLookup", {}, [[12, 36, 36], [7, 12, 12], [5, 5, 9]],
     [[[12, 36, 99], [7, 5, 9]], 36]),
    ("il_oov2", "IntegerLookup", {"vocabulary": [12, 36], "num_oov_indices": 2}, None,
     [[5, 6, 7, 12, -3, 36]]),
    ("il_oov3_farmhash", "IntegerLookup", {"vocabulary": [12, 36], "num_oov_indices": 3,
                                           "oov_method": "farmhash"}, None,
     [[5, 6, 7, 12, -3, 36, 123456789]]),
    ("il_mask", "IntegerLookup", {"vocabulary": [12, 36], "mask_token": 0}, None,
     [[[0, 12, 7], [36, 0, 0]]]),
    ("il_oov0", "IntegerLookup", {"vocabulary": [12, 36], "num_oov_indices": 0}, None,
     [[12, 36], [12, 5]]),
    ("il_invert", "IntegerLookup", {"vocabulary": [12, 36, 7], "invert": True}, None,
     [[[0, 1, 2], [3, 4, 9]]]),
    ("il_invert_mask", "IntegerLookup", {"vocabulary": [12, 36], "invert": True,
                                         "mask_token": 0}, None, [[0, 1, 2, 3, 8]]),
    ("il_one_hot", "IntegerLookup", {"vocabulary": [12, 36], "output_mode": "one_hot"}, None,
     [[12, 36, 5], [[12], [36]]]),
    ("il_multi_hot", "IntegerLookup", {"vocabulary": [12, 36], "output_mode": "multi_hot"},
     None, [[[12, 36, 12], [5, 5, 36]]]),
    ("il_count", "IntegerLookup", {"output_mode": "count"}, [[12, 36, 36], [7, 12, 12]],
     [[[12, 36, 12], [5, 5, 36]]]),
    ("il_tf_idf", "IntegerLookup", {"output_mode": "tf_idf", "max_tokens": 8,
                                    "pad_to_max_tokens": True},
     [[12, 36, 36], [7, 12, 12], [5, 5, 9]], [[[12, 36, 12], [5, 99, 9]]]),
]


def _input(value, cls):
    if isinstance(value, str):
        return value
    arr = np.array(value)
    return arr.astype(object) if arr.dtype.kind == "U" else arr


def record(name, cls_name, kwargs, adapt_data, calls):
    cls = getattr(keras.layers, cls_name)
    layer = cls(**kwargs)
    if adapt_data is not None:
        layer.adapt(np.array(adapt_data) if cls_name != "TextVectorization"
                    or not isinstance(adapt_data[0], list) else np.array(adapt_data))
    config = layer.get_config()
    config.pop("dtype", None)
    outputs = []
    for x in calls:
        try:
            y = layer(_input(x, cls_name))
            y = np.asarray(y)
            if y.dtype.kind in "SO":
                y = np.vectorize(lambda b: b.decode() if isinstance(b, bytes) else b)(y)
            outputs.append({"input": x, "output": jsonable(y), "dtype": str(y.dtype)})
        except Exception as exc:  # recorded: rnnkit must refuse the same call
            outputs.append({"input": x, "error": f"{type(exc).__name__}: {exc}"[:300]})
    return {"name": name, "class_name": cls_name, "kwargs": jsonable(kwargs),
            "adapt": adapt_data, "vocabulary": jsonable(layer.get_vocabulary()),
            "vocabulary_plain": jsonable(layer.get_vocabulary(include_special_tokens=False)),
            "vocabulary_size": int(layer.vocabulary_size()), "config": jsonable(config),
            "calls": outputs}


def main():
    cases = [record(*case) for case in CASES]
    path = os.path.join(os.path.dirname(__file__), "keras_text_layers.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"keras_version": keras.__version__, "cases": cases}, f, indent=1,
                  ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
