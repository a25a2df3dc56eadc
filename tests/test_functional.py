"""The Functional API against the same layers called by hand: graphs of several inputs and
outputs, shared layers, nested models, masks, the seq2seq pattern, configs and files."""

import numpy as np
import pytest
import torch

import rnnkit as keras
from rnnkit import layers
from rnnkit.layers import GRU, LSTM, Dense, Dropout, Embedding, Input
from rnnkit.layers.symbolic import KerasTensor
from rnnkit.models import Model, Sequential, load_model


def test_input_is_symbolic_and_layers_give_symbolic_outputs():
    x = Input((None, 3), name="series")
    assert isinstance(x, KerasTensor) and x.shape == (None, None, 3) and x.name == "series"
    lstm = LSTM(4, return_sequences=True, return_state=True)
    out, h, c = lstm(x)
    assert lstm.built and lstm.kernel.shape == (3, 16)
    assert [t.shape for t in (out, h, c)] == [(None, None, 4), (None, 4), (None, 4)]
    assert out._keras_history == (lstm, 0, 0) and c._keras_history == (lstm, 0, 2)
    with pytest.raises(AttributeError, match="records only layer calls"):
        x.sum()
    for operation in (lambda: x + 1, lambda: 2 * x, lambda: x[:, -1], lambda: -x):
        with pytest.raises(TypeError, match="records only layer calls.*Layer subclass"):
            operation()


def test_a_layer_of_unknown_output_shape_is_traced():
    class Last(layers.Layer):
        def call(self, x):  # no training or mask argument: rnnkit passes neither
            return x[:, -1] * 2

    x = Input((None, 5))
    y = Last()(x)
    assert y.shape == (None, 5)
    model = Model(x, y)
    data = torch.randn(2, 4, 5)
    torch.testing.assert_close(model(data), data[:, -1] * 2)


def _two_in_two_out():
    a, b = Input((None, 3), name="a"), Input((None, 2), name="b")
    shared = Dense(4, name="shared")
    ya = Dense(2, name="out_a")(LSTM(4, name="lstm_a")(shared(a)))
    yb = Dense(1, name="out_b")(GRU(3, name="gru_b")(Dense(3, name="proj")(b)))
    return Model([a, b], [ya, yb], name="two"), shared


def test_graph_equals_its_layers_called_by_hand():
    model, _ = _two_in_two_out()
    xa, xb = torch.randn(5, 6, 3), torch.randn(5, 4, 2)
    ya, yb = model([xa, xb])
    g = model.get_layer
    torch.testing.assert_close(ya, g("out_a")(g("lstm_a")(g("shared")(xa))))
    torch.testing.assert_close(yb, g("out_b")(g("gru_b")(g("proj")(xb))))
    by_name = model({"a": xa, "b": xb})
    torch.testing.assert_close(by_name[0], ya)
    assert [layer.name for layer in model.layers] == ["a", "b", "shared", "proj", "lstm_a",
                                                      "gru_b", "out_a", "out_b"]
    assert model.output_names == ["out_a", "out_b"] and model.input_names == ["a", "b"]


def test_shared_layer_has_one_set_of_weights_and_gradients_from_both_calls():
    x1, x2 = Input((None, 2)), Input((None, 2))
    lstm = LSTM(3)
    model = Model([x1, x2], [lstm(x1), lstm(x2)])
    assert sum(layer is lstm for layer in model.layers) == 1
    assert model.count_params() == lstm.count_params()
    a, b = torch.randn(2, 5, 2), torch.randn(2, 3, 2)
    out = model([a, b])
    torch.testing.assert_close(out[1], lstm(b))
    sum(o.sum() for o in out).backward()
    grad = lstm.kernel.grad.clone()
    lstm.zero_grad()
    (lstm(a).sum() + lstm(b).sum()).backward()
    torch.testing.assert_close(grad, lstm.kernel.grad)


