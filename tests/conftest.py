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
