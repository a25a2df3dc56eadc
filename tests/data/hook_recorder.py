"""The callback that records which hooks run, shared by the Keras fixture script (with Keras's
Callback as its base) and rnnkit's tests (with rnnkit's): "<hook> [index] <sorted log keys>".
Train batches are seen through the aliases on_batch_begin/on_batch_end, which the
on_train_batch_* hooks call by default in both libraries."""

INDEXED = ("batch_begin", "batch_end", "epoch_begin", "epoch_end", "test_batch_begin",
           "test_batch_end", "predict_batch_begin", "predict_batch_end")
PLAIN = ("train_begin", "train_end", "test_begin", "test_end", "predict_begin", "predict_end")


def recorder_class(base):
    """A subclass of `base` (a Callback class) that records every hook call."""

    class HookRecorder(base):
        def __init__(self):
            super().__init__()
            self.calls = []

        def take(self):
            calls, self.calls = self.calls, []
            return calls

        def _log(self, hook, *index, logs=None):
            self.calls.append(" ".join([hook, *map(str, index), str(sorted(logs or {}))]))

    for hook in INDEXED:
        setattr(HookRecorder, f"on_{hook}",
                lambda self, i, logs=None, _h=hook: self._log(_h, i, logs=logs))
    for hook in PLAIN:
        setattr(HookRecorder, f"on_{hook}", lambda self, logs=None, _h=hook: self._log(_h, logs=logs))
    return HookRecorder