def test_nested_sequential_and_functional_models_as_layers():
    inner = Sequential([LSTM(4, return_sequences=True), GRU(2)], name="inner")
    x = Input((None, 3))
    middle = Model(x, Dense(2)(inner(x)), name="middle")
    y = Input((None, 3))
    outer = Model(y, Dense(1, name="head")(middle(y)))
    data = torch.randn(3, 5, 3)
    expected = outer.get_layer("head")(middle.layers[-1](inner(data)))
    torch.testing.assert_close(outer(data), expected)
    assert outer.count_params() == middle.count_params() + 3
    assert len(outer.get_weights()) == len(middle.get_weights()) + 2


def _seq2seq(tokens=5, latent=6):
    encoder_inputs = Input((None, tokens))
    _, h, c = LSTM(latent, return_state=True)(encoder_inputs)
    decoder_inputs = Input((None, tokens))
    decoder_lstm = LSTM(latent, return_sequences=True, return_state=True)
    decoder_dense = Dense(tokens, activation="softmax")
    out, _, _ = decoder_lstm(decoder_inputs, initial_state=[h, c])
    model = Model([encoder_inputs, decoder_inputs], decoder_dense(out))
    encoder = Model(encoder_inputs, [h, c])
    h_in, c_in = Input((latent,)), Input((latent,))
    out, h2, c2 = decoder_lstm(decoder_inputs, initial_state=[h_in, c_in])
    decoder = Model([decoder_inputs, h_in, c_in], [decoder_dense(out), h2, c2])
    return model, encoder, decoder


def test_seq2seq_inference_models_step_as_the_training_model_runs():
    torch.manual_seed(0)
    model, encoder, decoder = _seq2seq()
    x = torch.randn(2, 7, 5)
    target = torch.nn.functional.one_hot(torch.randint(0, 5, (2, 4)), 5).float()
    teacher = model([x, target])
    states = encoder(x)
    for t in range(target.shape[1]):  # one step at a time, carrying the decoder's states
        probs, *states = decoder([target[:, t:t + 1], *states])
        torch.testing.assert_close(probs[:, 0], teacher[:, t])
    model.compile("adam", "categorical_crossentropy")
    before = model.evaluate([x, target], target, verbose=0)
    model.fit([x.numpy(), target.numpy()], target.numpy(), epochs=5, verbose=0)
    assert model.evaluate([x, target], target, verbose=0) < before
    torch.testing.assert_close(encoder(x)[0], model.layers[2](x)[1])  # trained weights shared


def test_masks_flow_through_the_graph_as_through_sequential():
    ids = torch.tensor([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2]])
    x = Input((None,), dtype="int32")
    emb, lstm, dense = Embedding(10, 4, mask_zero=True), LSTM(3), Dense(1)
    model = Model(x, dense(lstm(emb(x))))
    seq = Sequential([Embedding(10, 4, mask_zero=True), LSTM(3), Dense(1)])
    seq(ids)
    seq.set_weights(model.get_weights())
    torch.testing.assert_close(model(ids), seq(ids))
    torch.testing.assert_close(model(ids)[0], model(ids[:1, :3])[0])  # padding changes nothing


def test_training_flag_reaches_dropout_in_fit_and_not_in_predict():
    x = Input((4,))
    model = Model(x, Dropout(0.5)(x))
    data = np.ones((64, 4), "float32")
    np.testing.assert_array_equal(model.predict(data, verbose=0), data)
    out = model(torch.ones(64, 4), training=True)
    assert (out == 0).any() and (out == 2).any()


def test_config_round_trip_and_files(tmp_path):
    model, _ = _two_in_two_out()
    clone = Model.from_config(model.get_config())
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    clone.set_weights(model.get_weights())
    xa, xb = np.random.randn(4, 5, 3).astype("f"), np.random.randn(4, 3, 2).astype("f")
    for a, b in zip(clone.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0)):
        np.testing.assert_array_equal(a, b)
    model.compile("adam", ["mse", "mae"], loss_weights=[1.0, 0.5], metrics=[["mae"], []])
    model.fit([xa, xb], [np.zeros((4, 2), "f"), np.ones((4, 1), "f")], epochs=1, verbose=0)
    model.save(tmp_path / "two.rnnkit")
    loaded = load_model(tmp_path / "two.rnnkit")
    assert loaded.loss_weights == [1.0, 0.5]
    for a, b in zip(loaded.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0)):
        np.testing.assert_array_equal(a, b)
    model.save_weights(tmp_path / "two.weights.safetensors")
    clone.load_weights(tmp_path / "two.weights.safetensors")
    for a, b in zip(clone.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0)):
        np.testing.assert_array_equal(a, b)


