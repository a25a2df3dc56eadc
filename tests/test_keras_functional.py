"""The Functional API and Model subclassing against Keras 3 itself
(tests/data/make_keras_functional.py wrote the fixtures): every model is built here exactly as the
script builds it, with the imports changed, and given Keras's weights; summaries, predictions,
fit histories, evaluate results, names, configs, error messages and Keras-saved files must agree."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import rnnkit as keras
from rnnkit import layers
from rnnkit.interop import load_keras
from helpers import (DATA, FunctionalGolden, assert_close, fresh_names,  # noqa: F401
                     keras_table_rows, one_or_list, summary_of)

FILES = DATA / "keras_files" / "functional_models"
# After several epochs of float32 updates the two frameworks' sums round differently.
TRAINED_TOL = 1e-4


GOLDEN = FunctionalGolden()
CASES = GOLDEN.meta["cases"]


pytestmark = pytest.mark.usefixtures("fresh_names")


def outputs_list(result):
    if isinstance(result, dict):
        return list(result.values())
    if isinstance(result, (list, tuple)):
        return list(result)
    return [result]


# -- the models, as the script builds them ---------------------------------------------------------


def chain_model():
    inputs = keras.Input((None, 3))
    x = layers.LSTM(4, return_sequences=True)(inputs)
    x = layers.GRU(3)(x)
    outputs = layers.Dense(2)(x)
    return keras.Model(inputs, outputs)


def chain_misc_model():
    inputs = keras.Input((5, 2), name="frames")
    x = layers.Masking(mask_value=0.0)(inputs)
    x = layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True))(x)
    x = layers.TimeDistributed(layers.Dense(2))(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Activation("tanh")(x)
    x = layers.Flatten()(x)
    x = layers.RepeatVector(2)(x)
    x = layers.GRU(2, reset_after=False)(x)
    outputs = layers.Dense(1, activation="sigmoid", name="prob")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="chain_misc")


def state_outputs_model():
    inputs = keras.Input((4, 2))
    seq, h, c = layers.LSTM(3, return_sequences=True, return_state=True)(inputs)
    return keras.Model(inputs, [seq, h, c])


def multi_model(output_names=(None, None)):
    seq_a = keras.Input((None, 3), name="seq_a")
    seq_b = keras.Input((None, 2), name="seq_b")
    h_a = layers.LSTM(4)(seq_a)
    h_b = layers.GRU(3)(seq_b)
    out_a = layers.Dense(2, name=output_names[0])(h_a)
    out_b = layers.Dense(1, name=output_names[1])(h_b)
    return keras.Model(inputs=[seq_a, seq_b], outputs=[out_a, out_b])


def multi_dict_io_model():
    seq_a = keras.Input((None, 3), name="seq_a")
    seq_b = keras.Input((None, 2), name="seq_b")
    out_a = layers.Dense(2)(layers.LSTM(4)(seq_a))
    out_b = layers.Dense(1)(layers.GRU(3)(seq_b))
    return keras.Model(inputs={"seq_a": seq_a, "seq_b": seq_b},
                       outputs={"first": out_a, "second": out_b})


def shared_model():
    left = keras.Input((None, 3), name="left")
    right = keras.Input((None, 3), name="right")
    lstm = layers.LSTM(4)
    dense = layers.Dense(2)
    out_left = dense(lstm(left))
    out_right = dense(lstm(right))
    return keras.Model([left, right], [out_left, out_right], name="siamese")


def nested_sequential_model():
    encoder = keras.Sequential([keras.Input((None, 3)), layers.LSTM(4, return_sequences=True),
                                layers.GRU(3)], name="encoder")
    inputs = keras.Input((None, 3), name="series")
    outputs = layers.Dense(2, name="head")(encoder(inputs))
    return keras.Model(inputs, outputs, name="outer")


def nested_functional_model():
    inner_in = keras.Input((None, 2))
    inner_out = layers.Dense(3, activation="tanh")(layers.SimpleRNN(4)(inner_in))
    inner = keras.Model(inner_in, inner_out, name="inner")
    outer_in = keras.Input((None, 2))
    outputs = layers.Dense(1)(inner(outer_in))
    return keras.Model(outer_in, outputs, name="outer_functional")


NUM_ENCODER_TOKENS, NUM_DECODER_TOKENS, LATENT_DIM = 5, 6, 4


def seq2seq_model():
    """The training model of keras.io/examples/nlp/lstm_seq2seq."""
    num_encoder_tokens, num_decoder_tokens, latent_dim = (NUM_ENCODER_TOKENS, NUM_DECODER_TOKENS,
                                                          LATENT_DIM)
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)


class Affine(keras.layers.Layer):
    """y = x * gamma + beta, per feature (build / add_weight / call without training)."""

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="beta")

    def call(self, inputs):
        return inputs * self.gamma + self.beta


class SequenceClassifier(keras.Model):
    def __init__(self, vocab=8, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(vocab, 4, mask_zero=True)
        self.lstm = layers.LSTM(5)
        self.affine = Affine()
        self.dense = layers.Dense(classes, activation="softmax")

    def call(self, inputs, training=None, mask=None):
        x = self.embedding(inputs)
        x = self.lstm(x, mask=self.embedding.compute_mask(inputs), training=training)
        x = self.affine(x)
        return self.dense(x)


class ImplicitMaskClassifier(SequenceClassifier):
    """The same, the mask left to the framework's own propagation."""

    def call(self, inputs, training=None, mask=None):
        return self.dense(self.affine(self.lstm(self.embedding(inputs), training=training)))


