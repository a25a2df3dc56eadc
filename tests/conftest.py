"""Shared fixtures: the Keras golden data (made by tests/data/make_keras_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.utils import clear_session

DATA = Path(__file__).parent / "data"


class Golden:
    def __init__(self):
        self.meta = json.loads((DATA / "keras_golden.json").read_text())
        self.arrays = np.load(DATA / "keras_golden.npz")

    def __getitem__(self, key):
        return self.arrays[key]

    def seq(self, prefix, n):
        return [self.arrays[f"{prefix}{i}"] for i in range(n)]


@pytest.fixture(scope="session")
def golden() -> Golden:
    return Golden()


@pytest.fixture(autouse=True)
def fresh_session():
    """Every test starts with Keras-style default names ("lstm", "dense") and a fixed seed."""
    clear_session()
    torch.manual_seed(0)
    yield


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