def test_several_outputs_train_on_the_weighted_sum_of_their_losses():
    model, _ = _two_in_two_out()
    model.compile("sgd", {"out_a": "mse", "out_b": "mae"}, loss_weights={"out_a": 2.0,
                                                                          "out_b": 0.5},
                  metrics={"out_b": ["mse"]})
    xa, xb = torch.randn(8, 5, 3), torch.randn(8, 3, 2)
    ya, yb = torch.randn(8, 2), torch.randn(8, 1)
    logs = model.evaluate({"a": xa, "b": xb}, {"out_a": ya, "out_b": yb}, verbose=0,
                          return_dict=True)
    with torch.no_grad():
        pa, pb = model([xa, xb])
    mse_a, mae_b = float(((pa - ya) ** 2).mean()), float((pb - yb).abs().mean())
    assert logs == pytest.approx({"loss": 2.0 * mse_a + 0.5 * mae_b, "out_a_loss": mse_a,
                                  "out_b_loss": mae_b,
                                  "out_b_mse": float(((pb - yb) ** 2).mean())}, rel=1e-5)
    assert model.evaluate([xa, xb], [ya, yb], verbose=0) == pytest.approx(
        [logs["loss"], logs["out_a_loss"], logs["out_b_loss"], logs["out_b_mse"]], rel=1e-6)
    assert model.test_on_batch([xa, xb], [ya, yb]) == pytest.approx(
        [logs["loss"], logs["out_a_loss"], logs["out_b_loss"], logs["out_b_mse"]], rel=1e-6)
    pa_batch, pb_batch = model.predict_on_batch({"a": xa, "b": xb})
    np.testing.assert_allclose(pa_batch, pa.numpy(), rtol=1e-6)
    before = model.get_layer("out_b").kernel.detach().clone()
    assert model.train_on_batch([xa, xb], [ya, yb], return_dict=True)["loss"] == pytest.approx(
        logs["loss"], rel=1e-6)  # the loss before the step
    assert not torch.equal(before, model.get_layer("out_b").kernel)
    history = model.fit([xa, xb], [ya, yb], epochs=2, batch_size=4, verbose=0,
                        validation_data=([xa, xb], [ya, yb]))
    assert sorted(history.history) == sorted(
        ["loss", "out_a_loss", "out_b_loss", "out_b_mse", "val_loss", "val_out_a_loss",
         "val_out_b_loss", "val_out_b_mse"])


class Scale(layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w


class Tagger(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = Embedding(10, 4, mask_zero=True)
        self.lstm = LSTM(3)
        self.scale = Scale()
        self.head = Dense(1)

    def call(self, inputs, training=None, mask=None):
        return self.head(self.scale(self.lstm(self.embedding(inputs))))


def test_subclassed_model_equals_the_same_layers_in_sequence(tmp_path):
    ids = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2]] * 4)
    model = Tagger()
    model.compile("adam", "mse")
    model.fit(ids, np.ones((8, 1), "f"), epochs=2, batch_size=4, verbose=0)
    assert [layer.name for layer in model.layers] == ["embedding", "lstm", "scale", "dense"]
    assert model.weight_names == ["embedding/embeddings", "lstm/kernel", "lstm/recurrent_kernel",
                                  "lstm/bias", "scale/w", "dense/kernel", "dense/bias"]
    seq = Sequential([Embedding(10, 4, mask_zero=True), LSTM(3), Scale(), Dense(1)])
    seq(torch.as_tensor(ids))
    seq.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(ids, verbose=0), seq.predict(ids, verbose=0),
                               rtol=1e-6, atol=1e-6)
    model.save_weights(tmp_path / "t.safetensors")
    again = Tagger()
    again(ids[:1])
    again.load_weights(tmp_path / "t.safetensors")
    np.testing.assert_array_equal(again.predict(ids, verbose=0), model.predict(ids, verbose=0))