SUBCLASS_BUILD_ROW = np.array([[1, 2, 3, 0, 0]], np.float32)


def subclass_model():
    model = SequenceClassifier(name="sequence_classifier")
    model(SUBCLASS_BUILD_ROW)
    return model


def nested_model(case):
    return {"nested_sequential": nested_sequential_model,
            "nested_functional": nested_functional_model}[case]()


BUILDERS = {
    "chain": chain_model,
    "chain_misc": chain_misc_model,
    "state_outputs": state_outputs_model,
    "multi_list": multi_model,
    "multi_dict": lambda: multi_model(("score", "level")),
    "multi_dict_io": multi_dict_io_model,
    "shared": shared_model,
    "nested_sequential": nested_sequential_model,
    "nested_functional": nested_functional_model,
    "seq2seq": seq2seq_model,
    "subclass": subclass_model,
}
GRAPH_CASES = sorted(set(BUILDERS) - {"subclass"})
MASKED_CASES = {"chain_misc"}  # graphs with a Masking layer


def with_keras_weights(case):
    model = BUILDERS[case]()
    model.set_weights(GOLDEN.all(f"{case}/w"))
    return model


def case_inputs(case, tag="x"):
    """The case's inputs (or targets, tag="y"), as the script passed them to predict / fit."""
    arrays = GOLDEN.all(f"{case}/{tag}")
    if case in ("multi_dict", "multi_dict_io") and tag in ("x", "val_x"):
        return dict(zip(["seq_a", "seq_b"], arrays))
    if case == "multi_dict" and tag in ("y", "val_y"):
        return dict(zip(["score", "level"], arrays))
    if case == "multi_dict_io" and tag in ("y", "val_y"):
        return dict(zip(["first", "second"], arrays))
    return one_or_list(arrays)


# -- names, weights, configs, summaries ------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(BUILDERS))
def test_names_and_weights_match_keras(case):
    meta = CASES[case]
    model = BUILDERS[case]()
    assert model.name == meta["name"]
    assert [layer.name for layer in model.layers] == meta["layer_names"]
    assert [type(layer).__name__ for layer in model.layers] == meta["layer_classes"]
    assert [layer.count_params() for layer in model.layers] == meta["layer_params"]
    assert model.count_params() == meta["total_params"]
    assert [list(w.shape) for w in model.get_weights()] == meta["weight_shapes"]
    if case in GRAPH_CASES:
        assert list(model.output_names) == meta["output_names"]
        assert [list(t.shape) for t in model.inputs] == meta["input_shapes"]
        assert [list(t.shape) for t in model.outputs] == meta["output_shapes"]


