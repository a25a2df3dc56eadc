"""TextVectorization, StringLookup and IntegerLookup against Keras 3's own results
(tests/data/keras_text_layers.json, made by tests/data/make_keras_text_layers.py) and against
independent references (numpy counts, log idf formula, a hand-written vocabulary)."""

import json
import math
import os

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import layers
from rnnkit.layers.text_encoding import fingerprint64

_DATA = os.path.join(os.path.dirname(__file__), "data", "keras_text_layers.json")
with open(_DATA, encoding="utf-8") as _f:
    CASES = json.load(_f)["cases"]

# Keras on JAX cannot return strings (invert=True of StringLookup raises); rnnkit returns them.
_STRING_OUTPUT = {"sl_invert", "sl_invert_mask"}


def _kwargs(case):
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("ngrams"), list):
        kwargs["ngrams"] = tuple(kwargs["ngrams"])
    return kwargs


def _layer(case):
    layer = getattr(layers, case["class_name"])(**_kwargs(case))
    if case["adapt"] is not None:
        layer.adapt(np.array(case["adapt"], dtype=object if case["class_name"] != "IntegerLookup"
                             else np.int64))
    return layer


def _input(value):
    return value if isinstance(value, str) else np.array(value)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vocabulary_matches_keras(case):
    layer = _layer(case)
    assert layer.get_vocabulary() == case["vocabulary"]
    assert layer.get_vocabulary(include_special_tokens=False) == case["vocabulary_plain"]
    assert layer.vocabulary_size() == case["vocabulary_size"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_outputs_match_keras(case):
    layer = _layer(case)
    for call in case["calls"]:
        if "error" in call:
            if case["name"] in _STRING_OUTPUT:
                continue
            with pytest.raises(ValueError, match="OOV|vocabulary"):
                layer(_input(call["input"]))
            continue
        out = layer(_input(call["input"]))
        assert torch.is_tensor(out)
        expected = np.array(call["output"])
        assert tuple(out.shape) == expected.shape, call["input"]
        if case["kwargs"].get("output_mode", "int") == "int":
            assert out.dtype == torch.int64
            np.testing.assert_array_equal(out.numpy(), expected)
        else:
            assert out.dtype == torch.float32
            np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_config_matches_keras(case):
    layer = _layer(case)
    config = json.loads(json.dumps(layer.get_config()))  # tuples as JSON lists, as Keras's
    config.pop("dtype")
    expected = dict(case["config"])
    assert config.pop("name") and expected.pop("name")
    assert config == expected
    # An adapted vocabulary is not in the config (Keras keeps it in an asset file): the copy
    # has the special tokens only, until load_assets gives it the rest.
    again = type(layer).from_config(layer.get_config())
    if case["adapt"] is not None:
        assert again.vocabulary_size() < layer.vocabulary_size() or not layer.get_vocabulary()
        again.load_assets(getattr(layer, "_lookup_layer", layer).save_assets())
    assert again.get_config() == layer.get_config()
    assert again.get_vocabulary() == layer.get_vocabulary()


def test_string_invert_returns_strings():
    layer = layers.StringLookup(vocabulary=["a", "b", "c"], invert=True)
    np.testing.assert_array_equal(layer(np.array([[0, 1, 2], [3, 4, 9]])),
                                  [["[UNK]", "a", "b"], ["c", "[UNK]", "[UNK]"]])
    masked = layers.StringLookup(vocabulary=["a", "b"], invert=True, mask_token="[MASK]")
    assert masked(torch.tensor([0, 1, 2, 3])).tolist() == ["[MASK]", "[UNK]", "a", "b"]


def test_fingerprint64_reference_values():
    # FarmHash's published Fingerprint64 of "" and of "abc" (farmhash's own tests)
    assert fingerprint64(b"") == 0x9AE16A3B2F90404F
    assert fingerprint64(b"abc") == 2640714258260161385


def test_tf_idf_against_formula():
    layer = layers.StringLookup(output_mode="tf_idf")
    layer.adapt(np.array([["a", "b", "b"], ["c", "a", "b"], ["d", "d", "d"]], dtype=object))
    vocab = layer.get_vocabulary()
    n = 3
    df = {"a": 2, "b": 2, "c": 1, "d": 1}
    idf = np.array([math.log(1 + n / (1 + df[t])) for t in vocab[1:]], np.float32)
    out = layer(np.array([["b", "b", "zz"]]))[0].numpy()
    expected = np.zeros(len(vocab), np.float32)
    expected[0] = idf.mean()
    expected[vocab.index("b")] = 2 * idf[vocab.index("b") - 1]
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_bytes_and_nested_inputs():
    layer = layers.StringLookup(vocabulary=["é", "b"])
    assert layer(np.array([["é".encode(), b"b"]])).tolist() == [[1, 2]]
    assert layer([["é", "q"]]).tolist() == [[1, 0]]
    assert layer("b").tolist() == 2


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("the\ncat\n", encoding="utf-8")
    layer = layers.TextVectorization(vocabulary=str(path))
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "cat"]
    assert layer.get_config()["vocabulary"] is None