def test_graph_errors_name_the_problem():
    a, b = Input((None, 3), name="a"), Input((None, 3), name="b")
    lstm = LSTM(2)
    both = Dense(1)(lstm(b))
    with pytest.raises(ValueError, match="graph disconnected.*'lstm"):
        Model(a, both)
    with pytest.raises(ValueError, match="must be a symbolic tensor"):
        Model(a, torch.zeros(1))
    model = Model(a, Dense(1)(LSTM(2)(a)))
    with pytest.raises(ValueError, match=r"input 'a' expected shape \(None, None, 3\), got a "
                                         r"tensor of shape \(2, 4\)"):
        model(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="expected input of shape"):
        LSTM(2)(Input((3,)))
    with pytest.raises(ValueError, match="unknown layer class 'Nope'"):
        Model.from_config({"name": "m", "layers": [{"class_name": "Nope", "config": {},
                                                    "name": "n", "inbound_nodes": []}],
                           "input_layers": [["n", 0, 0]], "output_layers": [["n", 0, 0]]})


def test_user_classes_load_through_custom_objects_or_the_registry(tmp_path):
    x = Input((None, 3))
    model = Model(x, Scale(name="scale")(Dense(2)(LSTM(4)(x))))
    data = np.random.randn(2, 5, 3).astype("f")
    model.save(tmp_path / "graph.rnnkit")
    with pytest.raises(ValueError, match="unknown layer class 'Scale'"):
        load_model(tmp_path / "graph.rnnkit")
    loaded = load_model(tmp_path / "graph.rnnkit", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))

    tagger = Tagger(name="tagger")
    ids = np.array([[3, 1, 4, 0, 0]])
    tagger(ids)
    tagger.save(tmp_path / "tagger.rnnkit")
    with pytest.raises(ValueError, match="unknown model class 'Tagger'.*custom_objects"):
        load_model(tmp_path / "tagger.rnnkit")
    registry = keras.saving.get_custom_objects()
    try:
        keras.saving.register_keras_serializable()(Tagger)
        again = load_model(tmp_path / "tagger.rnnkit")
    finally:
        registry.pop("Tagger"), registry.pop("Custom>Tagger")
    assert isinstance(again, Tagger) and again.name == "tagger"
    np.testing.assert_array_equal(again.predict(ids, verbose=0), tagger.predict(ids, verbose=0))


def _shared_graph():
    x1, x2 = Input((None, 2), name="x1"), Input((None, 2), name="x2")
    lstm, head = LSTM(3), Dense(1)
    return Model([x1, x2], [head(lstm(x1)), head(lstm(x2))])


def _nested_graph():
    inner = Sequential([GRU(3, return_sequences=True), LSTM(2)])
    x = Input((None, 2))
    middle = Model(x, Dense(2)(inner(x)))
    y = Input((None, 2))
    return Model(y, Dense(1)(middle(y)))


@pytest.mark.parametrize("make", [_shared_graph, _nested_graph, lambda: _seq2seq(2, 3)[0]],
                         ids=["shared", "nested", "seq2seq"])
def test_every_kind_of_graph_round_trips_through_config_and_files(make, tmp_path):
    torch.manual_seed(0)
    model = make()
    data = [np.random.randn(3, 4, 2).astype("f") for _ in model.inputs]
    expected = model.predict(data, verbose=0)

    def same(other):
        for a, b in zip(*(o if isinstance(o, list) else [o] for o in (
                other.predict(data, verbose=0), expected))):
            np.testing.assert_array_equal(a, b)

    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    same(clone)
    model.save(tmp_path / "m.rnnkit")
    same(load_model(tmp_path / "m.rnnkit"))
    model.save_weights(tmp_path / "m.safetensors")
    fresh = Model.from_config(model.get_config())
    fresh.load_weights(tmp_path / "m.safetensors")
    same(fresh)


def test_a_model_from_an_intermediate_tensor_runs_the_rest_of_the_graph():
    x = Input((None, 3))
    h = LSTM(4, return_sequences=True)(x)
    y = Dense(2)(GRU(3)(h))
    full, head = Model(x, y), Model(h, y)
    assert [layer.name for layer in head.layers] == [full.layers[2].name, full.layers[3].name]
    data = torch.randn(2, 5, 3)
    torch.testing.assert_close(head(full.layers[1](data)), full(data))