@pytest.mark.parametrize("case", GRAPH_CASES)
def test_get_config_names_the_graph_as_keras_does(case):
    ours, theirs = BUILDERS[case]().get_config(), CASES[case]["config"]
    assert ours["name"] == theirs["name"]
    # Keras adds the ops of a Masking layer's mask (NotEqual, Any) as nodes; rnnkit does not
    theirs_layers = [l for l in theirs["layers"] if not l["module"].startswith("keras.src.ops")]
    assert [layer["name"] for layer in ours["layers"]] == [l["name"] for l in theirs_layers]
    assert ([layer["class_name"] for layer in ours["layers"]]
            == [l["class_name"] for l in theirs_layers])
    assert json.loads(json.dumps(ours["input_layers"])) == theirs["input_layers"]
    assert json.loads(json.dumps(ours["output_layers"])) == theirs["output_layers"]


@pytest.mark.parametrize("case", GRAPH_CASES)
def test_model_from_keras_config_predicts_as_keras(case):
    model = keras.Model.from_config(CASES[case]["config"])
    assert [layer.name for layer in model.layers] == CASES[case]["layer_names"]
    model.set_weights(GOLDEN.all(f"{case}/w"))
    predicted = outputs_list(model.predict(case_inputs(case), verbose=0))
    for ours, theirs in zip(predicted, GOLDEN.all(f"{case}/predict"), strict=True):
        assert_close(ours, theirs)


@pytest.mark.parametrize("variant", ["120", "80", "line_length_120"])
@pytest.mark.parametrize("case", sorted(BUILDERS))
def test_summary_text_matches_keras(case, variant, monkeypatch, capsys):
    """Linear graphs print as Sequential does (3 columns, 88 wide); branches, several inputs,
    shared layers and Masking's mask ops add "Connected to" (108 wide)."""
    model = with_keras_weights(case)
    kwargs = {"line_length": 120} if variant == "line_length_120" else {}
    columns = "120" if variant == "line_length_120" else variant
    ours, theirs = summary_of(model, monkeypatch, capsys, columns, **kwargs), \
        CASES[case]["summary"][variant]
    if case in MASKED_CASES:  # Keras's mask-op rows aside, rnnkit prints the chain as a chain
        assert keras_table_rows(ours) == keras_table_rows(theirs)
        assert "Connected to" in theirs and "Connected to" not in ours
        assert ours.splitlines()[-3:] == theirs.splitlines()[-3:]  # the parameter counts
    else:
        assert ours == theirs


@pytest.mark.parametrize("case", ["nested_sequential", "nested_functional"])
def test_nested_summary_and_expand_nested(case, monkeypatch, capsys):
    model = nested_model(case)
    for columns in ("120", "80"):
        assert (summary_of(model, monkeypatch, capsys, columns, expand_nested=True)
                == CASES[case]["summary_expand_nested"][columns])
    inner = model.layers[1]
    assert summary_of(inner, monkeypatch, capsys, "120") == CASES[case]["inner"]["summary"]["120"]
    assert [layer.name for layer in inner.layers] == CASES[case]["inner"]["layer_names"]


def test_subclassed_summary_before_and_after_build(monkeypatch, capsys):
    meta = CASES["subclass"]
    model = SequenceClassifier(name="sequence_classifier")
    assert summary_of(model, monkeypatch, capsys, "120") == meta["summary_unbuilt"]["120"]
    model(SUBCLASS_BUILD_ROW)
    assert summary_of(model, monkeypatch, capsys, "120") == meta["summary"]["120"]


