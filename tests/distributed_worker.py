"""Trains, evaluates and predicts under torchrun (tests/test_distributed.py launches it on two
CPU processes); the test runs the same scenarios in one process and compares.

    python -m torch.distributed.run --nproc_per_node=2 --standalone \
        tests/distributed_worker.py OUTPUT_FOLDER [cpu|cuda]

Rank 0 pickles what every scenario returned to OUTPUT_FOLDER/results.pkl; nothing here prints.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import torch

from rnnkit import callbacks, layers, optimizers, utils
from rnnkit.models import Sequential

T = 6


def regression_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, T, 1)).astype("float32")
    y = (0.3 * x.sum(axis=1) + 0.1 * rng.standard_normal((n, 1))).astype("float32")
    return x, y


def padded_data(n: int, seed: int):
    """Right-padded sequences (zeros after each row's length) and a target per step."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, T, 1)).astype("float32") + 2.0
    lengths = rng.integers(2, T + 1, size=n)
    x[np.arange(T)[None, :] >= lengths[:, None]] = 0.0
    return x, (0.1 * np.cumsum(x, axis=1)).astype("float32")


def lstm_scenario(folder: Path, rank: int) -> dict:
    """The seed's model: 36 samples in global batches of 7 (five of 7, split 4 + 3, and one of
    1, whose second share is empty), validation and evaluate in batches of 5 (3 + 2, 2 + 1),
    predict in batches of 4; a checkpoint per epoch and a model.save inside a callback, both
    named after the rank that writes them."""
    x, y = regression_data(36, seed=1)
    x_val, y_val = regression_data(13, seed=2)
    utils.set_random_seed(7)
    model = Sequential([layers.Input((T, 1)), layers.LSTM(16), layers.Dense(1)])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    saver = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: model.save(folder / f"callback-r{rank}.rnnkit"))
    checkpoint = callbacks.ModelCheckpoint(str(folder / f"ckpt-{{epoch}}-r{rank}.rnnkit"),
                                           monitor="val_loss")
    history = model.fit(x, y, batch_size=7, epochs=3, shuffle=True, verbose=2,
                        validation_data=(x_val, y_val), validation_batch_size=5,
                        callbacks=[checkpoint, saver])
    return {"weights": model.get_weights(), "history": history.history,
            "evaluate": model.evaluate(x_val, y_val, batch_size=5, verbose=0, return_dict=True),
            "predict": model.predict(x_val, batch_size=4, verbose=0)}


def masked_gru_scenario() -> dict:
    """A masked sequence output (the loss averages over kept steps) with an activity and a
    weight penalty; fit twice (the second fit wraps the model anew); 23 samples in batches
    of 5: 16 train (3 + 2, and 1 + nothing), 7 validation (3 + 2, 1 + 1)."""
    x, y = padded_data(23, seed=3)
    utils.set_random_seed(8)
    model = Sequential([layers.Input((T, 1)), layers.Masking(0.0),
                        layers.GRU(8, return_sequences=True, activity_regularizer="l1"),
                        layers.Dense(1, kernel_regularizer="l2")])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    first = model.fit(x, y, batch_size=5, epochs=1, verbose=0, validation_split=0.3)
    second = model.fit(x, y, batch_size=5, epochs=3, initial_epoch=1, verbose=0,
                       validation_split=0.3)
    return {"weights": model.get_weights(), "history": [first.history, second.history]}


