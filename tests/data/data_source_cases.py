"""The fits of tests/data/make_keras_data_sources.py (recorded with Keras 3 on JAX) and
tests/test_data_sources_keras.py (replayed with rnnkit): `run(lib, case, weights)` builds the
same small model with keras or rnnkit, sets the given weights, fits it from the case's data
source (a generator, a PyDataset, a torch DataLoader or arrays, with steps_per_epoch,
validation_steps, validation_freq, initial_epoch), then evaluates and predicts from the same
form, and returns what both libraries are compared on (History, steps trained per epoch, the
warnings given, final weights, evaluate's values and predict's outputs).

Data: 10 training samples (batches of 4, 4, 2) and 6 validation samples (4, 2), so that every
source has a partial batch. A validation generator cycles over its two batches: Keras restarts
each validation on the two batches it peeked at, rnnkit reads the generator on, and with two
batches a cycle both read the same ones.
"""

import warnings

N, VAL_N, T, F, BATCH = 10, 6, 4, 2, 4
RAN_OUT = "Your input ran out of data"
SHUFFLE_IGNORED = "`shuffle=True` was passed, but will be ignored"

CASES = {
    # an endless generator read on from epoch to epoch; Keras's shuffle warning (shuffle=True)
    "generator_steps": {"train": "generator", "steps_per_epoch": 2, "epochs": 3,
                        "val": "generator", "validation_steps": 2, "shuffle": True},
    # a generator of 5 batches, 2 an epoch: the third epoch has one, and Keras's warning
    "generator_runs_out": {"train": "generator", "count": 5, "steps_per_epoch": 2,
                           "epochs": 3, "cell": "LSTM", "optimizer": "adam"},
    # a finite generator without steps_per_epoch: one pass, then Keras warns it ran out
    "generator_one_pass": {"train": "generator", "count": 3, "epochs": 1},
    "pydataset": {"train": "pydataset", "epochs": 3, "val": "pydataset",
                  "validation_freq": 2, "optimizer": "adam"},
    # 3 batches, 2 an epoch: epochs read 2, 1 (warning), 2, 1 (warning) batches
    "pydataset_steps": {"train": "pydataset", "steps_per_epoch": 2, "epochs": 4,
                        "val": "arrays", "validation_freq": [1, 3], "cell": "LSTM"},
    "arrays_fewer_steps": {"train": "arrays", "steps_per_epoch": 2, "epochs": 3,
                           "val": "arrays", "validation_freq": 2, "optimizer": "adam",
                           "evaluate_steps": 2},
    # more steps than batches: every epoch reads the 3 batches and warns
    "arrays_more_steps": {"train": "arrays", "steps_per_epoch": 5, "epochs": 2,
                          "cell": "LSTM", "evaluate_steps": 5},
    "arrays_initial_epoch": {"train": "arrays", "epochs": 5, "initial_epoch": 2,
                             "val": "arrays", "validation_freq": 2},
    "dataloader": {"train": "dataloader", "epochs": 2, "val": "dataloader",
                   "optimizer": "adam", "cell": "LSTM"},
    "dataloader_steps": {"train": "dataloader", "steps_per_epoch": 2, "epochs": 3,
                         "val": "dataloader", "validation_steps": 1, "validation_freq": [2, 3]},
}


def arrays(np, rng):
    """x, y, x_val, y_val of the fixture (float32)."""
    def normal(*shape):
        return rng.normal(size=shape).astype("float32")
    return normal(N, T, F), normal(N, 1), normal(VAL_N, T, F), normal(VAL_N, 1)


def build(lib, case):
    spec = CASES[case]
    cell = getattr(lib.layers, spec.get("cell", "GRU"))
    return lib.Sequential([lib.Input((T, F)), cell(3), lib.layers.Dense(1)])


def _batches(x, y=None):
    return [(x[i:i + BATCH],) if y is None else (x[i:i + BATCH], y[i:i + BATCH])
            for i in range(0, len(x), BATCH)]


def source(lib, torch, kind, x, y=None, count=None):
    """fit's x (and the keywords that go with it) for one form of data."""
    parts = _batches(x, y)
    if kind == "arrays":
        return {"x": x, "batch_size": BATCH, **({} if y is None else {"y": y})}
    if kind == "generator":
        def cycle():
            i = 0
            while count is None or i < count:
                yield parts[i % len(parts)]
                i += 1
        return {"x": cycle()}
    if kind == "pydataset":
        class Batches(lib.utils.PyDataset):
            def __len__(self):
                return len(parts)

            def __getitem__(self, index):
                return parts[index]
        return {"x": Batches()}
    tensors = [torch.tensor(a) for a in (x, y) if a is not None]
    return {"x": torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*tensors),
                                             batch_size=BATCH, shuffle=False)}


def compile_model(lib, model, case):
    spec = CASES[case]
    optimizer = (lib.optimizers.Adam(0.01) if spec.get("optimizer") == "adam"
                 else lib.optimizers.SGD(0.1))
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])


def _validation(lib, torch, spec, x_val, y_val):
    kind = spec.get("val")
    if kind is None:
        return {}
    given = source(lib, torch, kind, x_val, y_val)
    data = (x_val, y_val) if kind == "arrays" else given["x"]
    kw = {"validation_data": data}
    for key in ("validation_steps", "validation_freq"):
        if key in spec:
            kw[key] = spec[key]
    return kw


def _count(caught, prefix):
    return sum(str(w.message).startswith(prefix) for w in caught)


class _StepCounter:
    """Counts the training batches of each epoch (on_train_batch_end), for either library."""

    def __init__(self, base):
        self.per_epoch = []
        counter = self

        class Counter(base):
            def on_epoch_begin(self, epoch, logs=None):
                counter.per_epoch.append(0)

            def on_train_batch_end(self, batch, logs=None):
                counter.per_epoch[-1] += 1
        self.callback = Counter()


def run(lib, torch, np, case, weights, data):
    """fit, evaluate and predict of the case; a dict of plain values and arrays."""
    spec = CASES[case]
    x, y, x_val, y_val = data
    model = build(lib, case)
    model.set_weights(weights)
    compile_model(lib, model, case)
    counter = _StepCounter(lib.callbacks.Callback)
    fit_kw = {k: spec[k] for k in ("steps_per_epoch", "epochs", "initial_epoch") if k in spec}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(**source(lib, torch, spec["train"], x, y, spec.get("count")),
                            shuffle=spec.get("shuffle", False), verbose=0,
                            callbacks=[counter.callback],
                            **_validation(lib, torch, spec, x_val, y_val), **fit_kw)
    fit_warnings = {"ran_out": _count(caught, RAN_OUT),
                    "shuffle_ignored": _count(caught, SHUFFLE_IGNORED)}
    kind = "arrays" if spec["train"] == "arrays" else spec["train"]
    steps = {"steps": spec["evaluate_steps"]} if "evaluate_steps" in spec else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluated = model.evaluate(**source(lib, torch, kind, x, y, 3), verbose=0,
                                   return_dict=True, **steps)
        predicted = model.predict(**source(lib, torch, kind, x, None, 3), verbose=0, **steps)
    return {"history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            "epoch": [int(e) for e in history.epoch],
            "steps_per_epoch": counter.per_epoch, "fit_warnings": fit_warnings,
            "evaluate_ran_out": _count(caught, RAN_OUT),
            "evaluate": {k: float(v) for k, v in evaluated.items()},
            "predict": np.asarray(predicted),
            "weights": [np.asarray(w) for w in model.get_weights()]}