# -- predictions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(BUILDERS))
def test_predictions_match_keras(case):
    meta = CASES[case]
    model = with_keras_weights(case)
    result = model.predict(case_inputs(case), verbose=0)
    assert type(result).__name__ == meta["predict_type"]
    if meta["predict_keys"] is not None:
        assert list(result) == meta["predict_keys"]
    predicted = outputs_list(result)
    assert [list(p.shape) for p in predicted] == meta["predict_shapes"]
    for ours, theirs in zip(predicted, GOLDEN.all(f"{case}/predict"), strict=True):
        assert_close(ours, theirs)


def test_multi_input_model_takes_lists_and_dicts_alike():
    model = with_keras_weights("multi_dict")
    x = GOLDEN.all("multi_dict/x")
    as_list = model.predict(x, verbose=0)
    as_dict = model.predict({"seq_b": x[1], "seq_a": x[0]}, verbose=0)
    for a, b, theirs in zip(as_list, as_dict, GOLDEN.all("multi_dict/predict"), strict=True):
        assert_close(a, theirs)
        assert_close(b, theirs)


def test_called_model_returns_what_predict_returns():
    model = with_keras_weights("shared")
    x = [torch.from_numpy(a) for a in GOLDEN.all("shared/x")]
    out = model(x)
    assert isinstance(out, list) and len(out) == 2
    for ours, theirs in zip(out, GOLDEN.all("shared/predict"), strict=True):
        assert_close(ours, theirs)


@pytest.mark.parametrize("case", ["nested_sequential", "nested_functional"])
def test_inner_model_alone_predicts_as_keras(case):
    model = with_keras_weights(case)
    inner = model.layers[1]
    assert_close(inner.predict(GOLDEN[f"{case}/x0"], verbose=0), GOLDEN[f"{case}/inner_predict0"])


def test_subclassed_model_without_explicit_mask():
    model = ImplicitMaskClassifier(name="implicit_mask_classifier")
    model(SUBCLASS_BUILD_ROW)
    model.set_weights(GOLDEN.all("subclass/w"))
    assert CASES["subclass"]["implicit_mask_same_as_explicit"]
    assert_close(model.predict(GOLDEN["subclass/x0"], verbose=0),
                 GOLDEN["subclass/implicit_predict0"])


# -- fit, evaluate ---------------------------------------------------------------------------------

SGD, Adam = keras.optimizers.SGD, keras.optimizers.Adam

# (case, run) -> compile arguments, as the script passes them
COMPILE = {
    ("chain", "sgd"): lambda: dict(optimizer=SGD(learning_rate=0.1), loss="mse", metrics=["mae"]),
    ("chain", "adam"): lambda: dict(optimizer=Adam(learning_rate=0.01),
                                    loss="mean_absolute_error", metrics=["mse", "mae"]),
    ("multi_list", "lists"): lambda: dict(optimizer=SGD(learning_rate=0.05), loss=["mse", "mae"],
                                          loss_weights=[1.0, 0.5],
                                          metrics=[["mae"], ["mse", "mae"]]),
    ("multi_list", "shared_loss"): lambda: dict(optimizer=SGD(learning_rate=0.05), loss="mse"),
    ("multi_dict", "dicts"): lambda: dict(optimizer=Adam(learning_rate=0.01),
                                          loss={"score": "mse", "level": "mae"},
                                          loss_weights={"score": 0.3, "level": 2.0},
                                          metrics={"score": ["mae"], "level": ["mse"]}),
    ("multi_dict", "dicts_list_data"): lambda: COMPILE["multi_dict", "dicts"](),
    ("multi_dict_io", "dicts"): lambda: dict(optimizer=SGD(learning_rate=0.05),
                                             loss={"first": "mse", "second": "mse"},
                                             metrics={"second": ["mae"]}),
    ("shared", "sgd"): lambda: dict(optimizer=SGD(learning_rate=0.1), loss=["mse", "mse"],
                                    metrics=[["mae"], ["mae"]]),
    ("nested_sequential", "sgd"): lambda: dict(optimizer=SGD(learning_rate=0.1), loss="mse",
                                               metrics=["mae"]),
    ("nested_functional", "sgd"): lambda: dict(optimizer=SGD(learning_rate=0.1), loss="mse",
                                               metrics=["mae"]),
    ("seq2seq", "adam"): lambda: dict(optimizer=Adam(learning_rate=0.05),
                                      loss="categorical_crossentropy", metrics=["accuracy"]),
    ("subclass", "adam"): lambda: dict(optimizer=Adam(learning_rate=0.01),
                                       loss="sparse_categorical_crossentropy",
                                       metrics=["accuracy"]),
}


