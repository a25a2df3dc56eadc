"""Pooling, Conv1D, Reshape, Permute and Lambda: the layer contract for each configuration, then
what is special, against independent references (numpy written from the equations, in float64),
with Keras 3's mask rules and error cases. Keras's own numbers: tests/test_keras_layer_cases.py
-k pooling_conv."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import layers
from helpers import DATA, fresh_names, run_layer_test  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_names")

MASK = torch.tensor([[True, True, True, True], [True, True, False, False]])


# -- the layer contract ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs, in_shape, out_shape", [
    (layers.GlobalMaxPooling1D, {}, (None, 5, 3), (None, 3)),
    (layers.GlobalMaxPool1D, {"keepdims": True}, (None, None, 3), (None, 1, 3)),
    (layers.GlobalMaxPooling1D, {"data_format": "channels_first"}, (None, 3, 5), (None, 3)),
    (layers.MaxPooling1D, {}, (None, 5, 3), (None, 2, 3)),
    (layers.MaxPool1D, {"pool_size": 3, "strides": 2, "padding": "same"}, (None, 5, 3),
     (None, 3, 3)),
    (layers.AveragePooling1D, {"pool_size": 2, "strides": 1}, (None, None, 3), (None, None, 3)),
    (layers.AvgPool1D, {"pool_size": 2, "padding": "same", "data_format": "channels_first"},
     (None, 3, 5), (None, 3, 3)),
    (layers.Reshape, {"target_shape": (-1, 2)}, (None, 4, 3), (None, 6, 2)),
    (layers.Reshape, {"target_shape": (3, -1)}, (None, None, 3), (None, 3, None)),
    (layers.Permute, {"dims": (2, 1)}, (None, 5, 3), (None, 3, 5)),
])
def test_weightless_layers_keep_the_contract(cls, kwargs, in_shape, out_shape):
    # Keras 3: none of these supports masking, so a mask given stops here.
    mask = MASK if in_shape[1] is None else None
    run_layer_test(cls, kwargs, in_shape, out_shape, input_mask=mask, expected_mask=None,
                   run_training_check=False)


@pytest.mark.parametrize("kwargs, in_shape, out_shape", [
    ({}, (None, 5, 3), (None, 3)),
    ({"keepdims": True}, (None, None, 3), (None, 1, 3)),
    ({"data_format": "channels_first", "keepdims": True}, (None, 3, 5), (None, 3, 1)),
])
def test_global_average_pooling_keeps_the_contract(kwargs, in_shape, out_shape):
    mask = MASK if in_shape[1] is None else None
    run_layer_test(layers.GlobalAveragePooling1D, kwargs, in_shape, out_shape,
                   supports_masking=True, input_mask=mask, expected_mask=None,
                   run_training_check=False)


@pytest.mark.parametrize("kwargs, in_shape, out_shape, weights", [
    ({"filters": 4, "kernel_size": 3}, (None, 6, 3), (None, 4, 4), 2),
    ({"filters": 4, "kernel_size": 3, "padding": "same", "strides": 2}, (None, None, 3),
     (None, None, 4), 2),
    ({"filters": 2, "kernel_size": 2, "padding": "causal", "dilation_rate": 3,
      "use_bias": False}, (None, 5, 3), (None, 5, 2), 1),
    ({"filters": 4, "kernel_size": 2, "groups": 2, "activation": "relu",
      "kernel_regularizer": "l2", "activity_regularizer": "l1", "kernel_constraint": "max_norm"},
     (None, 5, 4), (None, 4, 4), 2),
    ({"filters": 3, "kernel_size": 2, "padding": "same", "data_format": "channels_first"},
     (None, 4, 5), (None, 3, 5), 2),
])
def test_conv1d_keeps_the_contract(kwargs, in_shape, out_shape, weights):
    mask = MASK if in_shape[1] is None else None
    run_layer_test(layers.Conv1D, kwargs, in_shape, out_shape,
                   expected_num_trainable_weights=weights, input_mask=mask, expected_mask=None)


def test_lambda_keeps_the_contract_in_memory():
    run_layer_test(layers.Lambda, {"function": torch.tanh}, (None, 5, 3), (None, 5, 3),
                   saveable=False, run_training_check=False)
    run_layer_test(layers.Lambda, {"function": _scale, "output_shape": (5, 3),
                                   "arguments": {"by": 2.0}},
                   (None, 5, 3), (None, 5, 3), saveable=False, run_training_check=False)


def _scale(x, by=1.0):
    return x * by


# -- Conv1D against the equation --------------------------------------------------------------------
def _conv_reference(x, kernel, bias, stride, padding, dilation, groups):
    """y[b, t, f] = Σ_k Σ_c x_pad[b, t·stride + k·dilation, c] W[k, c, f], channels of group j
    only for the filters of group j; x (batch, steps, channels) in float64."""
    steps, window = x.shape[1], dilation * (kernel.shape[0] - 1) + 1
    if padding == "causal":
        left, right = window - 1, 0
    elif padding == "same":
        total = max((math.ceil(steps / stride) - 1) * stride + window - steps, 0)
        left, right = total // 2, total - total // 2
    else:
        left = right = 0
    xp = np.pad(x, ((0, 0), (left, right), (0, 0)))
    n_out = (xp.shape[1] - window) // stride + 1
    per_group_in, filters = kernel.shape[1], kernel.shape[2]
    per_group_out = filters // groups
    y = np.zeros((x.shape[0], n_out, filters))
    for t in range(n_out):
        for f in range(filters):
            g = f // per_group_out
            for k in range(kernel.shape[0]):
                taps = xp[:, t * stride + k * dilation, g * per_group_in:(g + 1) * per_group_in]
                y[:, t, f] += taps @ kernel[k, :, f]
    return y + (0 if bias is None else bias)


CONV_CASES = [
    dict(filters=3, kernel_size=3, padding="valid"),
    dict(filters=3, kernel_size=3, padding="same"),
    dict(filters=2, kernel_size=4, padding="same"),  # even window: the odd pad on the right
    dict(filters=4, kernel_size=2, padding="same", strides=3),
    dict(filters=2, kernel_size=3, padding="same", dilation_rate=2),
    dict(filters=2, kernel_size=3, padding="causal", dilation_rate=2),
    dict(filters=3, kernel_size=2, padding="causal", strides=2, use_bias=False),
    dict(filters=6, kernel_size=2, padding="valid", groups=2),
    dict(filters=4, kernel_size=3, padding="same", groups=4),
]


@pytest.mark.parametrize("kwargs", CONV_CASES, ids=lambda k: "-".join(
    f"{a}={b}" for a, b in k.items() if a != "filters"))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv1d_matches_the_equation(kwargs, data_format):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 4))
    layer = layers.Conv1D(**kwargs, data_format=data_format, dtype="float64")
    xin = x if data_format == "channels_last" else x.transpose(0, 2, 1)
    layer.build((None, *xin.shape[1:]))
    layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    got = layer(torch.tensor(xin)).detach().numpy()
    weights = layer.get_weights()
    expected = _conv_reference(x, weights[0], weights[1] if len(weights) > 1 else None,
                               layer.strides[0], layer.padding, layer.dilation_rate[0],
                               layer.groups)
    if data_format == "channels_first":
        expected = expected.transpose(0, 2, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert got.shape[1:] == layer.compute_output_shape((None, *xin.shape[1:]))[1:]


def test_conv1d_gradients_pass_gradcheck():
    layer = layers.Conv1D(4, 3, padding="same", strides=2, groups=2, activation="tanh",
                          dtype="float64")
    x = torch.randn(1, 5, 4, dtype=torch.float64, requires_grad=True)
    layer.build(tuple(x.shape))
    # gradcheck perturbs its inputs in place: the layer's own weights, passed as inputs, too
    assert torch.autograd.gradcheck(lambda x, *weights: layer(x), (x, *layer.weights))


def test_conv1d_weights_and_config_are_keras_s():
    keras_config = _keras_layer_config("conv_causal_dilated_gru", "Conv1D")
    layer = layers.Conv1D(4, 2, padding="causal", dilation_rate=2, kernel_regularizer="l2",
                          activity_regularizer="l1", name="conv1d")
    layer.build((None, 5, 3))
    assert layer.weight_names == ["kernel", "bias"]
    assert [tuple(w.shape) for w in layer.weights] == [(2, 3, 4), (4,)]
    limit = math.sqrt(6 / (2 * 3 + 2 * 4))  # glorot_uniform, fans times the kernel's length
    assert 0.5 * limit < layer.kernel.abs().max() <= limit and not layer.bias.any()
    config = layer.get_config()
    assert set(config) == set(keras_config)  # (the fixture's JSON sorts the keys)
    for key in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                "groups", "activation", "use_bias"):
        assert json.loads(json.dumps(config[key])) == keras_config[key], key
    assert layers.Conv1D.from_config(config).get_config() == config
    assert layers.Convolution1D is layers.Conv1D


def _keras_layer_config(case, cls):
    info = json.loads((DATA / "keras_layers" / "pooling_conv.json").read_text())
    records = info["cases"][case]["config"]["layers"]
    return next(r["config"] for r in records if r["class_name"] == cls)


def test_conv1d_drops_the_mask_and_convolves_padding_as_keras():
    x = torch.randn(2, 4, 3)
    x._keras_mask = MASK
    layer = layers.Conv1D(2, 2, padding="causal")
    y = layer(x)
    assert getattr(y, "_keras_mask", None) is None
    assert not layer.supports_masking
    torch.testing.assert_close(y, layer(x.clone()))  # the padded steps count as any others


# -- pooling against the equations ---------------------------------------------------------------
def _pool_reference(x, window, stride, padding, mode):
    """Keras's pooling over axis 1 of x (batch, steps, features), float64: "same" pads as XLA
    and a window averages only its real steps."""
    steps = x.shape[1]
    if padding == "same":
        n_out = math.ceil(steps / stride)
        left = max((n_out - 1) * stride + window - steps, 0) // 2
    else:
        n_out, left = (steps - window) // stride + 1, 0
    out = []
    for t in range(n_out):
        start = t * stride - left
        real = x[:, max(start, 0):min(start + window, steps)]
        out.append(real.max(axis=1) if mode == "max" else real.mean(axis=1))
    return np.stack(out, axis=1)


@pytest.mark.parametrize("cls, mode", [(layers.MaxPooling1D, "max"),
                                       (layers.AveragePooling1D, "average")])
@pytest.mark.parametrize("pool_size, strides, padding", [
    (2, None, "valid"), (3, 1, "valid"), (3, 2, "same"), (2, 1, "same"), (4, 3, "same"),
    (2, 3, "same"), (5, 2, "same"), (7, 1, "valid")])
def test_pooling_matches_the_equations(cls, mode, pool_size, strides, padding):
    x = np.random.default_rng(1).normal(size=(2, 7, 3))
    expected = _pool_reference(x, pool_size, strides or pool_size, padding, mode)
    got = cls(pool_size, strides, padding, dtype="float64")(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    first = cls(pool_size, strides, padding, data_format="channels_first", dtype="float64")
    got_first = first(torch.tensor(x.transpose(0, 2, 1))).numpy()
    np.testing.assert_allclose(got_first, expected.transpose(0, 2, 1), rtol=1e-12, atol=1e-12)


def test_max_pooling_same_padding_never_wins_and_gradients_flow():
    x = -torch.rand(1, 5, 2, dtype=torch.float64) - 1  # all below zero: a zero pad would win
    x.requires_grad_()
    y = layers.MaxPooling1D(2, padding="same")(x)
    assert (y < -0.5).all()
    assert torch.autograd.gradcheck(layers.AveragePooling1D(4, 3, "same", dtype="float64"),
                                    (x,))


def test_global_pooling_matches_numpy_and_keeps_dims():
    x = np.random.default_rng(2).normal(size=(3, 5, 4))
    t = torch.tensor(x)
    np.testing.assert_allclose(layers.GlobalMaxPooling1D()(t).numpy(), x.max(axis=1))
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(t).numpy(), x.mean(axis=1))
    kept = layers.GlobalAveragePooling1D(keepdims=True, data_format="channels_first")(t)
    np.testing.assert_allclose(kept.numpy(), x.mean(axis=2, keepdims=True))
    assert layers.GlobalMaxPooling1D(keepdims=True)(t).shape == (3, 1, 4)


def test_global_average_pooling_averages_only_the_real_steps():
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    mask = torch.tensor([[True, False, True, False], [False, False, False, False]])
    x._keras_mask = mask
    y = layers.GlobalAveragePooling1D()(x)
    torch.testing.assert_close(y[0], (x[0, 0] + x[0, 2]) / 2)
    assert torch.isnan(y[1]).all()  # no real step: 0/0, as in Keras
    assert getattr(y, "_keras_mask", None) is None
    first = layers.GlobalAveragePooling1D(data_format="channels_first")(x.transpose(1, 2),
                                                                       mask=mask)
    torch.testing.assert_close(first[0], y[0])


def test_global_max_pooling_ignores_the_mask_as_keras():
    x = -torch.rand(1, 3, 2) - 1
    x[0, 2] = 0.0  # a padded step, as Masking leaves it
    x._keras_mask = torch.tensor([[True, True, False]])
    y = layers.GlobalMaxPooling1D()(x)
    torch.testing.assert_close(y, torch.zeros(1, 2))  # the padding takes part in the maximum
    assert getattr(y, "_keras_mask", None) is None


def test_aliases_are_the_same_classes_and_configs_say_keras_s_names():
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D
    assert layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    assert layers.MaxPool1D is layers.MaxPooling1D
    assert layers.AvgPool1D is layers.AveragePooling1D
    record = layers.serialize(layers.MaxPool1D(3))
    assert record["class_name"] == "MaxPooling1D" and record["config"]["name"] == "max_pooling1d"
    assert record["config"]["pool_size"] == (3,) and record["config"]["strides"] == (3,)
    keras_config = _keras_layer_config("avg_pool_same_strides_gru", "AveragePooling1D")
    ours = layers.AveragePooling1D(3, 2, "same").get_config()
    assert set(ours) == set(keras_config)


# -- Reshape and Permute --------------------------------------------------------------------------
def test_reshape_and_permute_match_torch_and_drop_masks():
    x = torch.randn(2, 4, 6)
    x._keras_mask = MASK
    y = layers.Reshape((3, -1, 2))(x)
    torch.testing.assert_close(y, x.reshape(2, 3, 4, 2))
    assert getattr(y, "_keras_mask", None) is None
    z = layers.Permute((3, 1, 2))(y)
    torch.testing.assert_close(z, y.permute(0, 3, 1, 2))
    assert layers.Reshape((4, 3)).compute_output_shape((None, 12)) == (None, 4, 3)
    assert layers.Reshape((-1, 3)).compute_output_shape((None, None, 6)) == (None, None, 3)
    assert layers.Permute((2, 3, 1)).compute_output_shape((None, 2, None, 5)) == (None, None, 5, 2)


# -- Lambda ---------------------------------------------------------------------------------------
def test_lambda_in_sequential_and_functional_models():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 2)
    seq = rnnkit.Sequential([rnnkit.Input((5, 2)), layers.Lambda(lambda t: t[:, ::2] * 3),
                             layers.GRU(2)])
    gru = seq.layers[-1]
    torch.testing.assert_close(seq(x), gru(x[:, ::2] * 3))
    inp = rnnkit.Input((5, 2))
    doubled = layers.Lambda(lambda t, k: t * k, arguments={"k": 2.0})(inp)
    summed = layers.Lambda(lambda ts: ts[0] + ts[1], output_shape=(5, 2))([inp, doubled])
    model = rnnkit.Model(inp, summed)
    torch.testing.assert_close(model(x), 3 * x)
    assert summed.shape == (None, 5, 2)


def test_lambda_output_shape_inferred_given_or_computed(capsys, monkeypatch):
    inp = rnnkit.Input((None, 4))
    inferred = layers.Lambda(lambda t: t.sum(dim=1))(inp)
    given = layers.Lambda(lambda t: t[..., :1], output_shape=(None, 1))(inp)
    from_function = layers.Lambda(lambda t: t, output_shape=lambda s: (s[0], s[1], 2 * 2))(inp)
    assert (inferred.shape, given.shape, from_function.shape) == (
        (None, 4), (None, None, 1), (None, None, 4))
    monkeypatch.setenv("COLUMNS", "80")
    rnnkit.Model(inp, [inferred, given]).summary()
    text = capsys.readouterr().out
    assert "lambda (Lambda)" in text and "(None, 4)" in text and "(None, None, 1)" in text


def test_lambda_masks_as_keras():
    x = torch.randn(2, 4, 3)
    x._keras_mask = MASK
    plain = layers.Lambda(lambda t: t + 1)
    assert not plain.supports_masking
    assert getattr(plain(x), "_keras_mask", None) is None
    passing = layers.Lambda(lambda t: t * 2, mask=lambda inputs, mask: mask)
    assert passing.supports_masking and torch.equal(passing(x)._keras_mask, MASK)
    fixed = torch.tensor([[True, False, True, False]] * 2)
    assert torch.equal(layers.Lambda(lambda t: t + 0, mask=fixed)(x)._keras_mask, fixed)
    seen = {}

    def spy(t, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return t
    layers.Lambda(spy)(x, training=True)
    assert torch.equal(seen["mask"], MASK) and seen["training"] is True


def test_lambda_is_refused_by_every_file_before_anything_is_written(tmp_path):
    model = rnnkit.Sequential([rnnkit.Input((3,)), layers.Dense(2),
                               layers.Lambda(lambda t: t * 2, name="double")])
    path = tmp_path / "model.rnnkit"
    with pytest.raises(ValueError, match=r"cannot save model 'sequential': Lambda layer "
                                         r"'double': its function is Python code, and a file "
                                         r"never carries code"):
        model.save(path)
    assert not path.exists()
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="never carries code"):
        model.save(path)
    assert path.read_bytes() == b"old"
    model.save_weights(tmp_path / "weights.safetensors")  # weights carry no code: allowed
    config = model.get_config()  # in memory, the function itself
    assert rnnkit.Sequential.from_config(config).get_config() == config
    serialized = {**model.layers[-1].get_config(),
                  "function": {"class_name": "__lambda__", "config": {"code": "..."}}}
    with pytest.raises(ValueError, match=r"Lambda layer 'double': its function is Python code"):
        layers.Lambda.from_config(serialized)


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.Conv1D(4, 2, strides=2, dilation_rate=2), ValueError,
     r"conv1d: strides > 1 cannot be combined with dilation_rate > 1"),
    (lambda: layers.Conv1D(3, 2, groups=2), ValueError,
     r"expected filters divisible by groups, got filters=3 and groups=2"),
    (lambda: layers.Conv1D(0, 2), ValueError, r"expected filters to be a positive integer, got 0"),
    (lambda: layers.Conv1D(2, (2, 2)), ValueError,
     r"expected kernel_size as an integer or a tuple of 1 integer, got \(2, 2\)"),
    (lambda: layers.Conv1D(2, 2, padding="full"), ValueError,
     r"expected padding 'valid' or 'same' or 'causal', got 'full'"),
    (lambda: layers.Conv1D(2, 2, lora_rank=2), NotImplementedError, r"lora_rank"),
    (lambda: layers.MaxPooling1D(2, padding="causal"), ValueError,
     r"max_pooling1d: expected padding 'valid' or 'same', got 'causal'"),
    (lambda: layers.GlobalAveragePooling1D(data_format="channels_middle"), ValueError,
     r"expected data_format 'channels_last' or 'channels_first', got 'channels_middle'"),
    (lambda: layers.AveragePooling1D(2.5), TypeError, r"expected pool_size to be a positive"),
    (lambda: layers.Reshape((-1, -1)), ValueError, r"at most one -1 in target_shape"),
    (lambda: layers.Reshape(5), TypeError, r"expected target_shape as a tuple of sizes"),
    (lambda: layers.Permute((1, 3)), ValueError, r"expected dims to be a permutation of 1..2"),
    (lambda: layers.Lambda("tanh"), TypeError, r"expected function to be callable"),
])
def test_bad_arguments_are_refused_by_name(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("layer, x, message", [
    (layers.Conv1D(2, 4), torch.zeros(1, 3, 2),
     r"conv1d: a window of 4 steps does not fit in an input of 3 steps with padding='valid'"),
    (layers.Conv1D(2, 2, groups=2), torch.zeros(1, 3, 3),
     r"expected input features divisible by groups=2, got 3"),
    (layers.Conv1D(2, 2), torch.zeros(3, 2), r"expected input of shape \(batch, steps, "
                                             r"features\) \(rank 3\), got shape \(3, 2\)"),
    (layers.MaxPooling1D(3), torch.zeros(1, 2, 2), r"a window of 3 steps does not fit"),
    (layers.GlobalMaxPooling1D(), torch.zeros(2, 3), r"\(rank 3\), got shape \(2, 3\)"),
    (layers.Reshape((4, 4)), torch.zeros(2, 3, 5),
     r"reshape: cannot reshape a sample of shape \(3, 5\) \(15 elements\) to target_shape"),
    (layers.Permute((2, 1)), torch.zeros(2, 3, 4, 5), r"expected input of rank 3 for dims"),
])
def test_bad_inputs_are_refused_by_name(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer(x)


def test_conv1d_refuses_inputs_of_other_features_than_it_was_built_for():
    layer = layers.Conv1D(2, 2)
    layer(torch.zeros(1, 3, 4))
    with pytest.raises(ValueError, match=r"expected 4 input features \(the layer was built for "
                                         r"that\), got shape \(1, 3, 5\)"):
        layer(torch.zeros(1, 3, 5))


def test_global_average_pooling_refuses_a_mask_of_another_shape():
    with pytest.raises(ValueError, match=r"expected a mask of shape \(batch, steps\) = \(2, 4\)"):
        layers.GlobalAveragePooling1D()(torch.zeros(2, 4, 3), mask=torch.ones(2, 3, dtype=bool))