def weighted_scenario() -> dict:
    """Per-step weights on a masked sequence output, weighted metrics, validation data with its
    own weights; then class weights on a classifier. 17 samples in batches of 6 (3 + 3, and
    3 + 2), validation in batches of 4."""
    x, y = padded_data(17, seed=11)
    rng = np.random.default_rng(12)
    weights = rng.uniform(0.1, 2.0, size=(17, T)).astype("float32")
    utils.set_random_seed(13)
    model = Sequential([layers.Input((T, 1)), layers.Masking(0.0),
                        layers.LSTM(6, return_sequences=True), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    steps = model.fit(x[:12], y[:12], sample_weight=weights[:12], batch_size=6, epochs=2,
                      verbose=0, validation_data=(x[12:], y[12:], weights[12:]),
                      validation_batch_size=4)
    labels = (x[:, :, 0].sum(axis=1) > 8).astype("int64") + (x[:, 0, 0] > 2.5)
    classifier = Sequential([layers.Input((T, 1)), layers.GRU(5),
                             layers.Dense(3, activation="softmax")])
    classifier.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                       metrics=["accuracy"], weighted_metrics=["accuracy"])
    classes = classifier.fit(x, labels, class_weight={0: 1.0, 1: 3.0, 2: 0.5}, batch_size=6,
                             epochs=2, verbose=0)
    return {"weights": model.get_weights() + classifier.get_weights(),
            "history": [steps.history, classes.history],
            "evaluate": model.evaluate(x, y, sample_weight=weights, batch_size=5, verbose=0,
                                       return_dict=True)}


def simple_rnn_on_batches() -> dict:
    """train_on_batch and test_on_batch split the batch they get like fit splits a global one."""
    x, y = regression_data(9, seed=4)
    utils.set_random_seed(9)
    model = Sequential([layers.Input((T, 1)), layers.SimpleRNN(8), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    trained = [model.train_on_batch(x, y, return_dict=True) for _ in range(2)]
    return {"weights": model.get_weights(), "train": trained,
            "test": model.test_on_batch(x, y, return_dict=True)}


def packed_weights_scenario(rank: int) -> dict:
    """Each rank draws weights of its own and runs the native loop on them once (which packs
    them); predict then broadcasts rank 0's weights, and every rank must compute its share of
    the rows with those, not with the panels packed from its own."""
    x, _ = regression_data(10, seed=6)
    utils.set_random_seed(10 + rank)
    model = Sequential([layers.Input((T, 1)), layers.GRU(8), layers.Dense(1)])
    model(torch.from_numpy(x))
    return {"predict": model.predict(x, batch_size=10, verbose=0)}


def scenarios(folder: Path, rank: int) -> dict:
    return {"lstm": lstm_scenario(folder, rank), "gru": masked_gru_scenario(),
            "simple_rnn": simple_rnn_on_batches(), "weighted": weighted_scenario(),
            "packed": packed_weights_scenario(rank)}


def cuda_scenario() -> dict:
    """The seed's model on the GPU (weights moved before they are built), in the process group
    the worker started itself; TF32 off, so that batch shares round as float32 does."""
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    x, y = regression_data(36, seed=1)
    utils.set_random_seed(7)
    model = Sequential([layers.Input((T, 1)), layers.LSTM(16), layers.Dense(1)]).to("cuda")
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, batch_size=7, epochs=2, verbose=0, validation_split=0.25)
    return {"weights": model.get_weights(), "history": history.history,
            "predict": model.predict(x, batch_size=4, verbose=0)}


def refusals(rank: int) -> dict:
    """Errors every rank raises alike, before any collective could hang (and a call whose
    differences are allowed)."""
    messages = {}
    x, y = regression_data(8, seed=5)
    stateful = Sequential([layers.Input((T, 1), batch_size=4), layers.LSTM(4, stateful=True),
                           layers.Dense(1)])
    stateful.compile(optimizer="adam", loss="mse")
    model = Sequential([layers.Input((T, 1)), layers.LSTM(4), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    calls = {"stateful": lambda: stateful.fit(x, y, batch_size=4, verbose=0),
             "epochs": lambda: model.fit(x, y, epochs=1 + rank, verbose=0),
             # allowed to differ: rank 1's progress bar stays silent all the same
             "verbose": lambda: model.fit(x, y, verbose=2 * rank, callbacks=[] if rank else None)}
    for name, call in calls.items():
        try:
            call()
        except (ValueError, NotImplementedError) as exc:
            messages[name] = f"{type(exc).__name__}: {exc}"
    return messages


def main(folder: Path, mode: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    if mode == "cuda":  # one GPU: both ranks on it, over gloo (nccl needs a GPU per rank)
        dist.init_process_group("gloo")
        results = {"cuda": cuda_scenario()}
    else:  # rnnkit starts the process group
        results = scenarios(folder, rank)
        everyone = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, results["lstm"]["predict"])
        results["predict_equal_on_every_rank"] = all(
            np.array_equal(p, everyone[0]) for p in everyone)
        results["refusals"] = refusals(rank)
    if rank == 0:
        with open(folder / "results.pkl", "wb") as f:
            pickle.dump(results, f)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "cpu")
