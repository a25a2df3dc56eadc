"""Session-wide setup: one decision about Triton's interpreter, the compiled core required in
CI, the Keras golden data as a fixture, and a fresh naming session and seed for every test.
Shared helpers live in tests/helpers.py."""

from __future__ import annotations

import os

import torch

# Decided once, before any test module imports triton: without CUDA the Triton kernels run in
# its interpreter on CPU tensors; with CUDA they run compiled, on CUDA tensors.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402

from helpers import IN_CI, Golden  # noqa: E402
from rnnkit.backends import native  # noqa: E402
from rnnkit.utils import clear_session  # noqa: E402


def pytest_sessionstart(session):
    if IN_CI and not native.available():
        raise pytest.UsageError("CI=true and rnnkit's compiled core is not installed: the native "
                                "tests would all be skipped. Build it (pip install -e .) first.")


@pytest.fixture(scope="session")
def golden() -> Golden:
    return Golden()


@pytest.fixture(autouse=True)
def fresh_session():
    """Every test starts with Keras-style default names ("lstm", "dense") and a fixed seed."""
    clear_session()
    torch.manual_seed(0)
    yield
