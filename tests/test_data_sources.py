"""fit, evaluate and predict fed by a generator, a PyDataset, a torch DataLoader or Dataset: the
same steps as arrays cut into the same batches (the independent reference), Keras's
steps_per_epoch / validation_steps / steps / validation_freq, and one clear error for what
cannot train."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import layers
from rnnkit.models import Sequential
from rnnkit.utils import PyDataset
from rnnkit.utils.progbar import Progbar

BATCH, N = 4, 12


def data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, 5, 2)).astype(np.float32),
            rng.standard_normal((N, 1)).astype(np.float32))


def model():
    torch.manual_seed(0)
    m = Sequential([layers.Input((5, 2)), layers.GRU(3), layers.Dense(1)])
    m.compile("adam", "mse")
    return m


def batches(x, y, size=BATCH):
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


class Batches(PyDataset):
    def __init__(self, x, y, **kwargs):
        super().__init__(**kwargs)
        self.parts, self.epochs_ended = batches(x, y), 0

    def __len__(self):
        return len(self.parts)

    def __getitem__(self, index):
        return self.parts[index]

    def on_epoch_end(self):
        self.epochs_ended += 1


def fitted(source_or_x, y=None, **kwargs):
    m = model()
    history = m.fit(source_or_x, y, verbose=0, **kwargs)
    return m, history.history


def assert_same_training(a, b):
    (ma, ha), (mb, hb) = a, b
    assert ha.keys() == hb.keys()
    for key in ha:
        np.testing.assert_allclose(ha[key], hb[key], rtol=1e-6)
    for wa, wb in zip(ma.get_weights(), mb.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_dataloader_fit_equals_array_fit_on_the_same_batches():
    x, y = data()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        torch.from_numpy(x), torch.from_numpy(y)), batch_size=BATCH, shuffle=False)
    assert_same_training(fitted(loader, epochs=2),
                         fitted(x, y, batch_size=BATCH, epochs=2, shuffle=False))


def test_torch_dataset_is_batched_with_batch_size():
    x, y = data()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    assert_same_training(fitted(dataset, batch_size=3, shuffle=False, epochs=2),
                         fitted(x, y, batch_size=3, epochs=2, shuffle=False))


def test_pydataset_fit_equals_array_fit_and_ends_each_epoch():
    x, y = data()
    dataset = Batches(x, y)
    assert_same_training(fitted(dataset, epochs=3, shuffle=False),
                         fitted(x, y, batch_size=BATCH, epochs=3, shuffle=False))
    assert dataset.epochs_ended == 3


def test_pydataset_shuffle_reorders_whole_batches():
    x, y = data()
    seen = []

    class Recording(Batches):
        def __getitem__(self, index):
            seen.append(index)
            return super().__getitem__(index)

    torch.manual_seed(3)
    model().fit(Recording(x, y), epochs=4, verbose=0)  # shuffle=True by default
    epochs = [seen[i:i + 3] for i in range(0, 12, 3)]
    assert all(sorted(e) == [0, 1, 2] for e in epochs)
    assert any(e != [0, 1, 2] for e in epochs)


def test_generator_with_steps_per_epoch_continues_across_epochs():
    x, y = data()
    parts = batches(x, y, size=2)  # six batches, three per epoch over two epochs
    reference = model()
    for epoch_parts in (parts[:3], parts[3:]):
        reference.fit(np.concatenate([p[0] for p in epoch_parts]),
                      np.concatenate([p[1] for p in epoch_parts]), batch_size=2, shuffle=False,
                      verbose=0)
    ours, history = fitted(iter(parts), steps_per_epoch=3, epochs=2)
    for a, b in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert len(history["loss"]) == 2


def test_a_generator_that_runs_out_ends_training():
    x, y = data()
    _, history = fitted((b for b in batches(x, y)), epochs=5)
    assert len(history["loss"]) == 1  # the first epoch read all three batches; then none


def test_evaluate_and_predict_from_sources_with_steps():
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, verbose=0)
    full = m.evaluate(x, y, batch_size=BATCH, verbose=0)
    assert m.evaluate(Batches(x, y), verbose=0) == pytest.approx(full, rel=1e-6)
    first_two = m.evaluate(x[:8], y[:8], batch_size=BATCH, verbose=0)
    assert m.evaluate(iter(batches(x, y)), steps=2, verbose=0) == pytest.approx(first_two,
                                                                                   rel=1e-6)
    np.testing.assert_allclose(m.predict((b[0] for b in batches(x, y)), verbose=0),
                               m.predict(x, verbose=0), rtol=1e-6)


def test_validation_freq_and_validation_steps():
    x, y = data()
    _, every_second = fitted(x, y, epochs=4, validation_data=(x, y), validation_freq=2)
    _, listed = fitted(x, y, epochs=4, validation_data=(x, y), validation_freq=[1, 4])
    assert len(every_second["val_loss"]) == 2 and len(listed["val_loss"]) == 2
    _, from_source = fitted(x, y, epochs=1, validation_data=iter(batches(x, y)),
                            validation_steps=1)
    reference = model()
    reference.fit(x, y, epochs=1, verbose=0)
    assert from_source["val_loss"][0] == pytest.approx(
        reference.evaluate(x[:BATCH], y[:BATCH], verbose=0), rel=1e-6)


@pytest.mark.parametrize("call, error, match", [
    (lambda m, x, y: m.fit(iter(batches(x, y)), y), ValueError, "when providing `x` as a "
     "generator, `y` should not be passed"),
    (lambda m, x, y: m.fit(iter([])), ValueError, "the data gave no batch"),
    (lambda m, x, y: m.fit(Batches(x, y), validation_split=0.5), ValueError,
     "validation_split needs arrays"),
    (lambda m, x, y: m.fit(iter([(x, y, np.ones(N - 1))])), ValueError, "expected "
     "sample_weight with one entry per sample"),
    (lambda m, x, y: m.fit(x, y, validation_freq=0), ValueError, "validation_freq"),
    (lambda m, x, y: m.fit(iter(batches(x, y)), steps_per_epoch=0), ValueError, "steps"),
])
def test_errors(call, error, match):
    x, y = data()
    with pytest.raises(error, match=match):
        call(model(), x, y)


def test_an_unknown_number_of_steps_shows_as_keras_shows_it():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = Progbar(None, stream=stream, interval=0)
    bar.update(17, [("loss", 0.5)])
    assert "     17/Unknown" in stream.getvalue()


class Endless(PyDataset):
    """Batch i of an endless PyDataset: the i-th batch of the data, cycling; records i."""

    def __init__(self, x, y, **kwargs):
        super().__init__(**kwargs)
        self.parts, self.seen = batches(x, y), []

    @property
    def num_batches(self):
        return None

    def __getitem__(self, index):
        self.seen.append(index)
        return self.parts[index % len(self.parts)]


def empty_loader(x, y):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        torch.from_numpy(x[:0]), torch.from_numpy(y[:0])), batch_size=BATCH)


@pytest.mark.parametrize("make, match", [
    (lambda x, y: iter([]), "the data gave no batch"),
    (lambda x, y: iter([(x[:0], y[:0])]), "expected at least one sample"),
    (lambda x, y: Batches(x[:0], y[:0]), "expected a PyDataset with at least one batch"),
    (empty_loader, "expected a torch DataLoader with at least one sample"),
    (lambda x, y: empty_loader(x, y).dataset, "expected a torch Dataset with at least one"),
    (lambda x, y: (x[:0], y[:0]), "expected at least one sample"),
])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_empty_data_is_one_clear_error_in_every_form(make, match, method):
    x, y = data()
    given = make(x, y)
    args = given if isinstance(given, tuple) else (given,)
    if method == "predict":
        args = args[:1]
    m = model()
    with pytest.raises(ValueError, match=match):
        getattr(m, method)(*args, verbose=0)
    assert not m.optimizer.built  # nothing trained on nothing


@pytest.mark.parametrize("make", [
    lambda x, y: (x, y[:N - 1]),
    lambda x, y: (iter([(x[:4], y[:3])]),),
    lambda x, y: (Batches(x, y[:N - 1]),),
])
def test_x_and_y_of_different_lengths_are_refused(make):
    x, y = data()
    with pytest.raises(ValueError, match="expected x and y to have the same number of samples"):
        model().fit(*make(x, y), verbose=0)


@pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                          ("4", TypeError), (True, TypeError)])
@pytest.mark.parametrize("name", ["batch_size", "validation_batch_size"])
def test_batch_sizes_must_be_positive_ints(value, error, name):
    x, y = data()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    for given in ((x, y), (dataset, None)):
        with pytest.raises(error, match=name):
            model().fit(*given, validation_data=(x, y), verbose=0, **{name: value})


def test_pydataset_steps_read_on_through_a_shuffled_pass():
    """Keras: with steps_per_epoch under the length, an epoch goes on where the last stopped;
    a new pass (a new order) starts only when one is used up."""
    x, y = data()
    seen = []

    class Recording(Batches):
        def __getitem__(self, index):
            seen.append(index)
            return super().__getitem__(index)

    torch.manual_seed(1)
    with pytest.warns(UserWarning, match="ran out of data"):
        _, history = fitted(Recording(x, y), steps_per_epoch=2, epochs=6)
    assert len(history["loss"]) == 6 and len(seen) == 9  # 2, 1, 2, 1, 2, 1 batches
    passes = [seen[i:i + 3] for i in range(0, 9, 3)]
    assert all(sorted(p) == [0, 1, 2] for p in passes)


def test_an_endless_pydataset_needs_steps_and_reads_on():
    x, y = data()
    with pytest.raises(ValueError, match="endless"):
        model().fit(Endless(x, y), verbose=0)
    dataset = Endless(x, y)
    with pytest.warns(UserWarning, match="infinite PyDataset"):
        fitted(dataset, steps_per_epoch=2, epochs=3)  # shuffle=True is ignored, as in Keras
    assert dataset.seen == list(range(6))


def test_a_generator_exactly_used_up_stops_without_an_empty_epoch():
    x, y = data()
    with pytest.warns(UserWarning, match="ran out of data"):
        _, history = fitted(iter(batches(x, y, size=2)), steps_per_epoch=3, epochs=5,
                            shuffle=False)
    assert len(history["loss"]) == 2 and 0 not in history["loss"]


def test_a_validation_generator_read_to_its_end_is_an_error_at_the_next_validation():
    x, y = data()
    with pytest.raises(ValueError, match="ran out in an earlier epoch"):
        fitted(x, y, epochs=2, validation_data=iter(batches(x, y)))


@pytest.mark.parametrize("make, warns", [
    (lambda x, y: iter(batches(x, y)), True),
    (lambda x, y: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        torch.from_numpy(x), torch.from_numpy(y)), batch_size=BATCH), True),
    (lambda x, y: Batches(x, y), False),
    (lambda x, y: torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
     False),
])
def test_shuffle_ignored_warning_as_keras_gives_it(make, warns):
    x, y = data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted(make(x, y), epochs=1)
    ignored = [w for w in caught if "`shuffle=True` was passed" in str(w.message)]
    assert len(ignored) == int(warns)


def test_progress_total_is_steps_per_epoch_with_arrays():
    x, y = data()
    totals = []

    class Total(rnnkit.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            totals.append(self.params["steps"])

    with pytest.warns(UserWarning, match="ran out of data"):
        fitted(x, y, batch_size=BATCH, steps_per_epoch=5, epochs=1, callbacks=[Total()])
    assert totals == [5]


def steps_trained(fit):
    """The number of training batches of each epoch of fit(callbacks=...)."""
    counts = []
    fit(callbacks=[rnnkit.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: counts.append(0),
        on_train_batch_end=lambda batch, logs: counts.__setitem__(-1, counts[-1] + 1))])
    return counts


def test_validation_split_keeps_steps_per_epoch_for_the_training_part():
    """Keras splits first, then reads steps_per_epoch batches of the training part (9 samples:
    batches of 4, 4, 1 read 2 then 1)."""
    x, y = data()
    with pytest.warns(UserWarning, match="ran out of data"):
        counts = steps_trained(lambda callbacks: model().fit(
            x, y, batch_size=BATCH, validation_split=0.25, steps_per_epoch=2, epochs=3,
            shuffle=False, verbose=0, callbacks=callbacks))
    assert counts == [2, 1, 2]


def test_split_validation_reads_validation_steps_batches():
    from rnnkit.models import data_adapters

    x, y = data()
    m = model()
    train = data_adapters.batches_for(m, "fit", x, y, None, False, 3, "steps_per_epoch")
    assert train.batch_size == 4  # ceil(12 / 3), as Keras
    part, val = data_adapters.split_validation(m, "fit", train, 0.25, None, steps=2)
    assert part.batch_size == 3 and val.batch_size == 2  # ceil(9 / 3), ceil(3 / 2)
    assert [len(b[0]) for b in val.epoch()] == [2, 1]


def test_validation_steps_and_steps_with_arrays_read_the_first_batches():
    """Steps with arrays, which rnnkit once refused: Keras reads the first batches."""
    x, y = data()
    m, history = fitted(x, y, batch_size=BATCH, epochs=1, validation_data=(x, y),
                        validation_steps=1)
    first = m.evaluate(x[:BATCH], y[:BATCH], verbose=0)
    assert history["val_loss"][0] == pytest.approx(first, rel=1e-6)
    assert m.evaluate(x, y, batch_size=BATCH, steps=1, verbose=0) == pytest.approx(first,
                                                                                 rel=1e-6)
    assert m.predict(x, batch_size=BATCH, steps=2, verbose=0).shape == (2 * BATCH, 1)
