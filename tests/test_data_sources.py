"""fit, evaluate and predict fed by a generator, a PyDataset, a torch DataLoader or Dataset: the
same steps as arrays cut into the same batches (the independent reference), Keras's
steps_per_epoch / validation_steps / steps / validation_freq, and one clear error for what
cannot train."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

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
