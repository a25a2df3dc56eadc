"""What the test files share: the Keras golden data (made by tests/data/make_keras_fixtures.py),
comparisons, the same layer on two backends, and the marker for tests that need the compiled
core (in CI, where CI=true, a missing core fails the run instead: see conftest.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.backends import native

DATA = Path(__file__).parent / "data"
# Where the Triton kernels run in this session: compiled on CUDA, else interpreted on the CPU
# (conftest.py sets TRITON_INTERPRET accordingly, once).
TRITON_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Skips only where rnnkit was installed without its compiled core and this is not CI.
needs_native = pytest.mark.skipif(not native.available() and not IN_CI,
                                  reason="rnnkit installed without its compiled core")


class Golden:
    def __init__(self):
        self.meta = json.loads((DATA / "keras_golden.json").read_text())
        self.arrays = np.load(DATA / "keras_golden.npz")

    def __getitem__(self, key):
        return self.arrays[key]

    def seq(self, prefix, n):
        return [self.arrays[f"{prefix}{i}"] for i in range(n)]


class FunctionalGolden(Golden):
    """Keras's numbers for graphs, subclassed models and cells (tests/data/
    make_keras_functional.py); arrays are numbered from 0: all(prefix) gives every one."""

    def __init__(self):
        self.meta = json.loads((DATA / "keras_functional.json").read_text())
        self.arrays = np.load(DATA / "keras_functional.npz")

    def has(self, key):
        return key in self.arrays.files

    def count(self, prefix):
        n = 0
        while self.has(f"{prefix}{n}"):
            n += 1
        return n

    def all(self, prefix):
        return self.seq(prefix, self.count(prefix))


# Keras 3 records the ops that compute a Masking layer's mask as graph nodes of their own; rnnkit
# computes masks as the graph runs, so its tables leave these rows out.
KERAS_MASK_OPS = ("(NotEqual)", "(Any)")


def keras_table_rows(summary: str, drop=KERAS_MASK_OPS) -> list[tuple[str, str, str]]:
    """(layer, output shape, parameters) of each row of a summary table, a cell's wrapped lines
    joined, and the rows whose type is in `drop` left out."""
    rows, current = [], None
    for line in summary.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")][:3]
            current = cells if current is None else [
                f"{a} {b}".strip() for a, b in zip(current, cells)]
        elif current is not None:
            rows.append(tuple(current))
            current = None
    return [row for row in rows if not row[0].endswith(drop)]


@pytest.fixture(autouse=False)
def fresh_names():
    """Keras's default names from the start ("lstm", not "lstm_7"), as a new session has them;
    a test file makes it autouse by `pytestmark = pytest.mark.usefixtures("fresh_names")`."""
    from rnnkit.utils import clear_session
    clear_session()
    yield
    clear_session()


def shapes(structure):
    """The shapes of a (nested) list of arrays, as lists."""
    if isinstance(structure, (list, tuple)):
        return [shapes(s) for s in structure]
    return list(structure.shape)


def flat(structure):
    if isinstance(structure, (list, tuple)):
        return [leaf for s in structure for leaf in flat(s)]
    return [structure]


def one_or_list(arrays):
    return arrays[0] if len(arrays) == 1 else arrays


class KerasLayerCases:
    """The cases Keras recorded in tests/data/keras_layers/<area>.json and .npz (made by
    tests/data/make_keras_layers_<area>.py): each a model spec (tests/data/layer_specs.py) with
    Keras's summary, names, weights, predictions, training steps and files."""

    folder = DATA / "keras_layers"

    def __init__(self):
        self.areas = {path.stem: json.loads(path.read_text())
                      for path in sorted(self.folder.glob("*.json"))}
        self._arrays = {area: np.load(self.folder / f"{area}.npz") for area in self.areas}
        self.all = [(area, name) for area, info in self.areas.items() for name in info["cases"]]

    def meta(self, area, name) -> dict:
        return self.areas[area]["cases"][name]

    def arrays(self, area, name, prefix) -> list:
        """<name>/<prefix>0, <name>/<prefix>1, ... of the area's arrays."""
        found, files = [], self._arrays[area].files
        while f"{name}/{prefix}{len(found)}" in files:
            found.append(self._arrays[area][f"{name}/{prefix}{len(found)}"])
        return found

    def model(self, area, name, weights=True):
        """The case's model built by rnnkit from its spec, with Keras's initial weights."""
        import rnnkit
        if str(DATA) not in sys.path:  # layer_specs lives with the fixture scripts
            sys.path.insert(0, str(DATA))
        import layer_specs

        model = layer_specs.build(self.meta(area, name)["spec"], rnnkit)
        if weights:
            model.set_weights(self.arrays(area, name, "w"))
        return model


LAYER_CASES = KerasLayerCases()


def summary_of(model, monkeypatch, capsys, columns, **kwargs):
    """model.summary()'s text with the terminal `columns` wide."""
    monkeypatch.setenv("COLUMNS", columns)
    capsys.readouterr()
    model.summary(**kwargs)
    return capsys.readouterr().out


def assert_close(actual, expected, tol=2e-5):
    actual = actual.detach().cpu().numpy() if torch.is_tensor(actual) else np.asarray(actual)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def assert_compiled_matches_eager(model, x):
    """torch.compile(model, fullgraph=True): the same outputs and parameter gradients as eager."""
    compiled = torch.compile(model, fullgraph=True)
    torch.testing.assert_close(compiled(x), model(x))
    grads = []
    for fn in (model, compiled):
        model.zero_grad(set_to_none=True)
        fn(x).square().sum().backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


