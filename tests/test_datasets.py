"""Generated long-memory tasks: their definitions, and that the answer lies `lag` steps back."""

import numpy as np
import pytest

from rnnkit.datasets import adding_problem, copy_task


def test_adding_problem_by_definition():
    x, y = adding_problem(50, 30, lag=20, seed=1)
    assert x.shape == (50, 30, 2) and y.shape == (50, 1) and x.dtype == np.float32
    marks = x[..., 1]
    assert (marks.sum(1) == 2).all()
    first = marks.argmax(1)
    assert (first == 10).all()  # lag 20 before the end of 30 steps
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * marks).sum(1), rtol=1e-6)
    # the chance level: predicting the mean target
    _, y = adding_problem(20000, 30, seed=2)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.01)


def test_adding_problem_default_marks_the_first_half():
    x, _ = adding_problem(200, 40, seed=3)
    first = x[..., 1].argmax(1)
    assert first.max() < 20 and len(set(first.tolist())) > 5
    assert np.array_equal(adding_problem(5, 40, seed=3)[0], adding_problem(5, 40, seed=3)[0])


def test_copy_task_by_definition():
    x, y = copy_task(6, length=4, lag=7, symbols=5, seed=0)
    assert x.shape == (6, 15, 7) and y.shape == (6, 15)
    ids = x.argmax(-1)
    np.testing.assert_array_equal(y[:, -4:], ids[:, :4])  # the symbols come back, in order
    assert (ids[:, 4:10] == 0).all() and (ids[:, 10] == 6).all()  # blanks, then the delimiter
    assert (y[:, :11] == 0).all() and ((y[:, -4:] >= 1) & (y[:, -4:] <= 5)).all()


def test_a_lag_out_of_range_is_refused():
    with pytest.raises(ValueError, match="expected lag an integer from 2 to 30, got 31"):
        adding_problem(2, 30, lag=31)
