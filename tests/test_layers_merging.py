"""The merging layers: the layer contract for each, their values against numpy formulas, Keras
3's mask rules (inside the merge and of the output), Dot against torch.einsum with gradients in
float64, the functional forms, and each error. Keras's own numbers: test_keras_layer_cases.py
(-k merging)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import layers
from helpers import DATA, fresh_names, run_layer_test  # noqa: F401

sys.path.insert(0, str(DATA))
import layer_specs  # noqa: E402

pytestmark = pytest.mark.usefixtures("fresh_names")

ELEMENTWISE = {"Add": lambda a, b: a + b, "Subtract": lambda a, b: a - b,
               "Multiply": lambda a, b: a * b, "Average": lambda a, b: (a + b) / 2,
               "Maximum": np.maximum, "Minimum": np.minimum}
MASK = torch.tensor([[True, True, False, False], [True, False, True, True]])


def _pair(seed=0, shape=(2, 4, 3), dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=g, dtype=dtype) for _ in range(2)]


# -- the layer contract -------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_contract(name):
    # one input masked, the other not: Keras 3 gives no output mask
    run_layer_test(getattr(layers, name), {}, [(None, 4, 3), (None, 4, 3)], (None, 4, 3),
                   supports_masking=True, input_mask=MASK, expected_mask=None,
                   run_training_check=False)


@pytest.mark.parametrize("name", ["Add", "Average", "Multiply", "Maximum", "Minimum"])
def test_three_inputs_and_rank_broadcast(name):
    run_layer_test(getattr(layers, name), {}, [(None, 4, 3), (None, 4, 3), (None, 4, 3)],
                   (None, 4, 3), supports_masking=True, run_training_check=False)
    run_layer_test(getattr(layers, name), {}, [(None, 4, 3), (None, 3)], (None, 4, 3),
                   supports_masking=True, run_training_check=False)


@pytest.mark.parametrize("axis, shapes, out, mask", [
    (-1, [(None, 4, 3), (None, 4, 2)], (None, 4, 5), torch.ones(2, 4, dtype=torch.bool)),
    (1, [(None, 4, 3), (None, 2, 3)], (None, 6, 3),
     torch.cat([MASK, torch.ones(2, 2, dtype=torch.bool)], dim=1)),
    (-2, [(None, 4, 3), (None, 2, 3)], (None, 6, 3),
     torch.cat([MASK, torch.ones(2, 2, dtype=torch.bool)], dim=1)),
])
def test_concatenate_contract(axis, shapes, out, mask):
    run_layer_test(layers.Concatenate, {"axis": axis}, shapes, out, supports_masking=True,
                   input_mask=MASK, expected_mask=mask, run_training_check=False)


@pytest.mark.parametrize("kwargs, shapes, out", [
    ({"axes": 2}, [(None, 4, 3), (None, 5, 3)], (None, 4, 5)),
    ({"axes": (2, 2), "normalize": True}, [(None, 4, 3), (None, 5, 3)], (None, 4, 5)),
    ({"axes": [1, 1]}, [(None, 4, 3), (None, 4, 2)], (None, 3, 2)),
    ({"axes": (1, 2)}, [(None, 3), (None, 4, 3)], (None, 4)),
    ({"axes": -1, "normalize": True}, [(None, 3), (None, 3)], (None, 1)),
])
def test_dot_contract(kwargs, shapes, out):
    run_layer_test(layers.Dot, kwargs, shapes, out, supports_masking=True,
                   run_training_check=False)


def test_merge_trains_the_layers_before_it():
    x, y = rnnkit.Input((4, 3)), rnnkit.Input((4, 3))
    dense = layers.Dense(2)
    model = rnnkit.Model([x, y], layers.LSTM(2)(layers.Concatenate()([dense(x), y])))
    model.compile(optimizer="sgd", loss="mse")
    before = dense.get_weights()[0].copy()
    assert np.isfinite(model.train_on_batch(_pair(), np.ones((2, 2), "float32")))
    assert not np.array_equal(before, dense.get_weights()[0])


# -- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_values(name):
    a, b = _pair()
    got = getattr(layers, name)()([a, b])
    np.testing.assert_allclose(got.numpy(), ELEMENTWISE[name](a.numpy(), b.numpy()), rtol=1e-6)


def test_rank_broadcast_inserts_axes_after_the_batch_axis():
    a, b = torch.randn(2, 4, 3), torch.randn(2, 3)
    np.testing.assert_allclose(layers.Add()([b, a]).numpy(), b.numpy()[:, None] + a.numpy())
    a, b = torch.randn(2, 3, 4, 5), torch.randn(2, 1, 5)
    assert layers.Multiply()([a, b]).shape == (2, 3, 4, 5)
    assert layers.Add().compute_output_shape([(None, 3, 1, 5), (2, 4, 1)]) == (2, 3, 4, 5)


def test_average_of_three_and_one_input():
    xs = [torch.randn(2, 3) for _ in range(3)]
    np.testing.assert_allclose(layers.Average()(xs).numpy(), sum(x.numpy() for x in xs) / 3,
                               rtol=1e-6)
    assert torch.equal(layers.Add()(xs[:1]), xs[0])  # Keras 3 takes a list of one


def test_concatenate_values():
    a, b = torch.randn(2, 4, 3), torch.randn(2, 1, 3)
    np.testing.assert_array_equal(layers.Concatenate(axis=1)([a, b]).numpy(),
                                  np.concatenate([a.numpy(), b.numpy()], axis=1))


def _batch_dot(x, y, a0, a1):
    """numpy: out[b, i.., j..] = sum_k x[b, .., k at a0, ..] y[b, .., k at a1, ..]."""
    x, y = np.moveaxis(x, a0, -1), np.moveaxis(y, a1, 1)
    out = np.einsum("bik,bkj->bij", x.reshape(len(x), -1, x.shape[-1]),
                    y.reshape(len(y), y.shape[1], -1))
    out = out.reshape((len(x),) + x.shape[1:-1] + y.shape[2:])
    return out if out.ndim > 1 else out[:, None]


@pytest.mark.parametrize("axes, shapes", [
    (2, [(2, 4, 3), (2, 5, 3)]), ((1, 1), [(2, 4, 3), (2, 4, 2)]), ((2, 1), [(2, 4, 3), (2, 3, 5)]),
    (-1, [(2, 3), (2, 3)]), ((1, 2), [(2, 3), (2, 4, 3)]), ((2, 1), [(2, 4, 3), (2, 3)]),
    ((3, 1), [(2, 2, 4, 3), (2, 3, 2, 5)]),
])
def test_dot_values(axes, shapes):
    x, y = (np.random.RandomState(i).normal(size=s).astype("float32") for i, s in enumerate(shapes))
    pair = (axes, axes) if isinstance(axes, int) else axes
    a0, a1 = (a % len(s) for a, s in zip(pair, shapes))
    layer = layers.Dot(axes=axes)
    got = layer([torch.from_numpy(x), torch.from_numpy(y)])
    symbolic = layer.compute_output_shape([(None,) + s[1:] for s in shapes])
    assert (None,) + tuple(got.shape[1:]) == symbolic
    np.testing.assert_allclose(got.numpy(), _batch_dot(x, y, a0, a1), rtol=1e-5, atol=1e-6)
    cosine = layers.Dot(axes=axes, normalize=True)([torch.from_numpy(x), torch.from_numpy(y)])
    unit = [v / np.maximum(np.linalg.norm(v, axis=a, keepdims=True), 1e-7)
            for v, a in ((x, a0), (y, a1))]
    np.testing.assert_allclose(cosine.numpy(), _batch_dot(*unit, a0, a1), rtol=1e-5, atol=1e-6)


def test_dot_gradients_float64():
    x, y = (t.requires_grad_() for t in _pair(1, (2, 4, 3), torch.float64))
    for normalize in (False, True):
        layer = layers.Dot(axes=(2, 2), normalize=normalize)
        assert torch.autograd.gradcheck(lambda a, b: layer([a, b]), (x, y))
    got = layers.Dot(axes=(2, 2))([x, y])
    torch.testing.assert_close(got, torch.einsum("bik,bjk->bij", x, y))
    zero = torch.zeros(1, 2, 3, dtype=torch.float64, requires_grad=True)
    layers.Dot(axes=2, normalize=True)([zero, zero]).sum().backward()
    assert torch.isfinite(zero.grad).all()


# -- masks ---------------------------------------------------------------------------------------
def test_merge_output_mask_is_the_or_of_all_masks_or_none():
    a, b = _pair()
    other = torch.tensor([[False, True, False, True], [False, False, False, True]])
    for name in ELEMENTWISE:
        layer = getattr(layers, name)()
        assert torch.equal(layer.compute_mask([a, b], [MASK, other]), MASK | other)
        assert layer.compute_mask([a, b], [MASK, None]) is None
        assert layer.compute_mask([a, b], None) is None
    assert layers.Dot(axes=2).compute_mask([a, b], [MASK, other]) is None


def test_concatenate_mask_spreads_each_mask_over_its_input():
    a, b = torch.randn(2, 4, 3), torch.randn(2, 2, 3)
    layer = layers.Concatenate(axis=1)
    assert layer.compute_mask([a, b], None) is None
    assert layer.compute_mask([a, b], [None, None]) is None
    both = layer.compute_mask([a, b], [MASK, torch.tensor([[False, True], [True, False]])])
    assert both.tolist() == [[True, True, False, False, False, True],
                             [True, False, True, True, True, False]]
    # on the features axis, a missing mask is all True: every step is kept
    c = torch.randn(2, 4, 2)
    assert layers.Concatenate().compute_mask([a, c], [MASK, None]).all()
    assert torch.equal(layers.Concatenate().compute_mask([a, c], [MASK, MASK]), MASK)


def _masked_pair():
    a, b = _pair(3)
    return a, b, MASK.clone(), torch.tensor([[True, False, False, True], [True, True, False, True]])


def test_multiply_leaves_masked_entries_out():
    a, b, ma, mb = _masked_pair()
    an, bn, ma3, mb3 = a.numpy(), b.numpy(), ma.numpy()[..., None], mb.numpy()[..., None]
    one = layers.Multiply()([a, b], mask=[ma, None])
    np.testing.assert_allclose(one.numpy(), np.where(ma3, an, 1) * bn, rtol=1e-6)
    both = layers.Multiply()([a, b], mask=[ma, mb])
    expected = np.where(ma3 | mb3, np.where(ma3, an, 1) * np.where(mb3, bn, 1), 0)
    np.testing.assert_allclose(both.numpy(), expected, rtol=1e-6)
    assert torch.equal(both._keras_mask, ma | mb)


@pytest.mark.parametrize("name, op", [("Maximum", np.maximum), ("Minimum", np.minimum)])
def test_maximum_minimum_take_the_other_side_where_one_is_masked(name, op):
    a, b, ma, mb = _masked_pair()
    an, bn, ma3, mb3 = a.numpy(), b.numpy(), ma.numpy()[..., None], mb.numpy()[..., None]
    layer = getattr(layers, name)()
    both = layer([a, b], mask=[ma, mb])
    b_kept = np.where(mb3, bn, an)
    np.testing.assert_allclose(both.numpy(), op(np.where(ma3, an, b_kept), b_kept))
    second_only = layer([a, b], mask=[None, mb])
    np.testing.assert_allclose(second_only.numpy(), op(an, np.where(mb3, bn, an)))
    first_only = layer([a, b], mask=[ma, None])
    np.testing.assert_allclose(first_only.numpy(), op(np.where(ma3, an, bn), bn))


def test_an_expanded_input_loses_its_mask_inside_the_merge():
    # Keras expands a lower-rank input to a new tensor, which carries no mask
    a, v = torch.randn(2, 4, 3), torch.randn(2, 3)
    got = layers.Multiply()([a, v], mask=[None, torch.tensor([False, True])])
    np.testing.assert_allclose(got.numpy(), a.numpy() * v.numpy()[:, None], rtol=1e-6)


def test_masks_flow_through_a_functional_model():
    x, y = rnnkit.Input((None, 3)), rnnkit.Input((None, 3))
    merged = layers.Multiply()([layers.Masking()(x), layers.Masking()(y)])
    model = rnnkit.Model([x, y], merged)
    a, b = _pair(4)
    a[1, 2:] = 0
    got = model([a, b])
    expected = torch.where(torch.arange(4)[None, :, None].expand(2, 4, 1) >= 2, 1.0, a)
    expected = torch.cat([a[:1], expected[1:]]) * b
    torch.testing.assert_close(got, expected)
    assert model._output_mask.all()


def test_concatenate_on_time_masks_a_recurrent_layer():
    spec = {"inputs": [{"name": "x", "shape": [None, 3]}, {"name": "y", "shape": [2, 3]}],
            "nodes": [["m", "Masking", {}, "x"], ["c", "Concatenate", {"axis": 1}, ["m", "y"]],
                      ["o", "GRU", {"units": 2}, "c"]],
            "outputs": ["o"]}
    model = layer_specs.build(spec, rnnkit)
    a, b = _pair(5)
    b = b[:, :2]
    a[0, 1:] = 0
    gru = model.layers[-1]
    dense = torch.cat([a[:1, :1], b[:1]], dim=1)  # the masked steps dropped by hand
    torch.testing.assert_close(model([a, b])[:1], gru(dense))


# -- functional forms and configs -----------------------------------------------------------------
@pytest.mark.parametrize("function, cls, kwargs", [
    ("concatenate", "Concatenate", {"axis": 1}), ("add", "Add", {}),
    ("subtract", "Subtract", {}), ("multiply", "Multiply", {}), ("average", "Average", {}),
    ("maximum", "Maximum", {}), ("minimum", "Minimum", {}),
    ("dot", "Dot", {"axes": 2, "normalize": True}),
])
def test_functional_forms(function, cls, kwargs):
    a, b = _pair(6)
    got = getattr(layers, function)([a, b], name="joined", **kwargs)
    torch.testing.assert_close(got, getattr(layers, cls)(**kwargs)([a, b]))
    x, y = rnnkit.Input((4, 3)), rnnkit.Input((4, 3))
    symbolic = getattr(layers, function)([x, y], **kwargs)
    layer = symbolic._keras_history[0]
    assert type(layer).__name__ == cls and layer.get_config() == {
        **getattr(layers, cls)(name=layer.name, **kwargs).get_config()}


def test_dot_default_axes_of_the_function():
    a, b = _pair(7, (2, 3))
    assert layers.dot([a, b]).shape == (2, 1)


def test_configs_match_keras_keys():
    assert layers.Concatenate(axis=1, name="c").get_config() == {
        "name": "c", "trainable": True, "dtype": "float32", "axis": 1}
    assert layers.Dot(axes=[1, 2], name="d").get_config() == {
        "name": "d", "trainable": True, "dtype": "float32", "axes": [1, 2], "normalize": False}
    assert layers.Add(name="a").get_config() == {"name": "a", "trainable": True,
                                                 "dtype": "float32"}


def test_a_graph_config_with_list_arguments_round_trips():
    x, y, z = (rnnkit.Input((4, 3), name=n) for n in "xyz")
    out = layers.Dense(1)(layers.Concatenate()([layers.Add()([x, y, z]), layers.Subtract()([x, z])]))
    model = rnnkit.Model([x, y, z], out)
    config = model.get_config()
    add = next(r for r in config["layers"] if r["class_name"] == "Add")
    args = add["inbound_nodes"][0]["args"][0]
    assert [a["config"]["keras_history"][0] for a in args] == ["x", "y", "z"]
    again = rnnkit.Model.from_config(config)
    again.set_weights(model.get_weights())
    data = [torch.randn(2, 4, 3) for _ in range(3)]
    torch.testing.assert_close(again(data), model(data))


def test_summary_connects_a_merge_to_each_input(capsys, monkeypatch):
    x, y = rnnkit.Input((4, 3), name="x"), rnnkit.Input((4, 3), name="y")
    rnnkit.Model([x, y], layers.Add(name="sum")([x, y])).summary()
    rows = [line for line in capsys.readouterr().out.splitlines() if "sum (Add)" in line]
    assert "x[0][0], y[0][0]" in rows[0]


def test_layer_order_with_mask_ops_of_one_branch():
    """Keras 3 records the ops computing masks as graph nodes; they deepen the masked branch,
    and so reorder model.layers (and the weights): rnnkit counts them too (layers.mask_ops)."""
    spec = {"inputs": [{"name": "y", "shape": [None, 3]}, {"name": "x", "shape": [None, 3]}],
            "nodes": [["sy", "GRU", {"units": 2, "return_sequences": True}, "y"],
                      ["mx", "Masking", {}, "x"],
                      ["sx", "LSTM", {"units": 3, "return_sequences": True}, "mx"],
                      ["m", "Concatenate", {}, ["sy", "sx"]], ["o", "LSTM", {"units": 4}, "m"]],
            "outputs": ["o"]}
    keras_order = ["x", "masking", "y", "lstm", "gru", "concatenate", "lstm_1"]  # Keras 3.15.1
    assert [layer.name for layer in layer_specs.build(spec, rnnkit).layers] == keras_order


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, inputs, message", [
    (lambda: layers.Add(), lambda: torch.ones(2, 3), "add: expected a list of tensors"),
    (lambda: layers.Add(), lambda: [], "add: expected a list of tensors, got 0"),
    (lambda: layers.Subtract(), lambda: [torch.ones(2, 3)] * 3,
     r"subtract: expected a list of 2 tensors, got 3 \(shapes \(2, 3\), \(2, 3\), \(2, 3\)\)"),
    (lambda: layers.Dot(axes=1), lambda: [torch.ones(2, 3)],
     "dot: expected a list of 2 tensors, got 1"),
    (lambda: layers.Add(), lambda: [torch.ones(2, 3), torch.ones(2, 4)],
     r"add: expected inputs whose shapes broadcast together .* got shapes \(2, 3\), \(2, 4\); "
     "sizes 3 and 4 do not match"),
    (lambda: layers.Maximum(), lambda: [torch.ones(2, 3), torch.ones(3, 3)],
     r"maximum: expected inputs with the same batch size, got shapes \(2, 3\), \(3, 3\)"),
    (lambda: layers.Concatenate(), lambda: [torch.ones(2, 4, 3), torch.ones(2, 5, 3)],
     r"concatenate: expected inputs whose sizes match on every axis but the concatenation axis "
     r"\(-1\), got shapes \(2, 4, 3\), \(2, 5, 3\); axis 1 has sizes \[4, 5\]"),
    (lambda: layers.Concatenate(axis=3), lambda: [torch.ones(2, 4, 3)] * 2,
     "concatenate: expected inputs of one rank with an axis 3"),
    (lambda: layers.Concatenate(), lambda: [torch.ones(2, 4, 3), torch.ones(2, 4)],
     "concatenate: expected inputs of one rank"),
    (lambda: layers.Dot(axes=2), lambda: [torch.ones(2, 4, 3), torch.ones(2, 4, 5)],
     r"dot: expected equal sizes on the axes of the dot product, got 3 \(axis 2 of \(2, 4, 3\)\) "
     r"and 5 \(axis 2 of \(2, 4, 5\)\)"),
    (lambda: layers.Dot(axes=0), lambda: [torch.ones(2, 3)] * 2,
     "dot: expected axes 0 to name an axis other than the batch axis"),
    (lambda: layers.Dot(axes=(1, 3)), lambda: [torch.ones(2, 3)] * 2,
     r"dot: expected axes \(1, 3\) to name an axis"),
    (lambda: layers.Dot(axes=1), lambda: [torch.ones(2), torch.ones(2)],
     "dot: expected two inputs of rank 2 or more"),
    (lambda: layers.Add(), lambda: [torch.ones(2, 3)] * 2 + [torch.tensor(1.0)],
     "add: expected tensors with a batch axis"),
])
def test_bad_inputs_are_refused(make, inputs, message):
    with pytest.raises(ValueError, match=message):
        make()(inputs())


def test_bad_symbolic_inputs_are_refused_at_the_call():
    x, y = rnnkit.Input((4, 3)), rnnkit.Input((5, 3))
    with pytest.raises(ValueError, match=r"add: .* got shapes \(None, 4, 3\), \(None, 5, 3\)"):
        layers.Add()([x, y])
    with pytest.raises(ValueError, match=r"expected a list of tensors, e.g. Average\(...\)"):
        layers.Average()(x)


def test_bad_masks_are_refused():
    a, b = _pair()
    with pytest.raises(ValueError, match="add: expected mask as a list with one mask"):
        layers.Add()([a, b], mask=MASK)
    with pytest.raises(ValueError, match="expected one mask .* got 1 masks for 2 inputs"):
        layers.Concatenate().compute_mask([a, b], [MASK])


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.Concatenate(axis=1.0), TypeError, "expected axis to be an integer"),
    (lambda: layers.Dot(axes="1"), TypeError, "expected axes as an integer or a pair"),
    (lambda: layers.Dot(axes=(1, 2, 3)), ValueError, "expected axes as an integer or a pair"),
    (lambda: layers.Dot(axes=(1, 2.0)), ValueError, "expected axes as an integer or a pair"),
    (lambda: layers.Dot(axes=1, normalize="yes"), TypeError, "expected normalize to be True"),
    (lambda: layers.Add(axis=1), TypeError, r"unexpected keyword argument\(s\) \['axis'\]"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()
