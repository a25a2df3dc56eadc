"""BatchNormalization, LayerNormalization, SpatialDropout1D, GaussianNoise, ReLU, LeakyReLU, ELU
and Softmax: the layer contract for each configuration, then what is special about each against
independent references (torch.nn.functional in float64, numpy formulas from the equations),
training against inference, masks and every error. Keras's own numbers: test_keras_layer_cases.py
-k normalization."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rnnkit
from rnnkit.layers import (ELU, BatchNormalization, GaussianNoise, LayerNormalization, LeakyReLU,
                           ReLU, Softmax, SpatialDropout1D)
from helpers import fresh_names, run_layer_test  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_names")

MASK = torch.tensor([[True, True, True, False], [False, True, True, True]])


# -- the layer contract ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, shape, trainable, frozen", [
    ({}, (None, 4, 3), 2, 2),
    ({"axis": 1, "momentum": 0.5, "center": False}, (None, 4, 3), 1, 2),
    ({"renorm": True, "renorm_clipping": {"rmax": 2.0}}, (None, 4, 3), 2, 5),
    ({"epsilon": 0.1, "gamma_regularizer": "l2", "beta_constraint": "non_neg"}, (None, 5), 2, 2),
])
def test_batch_normalization_contract(kwargs, shape, trainable, frozen):
    mask = MASK if len(shape) == 3 else None
    # Data of its own: the helper's default equals its training targets (both drawn from seed 0),
    # and renorm at its initial statistics is the identity, which would leave nothing to learn.
    data = torch.randn((2,) + shape[1:], generator=torch.Generator().manual_seed(5))
    run_layer_test(BatchNormalization, kwargs, shape, shape, supports_masking=True,
                   expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=frozen, input_data=data, input_mask=mask,
                   expected_mask=mask)


def test_batch_normalization_without_weights_contract():
    run_layer_test(BatchNormalization, {"center": False, "scale": False}, (None, 4, 3),
                   (None, 4, 3), supports_masking=True, expected_num_non_trainable_weights=2,
                   run_training_check=False)


@pytest.mark.parametrize("kwargs, shape, trainable", [
    ({}, (None, 4, 3), 2),
    ({"axis": [1, 2], "epsilon": 0.01}, (None, 4, 3), 2),
    ({"axis": 1, "center": False, "beta_regularizer": "l1"}, (None, 4, 3), 1),
    ({"scale": False, "gamma_constraint": "unit_norm"}, (None, 5), 1),
])
def test_layer_normalization_contract(kwargs, shape, trainable):
    mask = MASK if len(shape) == 3 else None
    run_layer_test(LayerNormalization, kwargs, shape, shape, supports_masking=True,
                   expected_num_trainable_weights=trainable, input_mask=mask, expected_mask=mask)


def test_layer_normalization_rms_scaling_contract_warns():
    with pytest.warns(UserWarning, match="deprecated"):
        run_layer_test(LayerNormalization, {"rms_scaling": True}, (None, 4, 3), (None, 4, 3),
                       supports_masking=True, expected_num_trainable_weights=1)


@pytest.mark.parametrize("cls, kwargs", [
    (SpatialDropout1D, {"rate": 0.3, "seed": 1}), (GaussianNoise, {"stddev": 0.2, "seed": 3}),
    (GaussianNoise, {"stddev": 0.0}),
    (ReLU, {}), (ReLU, {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.2}),
    (LeakyReLU, {"negative_slope": 0.1}), (ELU, {"alpha": 0.5}),
])
def test_elementwise_layers_contract(cls, kwargs):
    # A model of a weightless layer has nothing to train (fit refuses it).
    run_layer_test(cls, kwargs, (None, 4, 3), (None, 4, 3), supports_masking=True,
                   input_mask=MASK, expected_mask=MASK, run_training_check=False)


@pytest.mark.parametrize("axis", [-1, 1, [1, 2]])
def test_softmax_contract(axis):
    run_layer_test(Softmax, {"axis": axis}, (None, 4, 3), (None, 4, 3), supports_masking=True,
                   run_training_check=False)


def test_spatial_dropout_config_has_keras_keys_only():
    assert SpatialDropout1D(0.2, seed=4, name="sd").get_config() == {
        "rate": 0.2, "seed": 4, "name": "sd", "dtype": "float32"}


def test_layer_normalization_axis_becomes_sorted_list_when_built():
    layer = LayerNormalization(axis=[2, 1])
    assert layer.get_config()["axis"] == [2, 1]
    layer.build((None, 4, 3))
    assert layer.get_config()["axis"] == [1, 2] and tuple(layer.gamma.shape) == (4, 3)
    assert LayerNormalization().get_config()["axis"] == -1


# -- BatchNormalization ---------------------------------------------------------------------------
def _bn(**kwargs):
    torch.manual_seed(0)
    layer = BatchNormalization(**kwargs).double()
    layer.build((None, 4, 3))
    with torch.no_grad():
        for w in layer.weights:
            w.uniform_(0.5, 1.5)
    return layer


def test_batch_normalization_training_equals_torch_values_and_gradients():
    layer = _bn(epsilon=0.01)
    x = torch.randn(5, 4, 3, dtype=torch.float64, requires_grad=True)
    ours = layer(x, training=True)
    theirs = F.batch_norm(x.transpose(1, 2), None, None, layer.gamma, layer.beta, training=True,
                          eps=0.01).transpose(1, 2)
    torch.testing.assert_close(ours, theirs)
    w = torch.cos(torch.arange(60, dtype=torch.float64)).reshape(5, 4, 3)
    g_ours = torch.autograd.grad((ours * w).sum(), [x, layer.gamma, layer.beta])
    g_theirs = torch.autograd.grad((theirs * w).sum(), [x, layer.gamma, layer.beta])
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a, b)


def test_batch_normalization_moving_statistics_follow_keras_formula():
    layer = _bn(momentum=0.8)
    mean0, var0 = (w.detach().clone() for w in (layer.moving_mean, layer.moving_variance))
    x = torch.randn(5, 4, 3, dtype=torch.float64)
    layer(x, training=True).sum().backward()
    flat = x.reshape(-1, 3).numpy()
    np.testing.assert_allclose(layer.moving_mean.detach(), 0.8 * mean0 + 0.2 * flat.mean(0))
    # the biased variance, as Keras's moving average takes it
    np.testing.assert_allclose(layer.moving_variance.detach(), 0.8 * var0 + 0.2 * flat.var(0))
    assert layer.moving_mean.grad is None and not layer.moving_mean.requires_grad


def test_batch_normalization_inference_uses_moving_statistics():
    layer = _bn(epsilon=0.1)
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    before = [w.detach().clone() for w in layer.weights]
    expected = ((x - layer.moving_mean) / torch.sqrt(layer.moving_variance + 0.1) * layer.gamma
                + layer.beta)
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(layer(x, training=False), expected)
    for old, new in zip(before, layer.weights):
        assert torch.equal(old, new)


def test_batch_normalization_masked_moments_skip_masked_steps():
    layer = _bn(momentum=0.0, epsilon=0.01)
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    x_masked = x.clone()
    x_masked[~MASK] = 1e3  # masked steps must not count, whatever they hold
    y = layer(x_masked, training=True, mask=MASK)
    kept = x[MASK].numpy()  # (6, 3): the real steps only
    count = len(kept) + 1e-7  # Keras divides by (count + backend.epsilon())
    mean = kept.sum(0) / count
    var = ((kept - mean) ** 2).sum(0) / count
    np.testing.assert_allclose(layer.moving_mean.detach(), mean)
    np.testing.assert_allclose(layer.moving_variance.detach(), var)
    expected = (x.numpy() - mean) / np.sqrt(var + 0.01) * layer.gamma.detach().numpy() \
        + layer.beta.detach().numpy()
    np.testing.assert_allclose(y.detach()[MASK], expected[MASK.numpy()], rtol=1e-12)


def test_batch_normalization_frozen_runs_in_inference_mode_and_keeps_state():
    layer = _bn()
    layer.trainable = False
    x = torch.randn(3, 4, 3, dtype=torch.float64)
    before = [w.detach().clone() for w in layer.weights]
    torch.testing.assert_close(layer(x, training=True), layer(x, training=False))
    for old, new in zip(before, layer.weights):
        assert torch.equal(old, new)
    assert layer.trainable_weights == []


def test_batch_normalization_fit_updates_moving_statistics_outside_autograd():
    torch.manual_seed(1)
    inputs = rnnkit.Input((4, 3))
    bn = BatchNormalization(momentum=0.5)
    model = rnnkit.Model(inputs, rnnkit.layers.Dense(2)(bn(inputs)))
    model.compile(optimizer="adam", loss="mse")
    x, y = torch.randn(8, 4, 3), torch.randn(8, 4, 2)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    flat = x.reshape(-1, 3).numpy()
    # two steps on the same batch: m2 = 0.25 m0 + 0.75 batch
    np.testing.assert_allclose(bn.moving_mean.detach(), 0.75 * flat.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.detach(), 0.25 + 0.75 * flat.var(0), rtol=1e-5)
    assert not model.training  # predict afterwards uses the moving statistics
    expected = bn(torch.as_tensor(x), training=False)
    torch.testing.assert_close(bn(torch.as_tensor(x)), expected)


def test_batch_normalization_renorm_corrections_are_clipped_and_stop_gradient():
    clip = {"rmax": 1.2, "rmin": 0.9, "dmax": 0.1}
    layer = _bn(renorm=True, renorm_clipping=clip, renorm_momentum=0.5, momentum=0.5,
                epsilon=0.01)
    stats = {n: getattr(layer, n).detach().clone()
             for n in ("renorm_mean", "renorm_stddev", "moving_mean", "moving_stddev")}
    x = torch.randn(6, 4, 3, dtype=torch.float64, requires_grad=True)
    y = layer(x, training=True)
    flat = x.detach().reshape(-1, 3)
    mean, std = flat.mean(0), torch.sqrt(flat.var(0, unbiased=False) + 0.01)
    r = torch.clamp(std / stats["renorm_stddev"].clamp(min=0.1), 0.9, 1.2)
    d = torch.clamp((mean - stats["renorm_mean"]) / stats["renorm_stddev"].clamp(min=0.1),
                    -0.1, 0.1)
    normalized = F.batch_norm(x.transpose(1, 2), None, None, training=True, eps=0.01)
    expected = (normalized.transpose(1, 2) * r + d) * layer.gamma + layer.beta
    torch.testing.assert_close(y, expected)
    torch.testing.assert_close(layer.renorm_mean.detach(), 0.5 * stats["renorm_mean"] + 0.5 * mean)
    new_std = 0.5 * stats["moving_stddev"] + 0.5 * std
    torch.testing.assert_close(layer.moving_stddev.detach(), new_std)
    torch.testing.assert_close(layer.moving_variance.detach(), torch.relu(new_std ** 2 - 0.01))
    # r and d carry no gradient: the gradient is that of the plain formula with r, d constants
    w = torch.sin(torch.arange(72, dtype=torch.float64)).reshape(6, 4, 3)
    torch.testing.assert_close(torch.autograd.grad((y * w).sum(), x)[0],
                               torch.autograd.grad((expected * w).sum(), x)[0])


def test_batch_normalization_renorm_weights_start_from_the_variance_root():
    layer = BatchNormalization(renorm=True, moving_variance_initializer={
        "class_name": "Constant", "config": {"value": 4.0}})
    layer.build((None, 2))
    assert layer.weight_names == ["gamma", "beta", "moving_mean", "moving_variance",
                                  "moving_stddev", "renorm_mean", "renorm_stddev"]
    assert torch.equal(layer.moving_stddev.detach(), torch.full((2,), 2.0))
    assert torch.equal(layer.renorm_stddev.detach(), torch.full((2,), 2.0))


# -- LayerNormalization ---------------------------------------------------------------------------
def _filled(layer, shape):
    layer = layer.double()
    layer.build(shape)
    torch.manual_seed(2)
    with torch.no_grad():
        for w in layer.weights:
            w.uniform_(0.5, 1.5)
    return layer


def test_layer_normalization_equals_torch_layer_norm_values_and_gradients():
    layer = _filled(LayerNormalization(axis=[1, 2], epsilon=0.01), (None, 4, 3))
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    ours = layer(x)
    theirs = F.layer_norm(x, (4, 3), layer.gamma, layer.beta, 0.01)
    torch.testing.assert_close(ours, theirs)
    torch.autograd.gradcheck(lambda v: layer(v), (x,))


def test_layer_normalization_over_a_middle_axis_follows_the_formula():
    layer = _filled(LayerNormalization(axis=1), (None, 4, 3))
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    mean, var = x.mean(1, keepdim=True), x.var(1, unbiased=False, keepdim=True)
    expected = (x - mean) / torch.sqrt(var + 1e-3) * layer.gamma.view(1, 4, 1) \
        + layer.beta.view(1, 4, 1)
    torch.testing.assert_close(layer(x), expected)


def test_layer_normalization_rms_scaling_divides_by_the_variance_root():
    with pytest.warns(UserWarning):
        layer = _filled(LayerNormalization(rms_scaling=True), (None, 4, 3))
    assert layer.weight_names == ["gamma"]
    x = torch.randn(2, 4, 3, dtype=torch.float64) + 3.0
    expected = x / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-3) * layer.gamma
    torch.testing.assert_close(layer(x), expected)


# -- noise ----------------------------------------------------------------------------------------
def test_spatial_dropout_drops_whole_channels_in_training_only():
    layer = SpatialDropout1D(0.3, seed=7)
    x = torch.ones(64, 20, 50)
    y = layer(x, training=True)
    assert torch.all((y == 0) | torch.isclose(y, torch.tensor(1 / 0.7)))
    assert torch.equal(y, y[:, :1].expand_as(y))  # one draw per (sample, channel), every step
    kept = (y[:, 0] != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.03  # 3200 draws: 5 standard deviations
    assert torch.equal(layer(x), x) and torch.equal(layer(x, training=False), x)
    again = SpatialDropout1D(0.3, seed=7)(x, training=True)
    assert torch.equal(again, y)


def test_gaussian_noise_adds_noise_of_its_stddev_in_training_only():
    layer = GaussianNoise(0.4, seed=5)
    x = torch.full((200, 10, 50), 2.0)
    noise = layer(x, training=True) - x
    assert abs(noise.mean().item()) < 0.005  # 1e5 draws: 5 standard errors of the mean
    assert abs(noise.std().item() - 0.4) < 0.005
    assert torch.equal(layer(x), x)
    assert torch.equal(GaussianNoise(0.4, seed=5)(x, training=True) - x, noise)


def test_noise_layers_pass_masks_in_training():
    x = torch.randn(2, 4, 3)
    x._keras_mask = MASK
    for layer in (SpatialDropout1D(0.5), GaussianNoise(0.5)):
        assert torch.equal(layer(x, training=True)._keras_mask, MASK)


# -- activation layers ----------------------------------------------------------------------------
def _relu_reference(x, max_value, slope, threshold):
    """Keras's relu from its definition: x above the threshold, slope * (x - threshold) below,
    the positive part capped at max_value."""
    y = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        y = np.clip(y, 0.0, max_value)
    return y - slope * np.maximum(threshold - x, 0.0)


@pytest.mark.parametrize("max_value", [None, 6.0, 0.5])
@pytest.mark.parametrize("slope", [0.0, 0.2])
@pytest.mark.parametrize("threshold", [0.0, 0.3])
def test_relu_options_follow_the_definition(max_value, slope, threshold):
    x = torch.linspace(-3, 8, 111, dtype=torch.float64)
    y = ReLU(max_value=max_value, negative_slope=slope, threshold=threshold)(x)
    np.testing.assert_allclose(y.numpy(), _relu_reference(x.numpy(), max_value, slope, threshold))


def test_leaky_relu_and_elu_equal_torch():
    x = torch.randn(50, dtype=torch.float64)
    torch.testing.assert_close(LeakyReLU()(x), F.leaky_relu(x, 0.3))
    torch.testing.assert_close(ELU(alpha=0.7)(x), torch.where(x > 0, x, 0.7 * torch.expm1(x)))


def test_leaky_relu_alpha_is_deprecated_as_in_keras():
    with pytest.warns(UserWarning, match="alpha is deprecated"):
        layer = LeakyReLU(alpha=0.05)
    assert layer.negative_slope == 0.05 and "alpha" not in layer.get_config()


def test_softmax_axes_equal_torch():
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(Softmax()(x), torch.softmax(x, -1))
    torch.testing.assert_close(Softmax(axis=[1])(x), torch.softmax(x, 1))
    joint = torch.softmax(x.reshape(2, -1), -1).reshape(2, 4, 3)
    torch.testing.assert_close(Softmax(axis=[1, 2])(x), joint)


def test_softmax_mask_keeps_true_or_above_half_and_zeroes_the_rest():
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    keep = torch.tensor([[[True, False, True, True]], [[False, False, False, False]]])
    expected = torch.exp(x) * keep
    expected = torch.nan_to_num(expected / expected.sum(-1, keepdim=True))  # all masked: zeros
    y = Softmax()(x, mask=keep)
    torch.testing.assert_close(y, expected)
    assert torch.equal(y[1], torch.zeros(3, 4))
    torch.testing.assert_close(Softmax()(x, mask=keep.double() * 0.9 + 0.05), expected)


def test_softmax_masked_entries_are_minus_1e9_before_the_softmax():
    # -1e9 (not -inf) in float32: a kept entry of -1e9 weighs as much as a masked one
    x = torch.tensor([[-1e9, 0.0, -1e9]])
    y = Softmax()(x, mask=torch.tensor([[True, False, False]]))
    torch.testing.assert_close(y, torch.tensor([[1 / 3, 0.0, 0.0]]))


def test_softmax_refuses_a_mask_that_does_not_broadcast_as_keras():
    x = torch.randn(3, 5, 4)
    x._keras_mask = torch.ones(3, 5, dtype=torch.bool)  # (batch, time) against (batch, time, F)
    with pytest.raises(ValueError, match="softmax: expected a mask broadcastable"):
        Softmax()(x)
    with pytest.raises(ValueError, match="got mask shape"):
        Softmax()(torch.randn(2, 3), mask=torch.ones(1, 2, 3, dtype=torch.bool))


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs, error, match", [
    (BatchNormalization, {"synchronized": True}, NotImplementedError, "synchronized=True"),
    (BatchNormalization, {"axis": [1]}, TypeError, "expected axis to be an int"),
    (BatchNormalization, {"momentum": "high"}, TypeError, "expected momentum to be a real"),
    (BatchNormalization, {"renorm": True, "renorm_clipping": {"r": 1}}, ValueError, "keys among"),
    (BatchNormalization, {"renorm": True, "renorm_clipping": {"rmax": 1, "rmin": 2}}, ValueError,
     "rmax >= rmin"),
    (BatchNormalization, {"renorm": True, "renorm_clipping": {"dmax": -1}}, ValueError,
     "dmax >= 0"),
    (LayerNormalization, {"axis": "last"}, TypeError, "an int or a list of ints"),
    (LayerNormalization, {"epsilon": None}, TypeError, "expected epsilon"),
    (ReLU, {"max_value": -1.0}, ValueError, "max_value to be a non-negative"),
    (ReLU, {"negative_slope": None}, ValueError, "negative_slope to be a non-negative"),
    (ReLU, {"threshold": -0.1}, ValueError, "threshold to be a non-negative"),
    (LeakyReLU, {"negative_slope": -0.1}, ValueError, "non-negative"),
    (ELU, {"alpha": "one"}, TypeError, "alpha to be a number"),
    (Softmax, {"axis": 1.5}, TypeError, "an int or a list of ints"),
    (SpatialDropout1D, {"rate": 1.5}, ValueError, "between 0 and 1"),
    (GaussianNoise, {"stddev": 2.0}, ValueError, "between 0 and 1"),
    (GaussianNoise, {"stddev": -0.1}, ValueError, "between 0 and 1"),
])
def test_bad_arguments_are_refused_by_name(cls, kwargs, error, match):
    with pytest.raises(error, match=match):
        cls(**kwargs)


def test_bad_inputs_are_refused_by_name():
    bn = BatchNormalization(name="bn")
    bn(torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match=r"bn: expected input of rank 3 with 3 channels"):
        bn(torch.randn(2, 4, 5))
    with pytest.raises(ValueError, match="bn: expected a mask of one dimension less"):
        bn(torch.randn(2, 4, 3), mask=torch.ones(2, 4, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="out of bounds"):
        BatchNormalization(axis=3).build((None, 4, 3))
    with pytest.raises(ValueError, match="known size on axis"):
        BatchNormalization(axis=1).build((None, None, 3))
    ln = LayerNormalization(name="ln")
    ln(torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match=r"ln: expected input of rank 3 with sizes \(3,\)"):
        ln(torch.randn(2, 4, 2))
    with pytest.raises(ValueError, match="out of bounds"):
        LayerNormalization(axis=[1, 5]).compute_output_shape((None, 4, 3))
    with pytest.raises(ValueError, match=r"spatial_dropout1d: expected input of shape \(batch, "):
        SpatialDropout1D(0.5)(torch.randn(2, 3), training=True)