def twin_layers(cls, backends, units, spread, device="cpu", **kwargs):
    """The same recurrent layer once per backend: weights (biases too) drawn uniformly in
    ±spread for the first and copied to the others, 3 input features, on `device`."""
    from rnnkit import layers

    torch.manual_seed(0)
    made = [getattr(layers, cls)(units, backend=b, **kwargs).to(device) for b in backends]
    for layer in made:
        layer.build((None, None, 3))
    with torch.no_grad():
        for w in made[0].weights:
            w.uniform_(-spread, spread)
    for layer in made[1:]:
        layer.set_weights(made[0].get_weights())
    return made


def outputs_and_grads(layer, x, initial_state=None, **call):
    """The layer's outputs, then the gradients of Σ o·cos(o) over them with respect to x, the
    layer's weights and any initial states."""
    out = layer(x, initial_state=initial_state, **call)
    out = out if isinstance(out, list) else [out]
    grads = torch.autograd.grad(sum((o * torch.cos(o)).sum() for o in out),
                                [x, *layer.weights, *(initial_state or [])])
    return [o.detach() for o in out] + list(grads)


def _symbolic_inputs(input_shape, dtype):
    """Input(s) for a layer contract: a shape, a list of shapes (one list argument) or a dict of
    shapes (keyword arguments); shapes include the batch axis (None)."""
    import rnnkit
    if isinstance(input_shape, dict):
        return {k: _symbolic_inputs(s, dtype) for k, s in input_shape.items()}
    if isinstance(input_shape, list):
        return [_symbolic_inputs(s, dtype) for s in input_shape]
    return rnnkit.Input(tuple(input_shape[1:]), dtype=dtype)


def _data_like(input_shape, dtype, batch=2, time=4, generator=None):
    if isinstance(input_shape, dict):
        return {k: _data_like(s, dtype, batch, time, generator) for k, s in input_shape.items()}
    if isinstance(input_shape, list):
        return [_data_like(s, dtype, batch, time, generator) for s in input_shape]
    shape = (batch,) + tuple(time if d is None else d for d in input_shape[1:])
    if dtype.startswith("int"):
        return torch.randint(1, 5, shape, generator=generator)
    return torch.randn(shape, generator=generator)


def _call(layer, inputs, call_kwargs):
    if isinstance(inputs, dict):
        return layer(**inputs, **call_kwargs)
    return layer(inputs, **call_kwargs)


def _concrete(shape, like):
    return tuple(like[i] if d is None else d for i, d in enumerate(shape))


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape, *,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   supports_masking=False, input_dtype="float32", call_kwargs=None,
                   input_data=None, input_mask=None, expected_mask=None, saveable=True,
                   run_training_check=True):
    """The contract every layer keeps, as Keras's run_layer_test checks it.

    Args:
        input_shape: with the batch axis (None), e.g. (None, 5, 3); a list of shapes for a layer
            taking a list (merging), a dict of shapes for keyword arguments (query=, value=).
        expected_output_shape: the symbolic output shape (batch None; None where any size goes).
        input_mask: a (batch, time) boolean tensor for input_data (or the first of its inputs);
            expected_mask: the output mask then expected (None: none).

    Checks: config round trip (class and `layers.deserialize`), the symbolic call and
    compute_output_shape, weight counts, an eager call of the same shape and the same values as
    the Functional model around the layer, masks passed or dropped, rnnkit's own file, and one
    training step that moves every trainable weight and reaches the inputs' gradients.
    Returns the Functional model around the layer.
    """
    import tempfile

    import rnnkit
    from rnnkit import layers

    call_kwargs = dict(call_kwargs or {})
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config
    assert layers.deserialize(layers.serialize(layer)).get_config() == config
    assert layer.supports_masking == supports_masking

    inputs = _symbolic_inputs(input_shape, input_dtype)
    outputs = _call(layer, inputs, call_kwargs)
    assert tuple(outputs.shape) == tuple(expected_output_shape)
    if not isinstance(input_shape, dict):  # keyword-argument layers: the symbolic call says
        assert tuple(layer.compute_output_shape(input_shape)) == tuple(expected_output_shape)
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    model = rnnkit.Model(inputs, outputs)

    data = input_data if input_data is not None else _data_like(
        input_shape, input_dtype, generator=torch.Generator().manual_seed(0))
    if input_mask is not None:
        tree_first(data)._keras_mask = input_mask
    eager = _call(layer, data, call_kwargs)
    assert tuple(eager.shape) == _concrete(expected_output_shape, eager.shape)
    mask = getattr(eager, "_keras_mask", None)
    if expected_mask is None:
        assert mask is None
    else:
        assert torch.equal(mask, expected_mask)
    if input_mask is None:
        torch.testing.assert_close(model(data), eager)

    if saveable:
        with tempfile.TemporaryDirectory() as folder:
            model.save(f"{folder}/model.rnnkit")
            loaded = rnnkit.models.load_model(f"{folder}/model.rnnkit")
        torch.testing.assert_close(loaded(data), model(data))

    if run_training_check and input_dtype.startswith("float"):
        before = [w.detach().clone() for w in layer.trainable_weights]
        model.compile(optimizer="sgd", loss="mean_squared_error")
        # a dict of inputs flattens as the model's inputs do: by sorted key
        x = [data[k] for k in sorted(data)] if isinstance(data, dict) else data
        target = torch.randn(eager.shape, generator=torch.Generator().manual_seed(1))
        loss = model.train_on_batch(x, target)  # (targets drawn apart from the inputs)
        assert np.isfinite(loss)
        for old, new in zip(before, layer.trainable_weights):
            assert not torch.equal(old, new.detach()), "a trainable weight did not move"
    return model


def tree_first(structure):
    if isinstance(structure, dict):
        return tree_first(next(iter(structure.values())))
    if isinstance(structure, (list, tuple)):
        return tree_first(structure[0])
    return structure