def test_refusals():
    with pytest.raises(ValueError, match="ragged"):
        layers.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match="sparse"):
        layers.StringLookup(sparse=True, output_mode="multi_hot")
    with pytest.raises(ValueError, match="output_mode"):
        layers.StringLookup(output_mode="bag")
    with pytest.raises(ValueError, match="standardize"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="invert"):
        layers.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="repeats"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="output_sequence_length"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="cannot adapt"):
        layers.StringLookup(vocabulary=["a"]).adapt(["a"])


def test_adapt_on_batches_and_callables():
    def batches():
        yield np.array(["b a", "b"])
        yield ["c b"]
    layer = layers.TextVectorization()
    layer.adapt(batches())
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "c", "a"]
    upper = layers.TextVectorization(standardize=lambda x: np.char.upper(x),
                                     split=lambda x: [s.split("-") for s in x],
                                     vocabulary=["A", "B"])
    assert upper(["a-b-z"]).tolist() == [[2, 3, 1]]


def _text_data():
    texts = np.array(["good movie", "bad movie", "great film", "awful film", "good good",
                      "bad bad"] * 4)
    return texts, np.array([1, 0, 1, 0, 1, 0] * 4, dtype="float32")


def test_sequential_text_model_fits_predicts_saves_and_loads(tmp_path):
    torch.manual_seed(0)
    texts, y = _text_data()
    vectorize = layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(texts)
    model = rnnkit.Sequential([layers.Input(shape=(1,), dtype="string"), vectorize,
                               layers.Embedding(20, 8), layers.LSTM(8),
                               layers.Dense(1, activation="sigmoid")])
    assert model.compute_output_shape((None, 1)) == (None, 1)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(texts[:, None], y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    predictions = model.predict(texts[:, None], verbose=0)
    assert predictions.shape == (len(texts), 1)
    assert np.isfinite(model.evaluate(texts[:, None], y, verbose=0))
    path = tmp_path / "text.rnnkit"
    model.save(path)
    loaded = rnnkit.models.load_model(path)
    assert loaded.layers[0].get_vocabulary() == vectorize.get_vocabulary()
    np.testing.assert_array_equal(loaded.predict(texts[:, None], verbose=0), predictions)


def test_sequential_without_input_builds_on_a_vector_of_strings():
    """Keras's text-classification shape: the model's first layer is the TextVectorization and
    x a 1-D array of strings; the model computes what its layers compute one after another."""
    torch.manual_seed(0)
    texts, y = _text_data()
    vectorize = layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(texts)
    model = rnnkit.Sequential([vectorize, layers.Embedding(20, 4, mask_zero=True), layers.LSTM(3),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(texts, y, epochs=1, batch_size=8, verbose=0)
    assert model.compute_output_shape((None,)) == (None, 1)
    ids = vectorize(texts)
    assert ids.shape == (len(texts), 4) and ids.dtype == torch.int64
    with torch.no_grad():
        by_hand = model.layers[3](model.layers[2](model.layers[1](ids)))
    np.testing.assert_allclose(model.predict(texts, verbose=0), by_hand.numpy(), rtol=1e-6)


def test_functional_text_model_and_tf_idf_save(tmp_path):
    texts, y = _text_data()
    inputs = layers.Input(shape=(1,), dtype="string")
    vectorize = layers.TextVectorization(output_mode="tf_idf")
    vectorize.adapt(texts)
    outputs = layers.Dense(1)(vectorize(inputs))
    model = rnnkit.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(texts[:, None], y, epochs=1, verbose=0)
    predictions = model.predict(texts[:, None], verbose=0)
    model.save(tmp_path / "tfidf.rnnkit")
    loaded = rnnkit.models.load_model(tmp_path / "tfidf.rnnkit")
    np.testing.assert_allclose(loaded.predict(texts[:, None], verbose=0), predictions)


def test_strings_refused_where_the_model_takes_numbers():
    model = rnnkit.Sequential([layers.Input(shape=(1,)), layers.Dense(1)])
    with pytest.raises(TypeError, match="strings"):
        model.predict(np.array([["a"], ["b"]]), verbose=0)


def test_load_keras_refuses_text_layers():
    from rnnkit.interop.keras import _layer
    record = {"class_name": "TextVectorization", "config": {"name": "tv"}}
    with pytest.raises(ValueError, match="text layers"):
        _layer(record)
