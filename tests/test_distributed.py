"""Data-parallel fit/evaluate/predict: the scenarios of tests/distributed_worker.py on two CPU
processes under torchrun (gloo) against the same scenarios in this one process. The global
batches are the same (rank 0 draws the order from the same seed), so weights, histories,
evaluate and predict agree to float32 rounding; only rank 0 prints and writes."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.distributed as dist

import distributed_worker as worker
from rnnkit import layers, utils
from rnnkit.models import Sequential, distributed, load_model
from rnnkit.utils import clear_session

WORKER = Path(__file__).with_name("distributed_worker.py")
# Observed: 2e-7 at most, on the CPU and on CUDA (float32 rounding of per-rank means and of
# sums taken in another order).
ATOL = 1e-6


def _rank_log(logs: Path, rank: int, stream: str) -> str:
    found = sorted(logs.glob(f"**/attempt_*/{rank}/{stream}.log"))
    return found[-1].read_text() if found else f"<no {stream} log for rank {rank}>"


def _two_processes(folder: Path, logs: Path, mode: str = "cpu") -> dict[int, str]:
    """Run the worker on two processes; returns each rank's stdout."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
               "--standalone", "--log-dir", str(logs), "--redirects", "3", str(WORKER),
               str(folder), mode]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    if done.returncode != 0:
        ranks = "\n".join(f"--- rank {r} {s}:\n{_rank_log(logs, r, s)[-4000:]}"
                          for r in (0, 1) for s in ("stdout", "stderr"))
        pytest.fail(f"torchrun exited with {done.returncode}:\n{done.stderr[-3000:]}\n{ranks}")
    return {rank: _rank_log(logs, rank, "stdout") for rank in (0, 1)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    two, one = tmp_path_factory.mktemp("two"), tmp_path_factory.mktemp("one")
    stdout = _two_processes(two, tmp_path_factory.mktemp("logs"))
    with open(two / "results.pkl", "rb") as f:
        results = pickle.load(f)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the workers: the same kernels' blocking
    try:
        clear_session()
        reference = worker.scenarios(one, rank=0)
    finally:
        torch.set_num_threads(threads)
    return SimpleNamespace(two=results, one=reference, folder_two=two, folder_one=one,
                           stdout=stdout)


def _assert_weights_equal(actual, expected):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


def _assert_logs_equal(actual: dict, expected: dict):
    assert actual.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(actual[key], expected[key], rtol=1e-6, err_msg=key)


def test_fit_on_two_processes_equals_one_process(runs):
    """Shuffled epochs, global batches split 4 + 3 and 1 + nothing, validation: the same
    weights and History as one process."""
    two, one = runs.two["lstm"], runs.one["lstm"]
    _assert_weights_equal(two["weights"], one["weights"])
    _assert_logs_equal(two["history"], one["history"])
    assert len(two["history"]["val_loss"]) == 3


def test_masked_loss_and_penalties_are_weighted_as_in_one_process(runs):
    """The loss averaged over kept steps of the whole batch, activity and weight penalties,
    validation_split, and a second fit (a new wrapper) continuing the first."""
    two, one = runs.two["gru"], runs.one["gru"]
    _assert_weights_equal(two["weights"], one["weights"])
    for a, b in zip(two["history"], one["history"]):
        _assert_logs_equal(a, b)


def test_sample_and_class_weights_are_weighted_as_in_one_process(runs):
    """Per-step weights with a mask, weighted metrics, weighted validation data and evaluate,
    class weights: Keras's weighted loss divides by the samples (or kept steps), so each
    rank's part is weighed as without weights."""
    two, one = runs.two["weighted"], runs.one["weighted"]
    _assert_weights_equal(two["weights"], one["weights"])
    for a, b in zip(two["history"], one["history"]):
        _assert_logs_equal(a, b)
    assert "val_weighted_mae" in two["history"][0]
    _assert_logs_equal(two["evaluate"], one["evaluate"])


def test_train_and_test_on_batch_split_the_batch_they_get(runs):
    two, one = runs.two["simple_rnn"], runs.one["simple_rnn"]
    _assert_weights_equal(two["weights"], one["weights"])
    for a, b in zip(two["train"] + [two["test"]], one["train"] + [one["test"]]):
        _assert_logs_equal(a, b)


def test_evaluate_and_predict_equal_one_process(runs):
    two, one = runs.two["lstm"], runs.one["lstm"]
    _assert_logs_equal(two["evaluate"], one["evaluate"])
    assert two["predict"].shape == one["predict"].shape == (13, 1)
    np.testing.assert_allclose(two["predict"], one["predict"], rtol=0, atol=ATOL)
    assert runs.two["predict_equal_on_every_rank"]


def test_predict_uses_rank_0s_weights_not_a_stale_packed_copy(runs):
    """Rank 1 packed weights of its own before predict broadcast rank 0's over them (through
    .data, which does not bump their version): its half of the rows must still be rank 0's
    model's."""
    two, one = runs.two["packed"], runs.one["packed"]
    np.testing.assert_allclose(two["predict"], one["predict"], rtol=0, atol=ATOL)


def test_checkpoint_from_rank_0_resumes_in_one_process(runs):
    """Rank 0's last checkpoint holds the trained weights and optimizer state: one more epoch
    from it ends where one more epoch from the single-process checkpoint does."""
    x, y = worker.regression_data(36, seed=1)
    continued = []
    for folder in (runs.folder_two, runs.folder_one):
        model = load_model(folder / "ckpt-3-r0.rnnkit")
        _assert_weights_equal(model.get_weights(), runs.one["lstm"]["weights"])
        utils.set_random_seed(11)
        model.fit(x, y, batch_size=7, epochs=1, verbose=0)
        continued.append(model.get_weights())
    _assert_weights_equal(*continued)


def test_only_rank_0_prints_and_writes_files(runs):
    written = sorted(p.name for p in runs.folder_two.iterdir())
    assert written == ["callback-r0.rnnkit", "ckpt-1-r0.rnnkit", "ckpt-2-r0.rnnkit",
                       "ckpt-3-r0.rnnkit", "results.pkl"]
    assert runs.stdout[1] == ""
    lines = runs.stdout[0].splitlines()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert all(line.startswith("6/6 - ") and "val_loss" in line for line in lines[1::2])


def test_mismatched_calls_and_stateful_layers_are_refused_on_every_rank(runs):
    messages = runs.two["refusals"]
    assert sorted(messages) == ["epochs", "stateful"]  # verbose and callbacks may differ
    assert messages["epochs"] == ("ValueError: sequential_7.fit: every process must pass the "
                                  "same arguments; epochs is 1 on rank 0 but 2 on rank 1.")
    assert messages["stateful"].startswith("NotImplementedError: sequential_6.fit: layer lstm_2 "
                                           "is stateful (stateful=True)")


def test_one_process_keeps_the_single_process_path(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "1")
    model = Sequential([layers.Input((worker.T, 1)), layers.LSTM(4), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = worker.regression_data(10, seed=0)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert not distributed.requested()
    assert not dist.is_initialized() and model._dist is None


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shares_cut_each_global_batch_in_order(world):
    """Contiguous parts in rank order, sizes differing by at most one; an empty part stands in
    the batch's first sample with a count of 0."""
    session = distributed.Session.__new__(distributed.Session)
    session.world = world
    for size in range(1, 10):
        idx = torch.arange(100, 100 + size)
        parts = []
        for rank in range(world):
            session.rank = rank
            part, n = session.share(idx)
            assert n == len(part) or (n == 0 and part.tolist() == [100])
            parts.append(part[:n])
        assert torch.cat(parts).tolist() == idx.tolist()
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_model_in_the_users_process_group_equals_one_process(tmp_path):
    """Both ranks on the one GPU, in a gloo group the program started itself: DDP over CUDA
    weights, shares moved to the device, outputs gathered back."""
    _two_processes(tmp_path, tmp_path / "logs", mode="cuda")
    with open(tmp_path / "results.pkl", "rb") as f:
        two = pickle.load(f)["cuda"]
    clear_session()
    allow = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        one = worker.cuda_scenario()
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = allow
    _assert_weights_equal(two["weights"], one["weights"])
    _assert_logs_equal(two["history"], one["history"])
    np.testing.assert_allclose(two["predict"], one["predict"], rtol=0, atol=ATOL)


@pytest.mark.parametrize("make", [lambda: __import__("rnnkit").metrics.Precision(),
                                  lambda: __import__("rnnkit").metrics.AUC(num_thresholds=7),
                                  lambda: __import__("rnnkit").metrics.F1Score(average="macro"),
                                  lambda: __import__("rnnkit").metrics.Sum(),
                                  lambda: __import__("rnnkit").metrics.MeanSquaredError()])
def test_metric_states_summed_over_ranks_give_the_one_process_result(make):
    """What Session.logs does with each rank's metric state: the sums give the result of one
    process that saw every sample (two 'ranks' simulated by two metrics), and the metric keeps
    its own state."""
    rng = np.random.default_rng(0)
    y = torch.from_numpy((rng.random((8, 3)) > 0.5).astype(np.float32))
    p = torch.from_numpy(rng.random((8, 3)).astype(np.float32))
    ranks, whole = [make(), make()], make()
    ranks[0].update_state(y[:4], p[:4])
    ranks[1].update_state(y[4:], p[4:])
    whole.update_state(y, p)
    summed = [a + b for a, b in zip(distributed._state_values(ranks[0]),
                                    distributed._state_values(ranks[1]))]
    mine = np.asarray(ranks[0].result())
    np.testing.assert_allclose(distributed._result_from(ranks[0], summed), whole.result(),
                               rtol=1e-6)
    np.testing.assert_allclose(ranks[0].result(), mine)
