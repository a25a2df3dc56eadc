"""ProgbarLogger: the callback that prints fit's, evaluate's and predict's progress bar
(Keras 3's `keras.callbacks.ProgbarLogger`)."""

from __future__ import annotations

from ..utils.progbar import Progbar
from .base import Callback, _is_chief


def resolve_verbose(verbose, where: str = "verbose") -> int:
    """fit's `verbose` as a number: "auto" is 1 (Keras 3), 0, 1 and 2 stand as they are."""
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"{where}: expected verbose 0, 1, 2 or 'auto', got {verbose!r}.")
    return int(verbose)


class ProgbarLogger(Callback):
    """Prints "Epoch i/n" and a progress bar per epoch (fit), or one bar (evaluate, predict).

    As in Keras 3 it takes no arguments (Keras 2's `count_mode` is gone): `verbose`, `epochs`
    and `steps` come from the params fit, evaluate and predict give their callbacks. fit adds
    one itself when `verbose` is not 0, unless the callbacks passed already hold one (that
    one is used instead, as Keras's CallbackList does). Inside fit, validation runs through
    the same callbacks and the bar stays silent for it (the epoch's line shows the val_
    values). Under torchrun only rank 0 prints.

    >>> from rnnkit import layers
    >>> from rnnkit.models import Sequential
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> logger = ProgbarLogger()
    >>> _ = model.fit([[1.0, 2.0]], [[1.0]], verbose=0, callbacks=[logger])  # prints nothing
    >>> logger.verbose, logger.epochs, logger.target
    (0, 1, 1)
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = resolve_verbose(params.get("verbose", 1), "ProgbarLogger")
        if not _is_chief():
            self.verbose = 0
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def _start(self):
        """A new bar; fit's steps may be unknown (a generator), until the first epoch ends."""
        self.seen = 0
        self.progbar = Progbar(self.target, verbose=self.verbose)

    def _update(self, batch, logs):
        self.seen = batch + 1
        self.progbar.update(self.seen, (logs or {}).items())

    def _finish(self, logs):
        if not self.progbar.target:  # as Keras: the steps seen become the known total
            self.target = self.progbar.target = self.seen
        self.progbar.update(self.progbar.target, (logs or {}).items(), finalize=True)

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)  # as Keras: the outputs are not shown

    def on_predict_end(self, logs=None):
        self._finish(None)