def fit_data(case, run):
    """x, y, validation_data as the script gave them (dicts_list_data: lists for a dict compile)."""
    if run == "dicts_list_data":
        return (GOLDEN.all(f"{case}/x"), GOLDEN.all(f"{case}/y"),
                (GOLDEN.all(f"{case}/val_x"), GOLDEN.all(f"{case}/val_y")))
    return (case_inputs(case, "x"), case_inputs(case, "y"),
            (case_inputs(case, "val_x"), case_inputs(case, "val_y")))


def fitted(case, run):
    meta = CASES[case]["fits"][run]
    model = with_keras_weights(case)
    model.compile(**COMPILE[case, run]())
    x, y, val = fit_data(case, run)
    kwargs = meta["fit_kwargs"]
    history = model.fit(x, y, validation_data=val, epochs=kwargs["epochs"],
                        batch_size=kwargs["batch_size"], shuffle=False, verbose=0)
    return model, history, meta, x, y


def assert_close_values(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=TRAINED_TOL, atol=TRAINED_TOL, err_msg=what)


@pytest.mark.parametrize("case, run", sorted(COMPILE))
def test_fit_history_weights_and_evaluate_match_keras(case, run):
    """History keys are Keras's exactly: <output>_loss per output, <output>_<metric> per output
    metric (a repeated output name numbers its metrics: dense_mae, dense_mae_1), val_ for each."""
    model, history, meta, x, y = fitted(case, run)
    assert list(history.history) == meta["history_keys"]
    for key, values in meta["history"].items():
        assert_close_values(history.history[key], values, key)
    assert history.params["epochs"] == meta["params"]["epochs"]
    assert history.params["steps"] == meta["params"]["steps"]
    assert list(model.metrics_names) == meta["metrics_names"]
    for i, (ours, theirs) in enumerate(zip(model.get_weights(),
                                           GOLDEN.all(f"{case}/{run}/w_fit"), strict=True)):
        assert_close_values(ours, theirs, f"weight {i}")
    batch_size = meta["evaluate_kwargs"]["batch_size"]
    assert_close_values(model.evaluate(x, y, batch_size=batch_size, verbose=0),
                        meta["evaluate_list"], "evaluate")
    as_dict = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    assert list(as_dict) == list(meta["evaluate_dict"])
    for key, value in meta["evaluate_dict"].items():
        assert_close_values(as_dict[key], value, key)
    predicted = outputs_list(model.predict(x, verbose=0, batch_size=batch_size))
    for ours, theirs in zip(predicted, GOLDEN.all(f"{case}/{run}/predict"), strict=True):
        assert_close_values(ours, theirs, "predict after fit")


def test_one_metric_list_for_two_outputs_is_refused_as_keras_does():
    expected = GOLDEN.meta["errors"]["one_metric_list_for_two_outputs"]
    assert expected["type"] == "ValueError"
    model = multi_model()
    x, y = GOLDEN.all("multi_list/x"), GOLDEN.all("multi_list/y")
    with pytest.raises(ValueError, match="metrics"):
        model.compile(optimizer=SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
        model.fit(x, y, epochs=1, batch_size=2, verbose=0)


# -- seq2seq inference (keras.io lstm_seq2seq) -----------------------------------------------------


def inference_models(model):
    """The example's encoder and decoder models, from a trained model's layers."""
    latent_dim = LATENT_DIM
    encoder_inputs = model.input[0]
    encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output
    encoder_states = [state_h_enc, state_c_enc]
    encoder_model = keras.Model(encoder_inputs, encoder_states)

    decoder_inputs = model.input[1]
    decoder_state_input_h = keras.Input(shape=(latent_dim,))
    decoder_state_input_c = keras.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
        decoder_inputs, initial_state=decoder_states_inputs)
    decoder_states = [state_h_dec, state_c_dec]
    decoder_dense = model.layers[4]
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs,
                                [decoder_outputs] + decoder_states)
    return encoder_model, decoder_model


