"""The callback that draws fit's progress bar."""

from __future__ import annotations

from ..callbacks import Callback
from ..utils.progbar import Progbar


def resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"expected verbose 0, 1, 2 or 'auto', got {verbose!r}.")
    return int(verbose)


class ProgbarLogger(Callback):
    """Prints "Epoch i/n" and a progress bar per epoch (fit), or one bar (evaluate, predict).

    Inside fit, validation runs through the same callbacks; like Keras, the bar stays silent
    for it (the epoch's line already shows the val_ values).
    """

    def __init__(self, verbose: int = 1):
        super().__init__()
        self.verbose = verbose
        self.progbar = None
        self._called_in_fit = False

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def _start(self):
        """A new bar; fit's steps may be unknown (a generator), until the first epoch ends."""
        self.seen = 0
        self.progbar = Progbar(self.params.get("steps"), verbose=self.verbose)

    def _finish(self, logs):
        if not self.progbar.target:  # as Keras: the steps seen become the known total
            self.params["steps"] = self.progbar.target = self.seen
        self.progbar.update(self.progbar.target, (logs or {}).items(), finalize=True)

    def on_epoch_begin(self, epoch, logs=None):
        if self.params["epochs"] > 1:
            print(f"Epoch {epoch + 1}/{self.params['epochs']}", flush=True)
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self.progbar.update(self.seen, (logs or {}).items())

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self.seen = batch + 1
            self.progbar.update(self.seen, (logs or {}).items())

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self.progbar.update(self.seen)

    def on_predict_end(self, logs=None):
        self._finish(None)
