"""Record Keras 3's metrics for tests/test_metrics_keras.py.

What it records:
- cases (tests/data/keras_metrics.json, inputs in keras_metrics.npz): for each metric class and
  configuration (accuracies incl. top-k, regression means, Mean/Sum/MeanMetricWrapper,
  confusion counts, Precision/Recall with thresholds, top_k and class_id, AUC ROC/PR/PRGAIN with
  every summation method, explicit thresholds, multi_label, label_weights and from_logits,
  F1Score/FBetaScore with each average), three batches fed one by one (some with sample_weight):
  the result after each, then after reset_state and one more batch; its name and get_config;
- names: the class and name `keras.metrics.get` gives for string identifiers;
- models: tiny Dense models with fixed weights compiled with metrics as strings and objects:
  the History keys of a 2-epoch fit, and evaluate(return_dict=True) at those fixed weights.

Run from the repository root (Keras 3 on JAX, no torch needed):
    KERAS_BACKEND=jax ../kerasenv/bin/python tests/data/make_keras_metrics.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_fixture_common import case_rng, jsonable  # noqa: E402
import metric_specs  # noqa: E402

M = keras.metrics
HERE = os.path.dirname(os.path.abspath(__file__))
B = 6  # samples per batch


def _probs(rng, shape, edges=True):
    """Scores in [0, 1], some exactly 0, 1, 0.5 or on a 1/199 AUC threshold."""
    p = rng.uniform(size=shape).astype("float32")
    if edges:
        flat = p.reshape(-1)
        flat[:5] = np.array([0.0, 1.0, 0.5, 3 / 199, 0.3], dtype="float32")[: flat.size]
    return p


def _binary(rng, shape):
    return (rng.uniform(size=shape) > 0.5).astype("float32"), _probs(rng, shape)


def _onehot(rng, classes, lead=(B,)):
    labels = rng.randint(0, classes, size=lead)
    return np.eye(classes, dtype="float32")[labels], labels


def _softmax(rng, shape):
    z = rng.normal(size=shape).astype("float32")
    e = np.exp(z - z.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def data_binary(rng, k):
    return _binary(rng, (B, 1))


def data_binary_wide(rng, k):
    return _binary(rng, (B, 3))


def data_multi(rng, k):
    return _binary(rng, (B, 4))


def data_logits(rng, k):
    y, _ = _binary(rng, (B, 1))
    return y, rng.normal(scale=2.0, size=(B, 1)).astype("float32")


def data_onehot(rng, k):
    y, _ = _onehot(rng, 5)
    p = _softmax(rng, (B, 5))
    p[0] = [0.3, 0.3, 0.2, 0.1, 0.1]  # a tie at the top
    return y, p


def data_sparse(rng, k):
    _, labels = _onehot(rng, 5)
    return labels.astype("float32"), _softmax(rng, (B, 5))


def data_sparse_col(rng, k):
    y, p = data_sparse(rng, k)
    return y[:, None], p


def data_sorted_ids(rng, k):
    _, labels = _onehot(rng, 5)
    ids = np.stack([rng.permutation(5) for _ in range(B)]).astype("float32")
    return labels.astype("int32"), ids


def data_onehot_seq(rng, k):
    y, _ = _onehot(rng, 4, lead=(B, 3))
    return y, _softmax(rng, (B, 3, 4))


def data_regression(rng, k):
    y = rng.normal(size=(B, 2)).astype("float32")
    y[0, 0] = 0.0  # MAPE divides by max(|y|, 1e-7)
    return y, (y + rng.normal(scale=0.5, size=(B, 2))).astype("float32")


def data_regression_seq(rng, k):
    y = rng.normal(size=(B, 3, 2)).astype("float32")
    return y, (y + rng.normal(scale=0.5, size=(B, 3, 2))).astype("float32")


def data_values(rng, k):
    return None, rng.normal(size=(B, 2)).astype("float32")


def data_ints(rng, k):
    return rng.randint(0, 3, size=(B, 2)).astype("float32"), rng.randint(0, 3, size=(B, 2)).astype(
        "float32")


def sw_samples(rng, y, k):
    return rng.uniform(0, 2, size=(B,)).astype("float32")


def sw_steps(rng, y, k):
    w = (rng.uniform(size=(B, 3)) > 0.3).astype("float32")  # a mask-like (batch, time) weight
    return w


def sw_column(rng, y, k):
    return rng.uniform(0, 2, size=(B, 1)).astype("float32")


CASES = [
    # name, class, kwargs, data, sample weight (None: unweighted)
    ("accuracy", "Accuracy", {}, data_ints, None),
    ("accuracy_sw", "Accuracy", {}, data_ints, sw_samples),
    ("binary_accuracy", "BinaryAccuracy", {}, data_binary, None),
    ("binary_accuracy_wide_sw", "BinaryAccuracy", {"threshold": 0.7}, data_binary_wide,
     sw_samples),
    ("categorical_accuracy", "CategoricalAccuracy", {}, data_onehot, None),
    ("categorical_accuracy_seq_sw", "CategoricalAccuracy", {}, data_onehot_seq, sw_steps),
    ("sparse_categorical_accuracy", "SparseCategoricalAccuracy", {}, data_sparse, sw_samples),
    ("sparse_categorical_accuracy_col", "SparseCategoricalAccuracy", {}, data_sparse_col, None),
    ("top_k", "TopKCategoricalAccuracy", {}, data_onehot, None),
    ("top_k2_sw", "TopKCategoricalAccuracy", {"k": 2}, data_onehot, sw_samples),
    ("top_k1_seq", "TopKCategoricalAccuracy", {"k": 1}, data_onehot_seq, sw_steps),
    ("sparse_top_k2", "SparseTopKCategoricalAccuracy", {"k": 2}, data_sparse, None),
    ("sparse_top_k_sorted", "SparseTopKCategoricalAccuracy", {"k": 2, "from_sorted_ids": True},
     data_sorted_ids, sw_samples),
    ("mse", "MeanSquaredError", {}, data_regression, None),
    ("mse_seq_sw", "MeanSquaredError", {}, data_regression_seq, sw_steps),
    ("rmse", "RootMeanSquaredError", {}, data_regression, sw_samples),
    ("rmse_seq", "RootMeanSquaredError", {}, data_regression_seq, sw_steps),
    ("mae", "MeanAbsoluteError", {}, data_regression, sw_column),
    ("mape", "MeanAbsolutePercentageError", {}, data_regression, None),
    ("mape_sw", "MeanAbsolutePercentageError", {}, data_regression, sw_samples),
    ("bce", "BinaryCrossentropy", {}, data_binary_wide, sw_samples),
    ("bce_logits", "BinaryCrossentropy", {"from_logits": True}, data_logits, None),
    ("cce", "CategoricalCrossentropy", {}, data_onehot, None),
    ("scce", "SparseCategoricalCrossentropy", {}, data_sparse, sw_samples),
    ("bce_smoothing", "BinaryCrossentropy", {"label_smoothing": 0.1}, data_binary_wide, None),
    ("bce_smoothing_logits_sw", "BinaryCrossentropy", {"label_smoothing": 0.2, "from_logits": True},
     data_logits, sw_samples),
    ("cce_smoothing", "CategoricalCrossentropy", {"label_smoothing": 0.2}, data_onehot, None),
    ("cce_axis1", "CategoricalCrossentropy", {"axis": 1}, data_onehot_seq, None),
    ("scce_ignore", "SparseCategoricalCrossentropy", {"ignore_class": 2}, data_sparse, None),
    ("scce_ignore_sw", "SparseCategoricalCrossentropy", {"ignore_class": 2}, data_sparse,
     sw_samples),
    ("mean", "Mean", {}, data_values, None),
    ("mean_sw", "Mean", {}, data_values, sw_samples),
    ("sum_sw", "Sum", {"name": "total"}, data_values, sw_samples),
    ("wrapper_mse", "MeanMetricWrapper", {"fn": "mean_squared_error", "name": "w"},
     data_regression, sw_samples),
    ("true_positives", "TruePositives", {}, data_binary_wide, None),
    ("false_positives_thr", "FalsePositives", {"thresholds": [0.2, 0.5, 0.9]}, data_binary_wide,
     sw_samples),
    ("true_negatives", "TrueNegatives", {"thresholds": 0.3}, data_binary_wide, None),
    ("false_negatives_even", "FalseNegatives", {"thresholds": [0.0, 0.5, 1.0]}, data_binary_wide,
     None),
    ("precision", "Precision", {}, data_binary, None),
    ("precision_sw", "Precision", {}, data_binary_wide, sw_samples),
    ("precision_thresholds", "Precision", {"thresholds": [0.2, 0.5, 0.7]}, data_binary_wide,
     None),
    ("precision_even", "Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]},
     data_binary_wide, sw_samples),
    ("precision_top_k", "Precision", {"top_k": 2}, data_multi, None),
    ("precision_class_id", "Precision", {"class_id": 2}, data_multi, sw_samples),
    ("precision_top_k_class", "Precision", {"top_k": 2, "class_id": 1}, data_multi, None),
    ("recall", "Recall", {}, data_binary, None),
    ("recall_thresholds_sw", "Recall", {"thresholds": [0.1, 0.6]}, data_binary_wide, sw_samples),
    ("recall_top_k", "Recall", {"top_k": 1}, data_multi, sw_samples),
    ("recall_class_id", "Recall", {"class_id": 0, "thresholds": 0.4}, data_multi, None),
    ("auc", "AUC", {}, data_binary, None),
    ("auc_sw", "AUC", {}, data_binary_wide, sw_samples),
    ("auc_pr", "AUC", {"curve": "PR"}, data_binary, None),
    ("auc_pr_sw", "AUC", {"curve": "PR"}, data_binary_wide, sw_samples),
    ("auc_pr_minoring", "AUC", {"curve": "PR", "summation_method": "minoring"}, data_binary,
     None),
    ("auc_roc_majoring", "AUC", {"summation_method": "majoring", "num_thresholds": 11},
     data_binary, None),
    ("auc_prgain", "AUC", {"curve": "PRGAIN"}, data_binary_wide, None),
    ("auc_thresholds", "AUC", {"thresholds": [0.2, 0.5, 0.8]}, data_binary_wide, sw_samples),
    ("auc_thresholds_even", "AUC", {"thresholds": [0.25, 0.5, 0.75]}, data_binary, None),
    ("auc_multi_label", "AUC", {"multi_label": True}, data_multi, None),
    ("auc_multi_label_weights", "AUC", {"multi_label": True, "num_labels": 4,
                                        "label_weights": [1.0, 0.5, 2.0, 0.0]}, data_multi,
     sw_samples),
    ("auc_multi_pr", "AUC", {"multi_label": True, "curve": "PR", "num_thresholds": 50},
     data_multi, None),
    ("auc_label_weights", "AUC", {"label_weights": [1.0, 0.5, 2.0, 0.25]}, data_multi, None),
    ("auc_logits", "AUC", {"from_logits": True}, data_logits, None),
    ("f1", "F1Score", {}, data_onehot, None),
    ("f1_micro", "F1Score", {"average": "micro"}, data_onehot, sw_samples),
    ("f1_macro", "F1Score", {"average": "macro", "threshold": 0.3}, data_multi, None),
    ("f1_weighted", "F1Score", {"average": "weighted"}, data_multi, sw_samples),
    ("fbeta", "FBetaScore", {"beta": 2.0, "average": "macro"}, data_onehot, None),
    ("fbeta_threshold", "FBetaScore", {"beta": 0.5, "threshold": 0.5}, data_multi, sw_samples),
]


def _make(cls, kwargs):
    kwargs = dict(kwargs)
    if kwargs.get("fn") == "mean_squared_error":
        kwargs["fn"] = keras.losses.mean_squared_error
    return getattr(M, cls)(**kwargs)


def _update(metric, y, p, w):
    if y is None:  # Mean / Sum take values
        metric.update_state(p, sample_weight=w)
    else:
        metric.update_state(y, p, sample_weight=w)


def record_case(name, cls, kwargs, data, weight, arrays):
    rng = case_rng(name)
    keras.backend.clear_session()
    metric = _make(cls, kwargs)
    batches = []
    for k in range(4):
        y, p = data(rng, k)
        w = None if weight is None else weight(rng, y, k)
        for key, value in (("y", y), ("p", p), ("w", w)):
            if value is not None:
                arrays[f"{name}/{k}/{key}"] = value
        batches.append((y, p, w))
    results = []
    for y, p, w in batches[:3]:
        _update(metric, y, p, w)
        results.append(np.asarray(metric.result()))
    metric.reset_state()
    after_reset = np.asarray(metric.result())
    _update(metric, *batches[3])
    config = metric.get_config()
    if "fn" in config:
        config["fn"] = "mean_squared_error"
    return {"class": cls, "kwargs": kwargs, "name": metric.name, "config": config,
            "results": results, "after_reset": after_reset,
            "last": np.asarray(metric.result()),
            "direction": getattr(metric, "_direction", None)}


NAMES = ["acc", "accuracy", "mse", "MSE", "mae", "mape", "MAPE", "bce", "AUC", "auc", "precision",
         "Precision", "recall", "f1_score", "F1Score", "binary_accuracy", "categorical_accuracy",
         "sparse_categorical_accuracy", "top_k_categorical_accuracy",
         "sparse_top_k_categorical_accuracy", "root_mean_squared_error", "RootMeanSquaredError",
         "mean_absolute_percentage_error", "binary_crossentropy", "categorical_crossentropy",
         "true_positives", "f_beta_score", "mean", "sum"]


def record_names():
    """Per identifier: what compile makes of it (for (2, 3) targets and predictions) and what
    keras.metrics.get makes of it (or the error it raises)."""
    from keras.src.trainers.compile_utils import get_metric

    out = {}
    y = np.zeros((2, 3), dtype="float32")
    for ident in NAMES:
        keras.backend.clear_session()
        m = get_metric(ident, y, y)
        out[ident] = {"class": type(m).__name__, "name": m.name}
        try:
            plain = M.get(ident)
            out[ident]["get"] = [type(plain).__name__, plain.name]
        except ValueError as e:
            out[ident]["get"] = ["ValueError", str(e)]
    return out


def record_model(kind, arrays):
    units, activation, loss = metric_specs.MODELS[kind]
    rng = case_rng("model_" + kind)
    keras.backend.clear_session()
    x = rng.normal(size=(20, 4)).astype("float32")
    if kind == "binary":
        y = (rng.uniform(size=(20, 1)) > 0.5).astype("float32")
    elif kind == "onehot":
        y = np.eye(3, dtype="float32")[rng.randint(0, 3, size=20)]
    elif kind == "sparse":
        y = rng.randint(0, 3, size=(20,)).astype("float32")
    else:
        y = rng.normal(size=(20, 2)).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=activation)])
    weights = [(rng.normal(size=(4, units)) * 0.8).astype("float32"),
               (rng.normal(size=(units,)) * 0.1).astype("float32")]
    model.set_weights(weights)
    model.compile(optimizer="sgd", loss=loss, metrics=metric_specs.model_metrics(kind, M))
    evaluated = model.evaluate(x, y, batch_size=8, return_dict=True, verbose=0)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False,
                        validation_data=(x, y))
    for key, value in (("x", x), ("y", y), ("kernel", weights[0]), ("bias", weights[1])):
        arrays[f"model_{kind}/{key}"] = value
    return {"evaluate": evaluated, "history_keys": list(history.history),
            "metrics_names": model.metrics_names}


def main():
    arrays = {}
    cases = {name: record_case(name, cls, kwargs, data, weight, arrays)
             for name, cls, kwargs, data, weight in CASES}
    out = {"keras_version": keras.__version__, "cases": cases, "names": record_names(),
           "models": {kind: record_model(kind, arrays) for kind in metric_specs.MODELS}}
    with open(os.path.join(HERE, "keras_metrics.json"), "w") as f:
        json.dump(jsonable(out), f, indent=1, sort_keys=True)
    np.savez_compressed(os.path.join(HERE, "keras_metrics.npz"), **arrays)


if __name__ == "__main__":
    main()
