"""The calls that tests/data/make_keras_callbacks.py (with Keras) and tests/test_callbacks_more.py
(with rnnkit) make, given `lib` (keras or rnnkit): ModelCheckpoint with an integer save_freq
(which files exist after each hook) and TensorBoard (the scalars written: folder, tag, step),
both driven by hand with fixed logs so that the numbers do not depend on training."""

import os

import numpy as np

# Two epochs of 4 batches; the batch logs are the running values of each epoch.
BATCH_LOSSES = [[1.0, 0.8, 0.9, 0.7], [0.75, 0.6, 0.65, 0.5]]
VAL = [{"val_loss": 0.9}, {"val_loss": 0.55}]

CHECKPOINTS = {
    "every_3": {"filepath": "m-{epoch:02d}-{batch:03d}.keras", "save_freq": 3},
    "every_2_weights": {"filepath": "w-{epoch}-{batch}.weights.h5", "save_freq": 2,
                        "save_weights_only": True},
    "every_5_loss_name": {"filepath": "m-{epoch}-{loss:.2f}.keras", "save_freq": 5},
    "best_by_batch": {"filepath": "best-{epoch}-{batch}.keras", "save_freq": 1,
                      "monitor": "loss", "save_best_only": True},
}
BAD_PATHS = [{"filepath": "m.txt"}, {"filepath": "m.keras", "save_weights_only": True},
             {"filepath": "m.h5", "save_freq": "batch"}]

BOARDS = {"epoch": {}, "batch": {"update_freq": "batch"}, "every_3": {"update_freq": 3}}


def _model(lib):
    model = lib.Sequential([lib.Input((2,)), lib.layers.Dense(1)])
    model.compile(optimizer=lib.optimizers.SGD(0.125), loss="mse")
    return model


def drive(cb, model, validate=True):
    """fit's calls, with BATCH_LOSSES as the logs; yields (hook, epoch, batch) after each."""
    cb.set_model(model)
    cb.set_params({"verbose": 0, "epochs": 2, "steps": 4})
    cb.on_train_begin()
    for epoch, losses in enumerate(BATCH_LOSSES):
        cb.on_epoch_begin(epoch)
        for batch, loss in enumerate(losses):
            cb.on_train_batch_begin(batch)
            cb.on_train_batch_end(batch, {"loss": loss})
            yield "batch", epoch, batch
        logs = {"loss": losses[-1]}
        if validate:
            cb.on_test_begin()
            cb.on_test_batch_begin(0)
            cb.on_test_batch_end(0, dict(VAL[epoch]))
            cb.on_test_end({"loss": VAL[epoch]["val_loss"]})
            logs.update(VAL[epoch])
        cb.on_epoch_end(epoch, logs)
        yield "epoch", epoch, None
    cb.on_train_end()


def checkpoint_files(lib, folder, **kwargs):
    """[(hook, epoch, batch, sorted file names)] of ModelCheckpoint(**kwargs) writing in folder."""
    kwargs = dict(kwargs, filepath=os.path.join(folder, kwargs["filepath"]))
    cb = lib.callbacks.ModelCheckpoint(**kwargs)
    return [[hook, epoch, batch, sorted(os.listdir(folder))]
            for hook, epoch, batch in drive(cb, _model(lib))]


def bad_path_error(lib, **kwargs):
    try:
        lib.callbacks.ModelCheckpoint(**kwargs)
    except ValueError as e:
        return type(e).__name__
    return None


def as_rows(records):
    """(folder, tag, step, value) rows, sorted, values rounded to float32."""
    return sorted([folder, tag, int(step), float(np.float32(value))]
                  for folder, tag, step, value in records)