@pytest.fixture
def trained_seq2seq():
    """The training model with the weights Keras's fit reached (so that this test does not depend
    on the fit matching to the last bit)."""
    model = seq2seq_model()
    model.compile(**COMPILE["seq2seq", "adam"]())
    model.set_weights(GOLDEN.all("seq2seq/adam/w_fit"))
    return model


def test_seq2seq_inference_models_match_keras(trained_seq2seq, monkeypatch, capsys):
    meta = CASES["seq2seq"]
    encoder_model, decoder_model = inference_models(trained_seq2seq)
    for model, key in ((encoder_model, "encoder_model"), (decoder_model, "decoder_model")):
        assert model.name == meta[key]["name"]
        assert [layer.name for layer in model.layers] == meta[key]["layer_names"]
        assert summary_of(model, monkeypatch, capsys, "120") == meta[key]["summary"]["120"]
    enc_x, dec_x = GOLDEN.all("seq2seq/x")
    states = encoder_model.predict(enc_x, verbose=0)
    for ours, theirs in zip(states, GOLDEN.all("seq2seq/encoder/state"), strict=True):
        assert_close(ours, theirs)
    outputs = decoder_model.predict([dec_x] + list(states), verbose=0)
    for ours, theirs in zip(outputs, GOLDEN.all("seq2seq/decoder/out"), strict=True):
        assert_close(ours, theirs)


def test_seq2seq_greedy_decode_matches_keras(trained_seq2seq):
    greedy = CASES["seq2seq"]["greedy"]
    encoder_model, decoder_model = inference_models(trained_seq2seq)
    states_value = encoder_model.predict(GOLDEN["seq2seq/x0"][:1], verbose=0)
    target_seq = np.zeros((1, 1, NUM_DECODER_TOKENS), dtype=np.float32)
    target_seq[0, 0, greedy["start"]] = 1.0
    decoded, probs = [], []
    while True:
        output_tokens, h, c = decoder_model.predict([target_seq] + list(states_value), verbose=0)
        sampled_token_index = int(np.argmax(output_tokens[0, -1, :]))
        probs.append(output_tokens[0, -1, :])
        decoded.append(sampled_token_index)
        if sampled_token_index == greedy["end"] or len(decoded) >= greedy["max_decoder_seq_length"]:
            break
        target_seq = np.zeros((1, 1, NUM_DECODER_TOKENS), dtype=np.float32)
        target_seq[0, 0, sampled_token_index] = 1.0
        states_value = [h, c]
    assert decoded == greedy["decoded"]
    assert_close(np.stack(probs), GOLDEN["seq2seq/greedy/probs"])


# -- Keras's errors --------------------------------------------------------------------------------

ERRORS = GOLDEN.meta["errors"]


def test_layer_on_input_of_the_wrong_rank():
    assert ERRORS["wrong_rank"]["type"] == "ValueError"
    with pytest.raises(ValueError) as info:
        layers.LSTM(3)(keras.Input((5,)))
    message = str(info.value)
    assert "lstm" in message and "(None, 5)" in message


def test_recurrent_layer_after_dense_on_2d_input():
    assert ERRORS["wrong_rank_after_dense"]["type"] == "ValueError"
    with pytest.raises(ValueError) as info:
        layers.GRU(2)(layers.Dense(4)(keras.Input((5,))))
    assert "gru" in str(info.value) and "(None, 4)" in str(info.value)


def test_predict_with_the_wrong_number_of_features():
    with pytest.raises((ValueError, TypeError)) as info:
        chain_model().predict(np.zeros((2, 5, 4), np.float32), verbose=0)
    assert "4" in str(info.value) and "3" in str(info.value)


