"""Keras 3's F-scores (`keras/src/metrics/f_score_metrics.py`): the weighted harmonic mean of
precision and recall, per class or averaged (micro, macro, weighted by support)."""

from __future__ import annotations

import torch

from .base import Metric, as_tensor, to_result

EPSILON = 1e-7
_AVERAGES = (None, "micro", "macro", "weighted")
_STATES = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")


class FBetaScore(Metric):
    """F-beta = (1 + β²) · precision · recall / (β² · precision + recall), per class of 2-D
    (batch, classes) data.

    Args:
        average: None (one score per class), "micro" (counts pooled over classes), "macro"
            (the mean of the classes' scores) or "weighted" (that mean weighted by each class's
            count of positive targets).
        beta: how many times recall weighs more than precision (a float > 0).
        threshold: a prediction above it is positive (a float in (0, 1]); None: each row's
            largest (non-zero) predictions are.
        name: the logged name.
        dtype: the dtype of the computations.

    >>> m = FBetaScore(beta=2.0, average="micro", threshold=0.5)
    >>> m.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.8, 0.1]]); round(m.result(), 4)
    0.5
    """

    direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(dtype=dtype, name=name)
        owner = type(self).__name__
        if average not in _AVERAGES:
            raise ValueError(f"{owner}: invalid `average` argument value. Expected one of: "
                             f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"{owner}: invalid `beta` argument value; expected a Python float "
                             f"> 0, got beta={beta!r} of type {type(beta).__name__}.")
        if threshold is not None and (not isinstance(threshold, float)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError(f"{owner}: invalid `threshold` argument value; expected a Python "
                             f"float with 0 < threshold <= 1, got threshold={threshold!r}.")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape) -> None:
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape={y_pred_shape} "
                             f"and y_true.shape={y_true_shape}.")
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in _STATES:
            self.add_state(name, shape)
        self._built = True

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        dtype = self.torch_dtype
        y_pred = as_tensor(y_pred, dtype)
        y_true = as_tensor(y_true, dtype, y_pred.device)
        if not self._built:
            self._build(tuple(y_true.shape), tuple(y_pred.shape))
        if self.threshold is None:
            # the row's maximum; abs > 1e-9 keeps an all-zero row from being all positive
            top = torch.amax(y_pred, dim=-1, keepdim=True)
            predicted = (y_pred >= top) & (torch.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        p = predicted.to(dtype)
        w = None if sample_weight is None else as_tensor(sample_weight, dtype, y_pred.device)
        for name, values in zip(_STATES, (p * y_true, p * (1 - y_true), (1 - p) * y_true,
                                          y_true)):
            if w is not None:
                values = values * w.unsqueeze(1)
            summed = values.double().sum() if self.axis is None else values.double().sum(0)
            self.accumulate(name, summed)

    def result(self):
        if not self._built:
            return 0.0
        tp, fp, fn, support = (self.state(name) for name in _STATES)
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta**2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            score = (score * support / (support.sum() + EPSILON)).sum()
        elif self.average is not None:
            score = score.mean()
        return to_result(score)

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 = 2 · precision · recall / (precision + recall): FBetaScore with beta = 1.

    Args:
        average: None, "micro", "macro" or "weighted" (see FBetaScore).
        threshold: a prediction above it is positive; None: each row's largest are.
        name: the logged name.
        dtype: the dtype of the computations.

    >>> m = F1Score(average="micro", threshold=0.5)
    >>> m.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.8, 0.1]]); round(m.result(), 4)
    0.5
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