def unknown_layer_config():
    config = json.loads(json.dumps(CASES["chain"]["config"]))
    config["layers"][1]["class_name"] = "LSTM9"
    return config


def test_unknown_layer_class_in_from_config():
    assert ERRORS["unknown_layer_from_config"]["type"] == "ValueError"
    assert "LSTM9" in ERRORS["unknown_layer_from_config"]["message"]
    with pytest.raises((ValueError, TypeError), match="LSTM9"):
        keras.Model.from_config(unknown_layer_config())


def test_unknown_layer_class_in_deserialize():
    assert ERRORS["unknown_layer_deserialize"]["type"] == "TypeError"
    with pytest.raises((TypeError, ValueError), match="LSTM9"):
        keras.layers.deserialize({"class_name": "LSTM9", "config": {"units": 3}})


def test_unknown_layer_class_in_a_keras_file():
    assert ERRORS["unknown_layer_load"]["type"] == "ValueError"
    with pytest.raises(ValueError, match="LSTM9"):
        load_keras(FILES / "unknown_layer.keras")
    with pytest.raises(ValueError, match="LSTM9"):
        keras.saving.load_model(FILES / "unknown_layer.keras")


def test_outputs_not_connected_to_the_inputs():
    assert ERRORS["disconnected"]["type"] == "ValueError"
    first = keras.Input((None, 3), name="first")
    second = keras.Input((None, 3), name="second")
    with pytest.raises(ValueError, match="(?i)connected"):
        keras.Model(inputs=first, outputs=layers.Dense(1)(layers.LSTM(2)(second)))


def test_initial_state_from_an_input_the_model_does_not_take():
    assert ERRORS["disconnected_initial_state"]["type"] == "ValueError"
    first = keras.Input((None, 3), name="first")
    second = keras.Input((None, 2), name="second")
    joined = layers.LSTM(2)(first, initial_state=[layers.Dense(2)(layers.GRU(2)(second)),
                                                  layers.Dense(2)(layers.GRU(2)(second))])
    with pytest.raises(ValueError, match="(?i)connected"):
        keras.Model(inputs=first, outputs=joined)


def test_one_array_for_a_model_with_two_inputs():
    assert ERRORS["one_array_for_two_inputs"]["type"] == "ValueError"
    with pytest.raises(ValueError):
        multi_model().predict(np.zeros((2, 5, 3), np.float32), verbose=0)


# -- Keras-saved files -----------------------------------------------------------------------------

SAVED = sorted((stem, name) for stem, entry in GOLDEN.meta["files"].items()
               if stem != "unknown_layer" for name in entry["files"])


@pytest.mark.parametrize("stem, name", SAVED)
def test_keras_file_loads_and_predicts_as_keras(stem, name):
    entry = GOLDEN.meta["files"][stem]
    model = load_keras(FILES / name)
    assert model.name == entry["name"]
    assert [layer.name for layer in model.layers] == entry["layer_names"]
    x = one_or_list(GOLDEN.all(f"files/{stem}/x"))
    predicted = outputs_list(model.predict(x, verbose=0))
    for ours, theirs in zip(predicted, GOLDEN.all(f"files/{stem}/y"), strict=True):
        assert_close(ours, theirs)


@pytest.mark.parametrize("stem", sorted({stem for stem, _ in SAVED}))
def test_keras_saving_load_model_reads_keras_files(stem):
    model = keras.saving.load_model(FILES / f"{stem}.keras")
    x = one_or_list(GOLDEN.all(f"files/{stem}/x"))
    predicted = outputs_list(model.predict(x, verbose=0))
    for ours, theirs in zip(predicted, GOLDEN.all(f"files/{stem}/y"), strict=True):
        assert_close(ours, theirs)


def test_compiled_keras_files_bring_their_compile_config():
    for stem in ("chain", "seq2seq"):
        assert GOLDEN.meta["files"][stem]["compiled"]
        assert load_keras(FILES / f"{stem}.keras", compile=True).compiled
