"""Record Keras 3's losses for tests/test_losses_keras.py.

What it records (tests/data/keras_losses.json, inputs in tests/data/keras_losses.npz):
- cases: every dense loss class on fixed 2-D and 3-D inputs (regression targets, 0/1 and -1/1
  labels, probabilities, logits, one-hot and soft distributions, class ids with and without a
  last axis of 1, ranks that differ by one), with its settings (from_logits, label_smoothing,
  axis, delta, alpha/gamma, apply_class_balancing, ignore_class, ...): the value under every
  reduction ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None),
  without and with sample weights of several shapes (or the exception's type when Keras
  refuses); the function's per-sample values on the same inputs; get_config of the object;
- defaults: each class's default get_config;
- names: what keras.losses.get gives for each string (class or function name), or that it fails;
- refusals: constructor arguments and inputs Keras refuses, with the exception's type.

Run from the repository root (Keras 3 on JAX, no torch needed):
    KERAS_BACKEND=jax ../kerasenv/bin/python tests/data/make_keras_losses.py
"""

import json
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_fixture_common import case_rng, jsonable  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
L = keras.losses
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]
F32 = np.float32


def _inputs():
    """name -> (y_true, y_pred), float32 (class ids as int32)."""
    r = case_rng("inputs")
    out = {}
    for tag, shape in (("2d", (4, 3)), ("3d", (2, 3, 4))):
        out[f"reg_{tag}"] = (r.normal(size=shape), r.normal(size=shape))
        out[f"pos_{tag}"] = (r.uniform(0.0, 3.0, size=shape), r.uniform(0.05, 3.0, size=shape))
        out[f"bin_{tag}"] = (r.randint(0, 2, size=shape), r.uniform(0.02, 0.98, size=shape))
        out[f"logit_{tag}"] = (r.randint(0, 2, size=shape), 3.0 * r.normal(size=shape))
        out[f"pm1_{tag}"] = (2 * r.randint(0, 2, size=shape) - 1, r.normal(size=shape))
        out[f"soft_{tag}"] = (r.uniform(0.0, 1.0, size=shape), r.uniform(0.0, 1.0, size=shape))
        classes = shape[-1]
        ids = r.randint(0, classes, size=shape[:-1])
        out[f"onehot_{tag}"] = (np.eye(classes)[ids], r.uniform(0.05, 1.0, size=shape))
        out[f"onehot_logit_{tag}"] = (np.eye(classes)[ids], 2.0 * r.normal(size=shape))
        dist = r.uniform(0.0, 1.0, size=shape)
        out[f"dist_{tag}"] = (dist / dist.sum(-1, keepdims=True), r.uniform(0.01, 1.0, size=shape))
        out[f"ids_{tag}"] = (ids, r.uniform(0.05, 1.0, size=shape))
        out[f"ids_logit_{tag}"] = (ids, 2.0 * r.normal(size=shape))
        out[f"ids1_{tag}"] = (ids[..., None], r.uniform(0.05, 1.0, size=shape))
    out["rank_t1"] = (r.normal(size=(4,)), r.normal(size=(4, 1)))     # y (n,), output (n, 1)
    out["rank_p1"] = (r.normal(size=(2, 3)), r.normal(size=(2, 3, 1)))  # output with a last 1
    out["rank_t3"] = (r.normal(size=(2, 3, 1)), r.normal(size=(2, 3)))
    out["big_reg_2d"] = (r.normal(size=(4, 3)), 30.0 * r.normal(size=(4, 3)))  # huber/log_cosh tails
    emb = r.normal(size=(6, 4))
    out["ids_emb"] = (np.array([0, 1, 0, 2, 1, 0]), emb / np.linalg.norm(emb, axis=-1, keepdims=True))
    out["zero_2d"] = (np.zeros((3, 2)), r.normal(size=(3, 2)))          # cosine of a zero vector
    return {k: (np.asarray(t).astype(np.int32 if k.startswith("ids") else F32),
                np.asarray(p, F32)) for k, (t, p) in out.items()}


def _weights(y_pred):
    """Sample weights to try for predictions of this shape."""
    r = case_rng(f"weights{y_pred.shape}")
    shape = y_pred.shape
    out = {"none": None, "scalar": F32(0.7), "batch": r.uniform(0.0, 2.0, size=shape[:1])}
    out["batch1"] = out["batch"][:, None]
    if len(shape) == 3:
        out["steps"] = r.uniform(0.0, 2.0, size=shape[:2])
    out["zeros"] = np.zeros(shape[:1])
    return {k: None if v is None else np.asarray(v, F32) for k, v in out.items()}


REG = ["reg", "big_reg_2d"]
# (class, settings, data sets); each data set in its 2-D and 3-D form unless named fully.
CASES = [
    ("MeanSquaredError", {}, ["reg", "rank_t1", "rank_p1", "rank_t3"]),
    ("MeanAbsoluteError", {}, ["reg", "rank_t1", "rank_p1"]),
    ("MeanAbsolutePercentageError", {}, ["reg", "pos", "zero_2d"]),
    ("MeanSquaredLogarithmicError", {}, ["pos", "reg"]),
    ("CosineSimilarity", {}, ["reg", "zero_2d"]),
    ("CosineSimilarity", {"axis": 1}, ["reg"]),
    ("Huber", {}, REG),
    ("Huber", {"delta": 0.3}, REG),
    ("LogCosh", {}, REG + ["rank_p1"]),
    ("Hinge", {}, ["pm1", "bin", "soft"]),
    ("SquaredHinge", {}, ["pm1", "bin", "soft"]),
    ("CategoricalHinge", {}, ["onehot", "soft"]),
    ("KLDivergence", {}, ["dist", "soft"]),
    ("Poisson", {}, ["pos"]),
    ("BinaryCrossentropy", {}, ["bin", "soft"]),
    ("BinaryCrossentropy", {"from_logits": True}, ["logit"]),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, ["bin"]),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1, "axis": 1}, ["logit"]),
    ("BinaryFocalCrossentropy", {}, ["bin"]),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5},
     ["bin"]),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, ["logit"]),
    ("CategoricalCrossentropy", {}, ["onehot", "dist"]),
    ("CategoricalCrossentropy", {"from_logits": True}, ["onehot_logit"]),
    ("CategoricalCrossentropy", {"label_smoothing": 0.15}, ["onehot"]),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1, "axis": 1},
     ["onehot_logit"]),
    ("CategoricalFocalCrossentropy", {}, ["onehot"]),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 1.0, "from_logits": True,
                                      "label_smoothing": 0.1}, ["onehot_logit"]),
    ("SparseCategoricalCrossentropy", {}, ["ids", "ids1"]),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, ["ids_logit"]),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, ["ids", "ids1"]),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 0}, ["ids_logit"]),
    ("Dice", {}, ["bin", "soft"]),
    ("Dice", {"axis": -1}, ["bin"]),
    ("Dice", {"axis": [1, 2]}, ["bin_3d"]),
    ("Tversky", {}, ["bin"]),
    ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": -1}, ["bin", "soft"]),
    ("Circle", {}, ["ids_emb"]),
    ("Circle", {"gamma": 10.0, "margin": 0.25}, ["ids_emb"]),
    ("Circle", {"remove_diagonal": False, "gamma": 4.0}, ["ids_emb"]),
    ("CategoricalGeneralizedCrossEntropy", {}, ["ids_2d"]),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.2}, ["ids_2d"]),
]
FUNCTIONS = {"CategoricalGeneralizedCrossEntropy": "categorical_generalized_cross_entropy"}


def _attempt(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {"value": jsonable(np.asarray(fn(), dtype=np.float64))}
    except Exception as err:  # noqa: BLE001 - the type is what is recorded
        return {"error": type(err).__name__}


def _data_names(names):
    out = []
    for name in names:
        out += [name] if name in DATA else [f"{name}_2d", f"{name}_3d"]
    return out


def record_case(cls_name, settings, data):
    y_true, y_pred = DATA[data]
    cls = getattr(L, cls_name)
    rows = []
    for reduction in REDUCTIONS:
        for wname, weight in _weights(y_pred).items():
            loss = cls(reduction=reduction, **settings)
            rows.append({"reduction": reduction, "weight": wname,
                         **_attempt(lambda: loss(y_true, y_pred, sample_weight=weight))})
    loss = cls(**settings)
    fn = getattr(L, FUNCTIONS.get(cls_name, loss.fn.__name__))
    return {"class": cls_name, "settings": settings, "data": data, "rows": rows,
            "function": fn.__name__,
            "per_sample": _attempt(lambda: fn(y_true, y_pred, **loss._fn_kwargs)),
            "config": jsonable(loss.get_config())}


NAMES = ["mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "bce", "BCE",
         "logcosh", "log_cosh", "huber", "huber_loss", "kullback_leibler_divergence",
         "kl_divergence", "cosine_similarity", "poisson", "hinge", "squared_hinge",
         "categorical_hinge", "binary_crossentropy", "binary_focal_crossentropy",
         "categorical_crossentropy", "categorical_focal_crossentropy",
         "sparse_categorical_crossentropy", "dice", "tversky", "mean_squared_error",
         "mean_absolute_error", "mean_absolute_percentage_error",
         "mean_squared_logarithmic_error", "categorical_generalized_cross_entropy", "circle",
         "MeanSquaredError", "Huber", "CategoricalGeneralizedCrossEntropy", "SparseCategoricalCrossentropy",
         "mean_sq_error", "crossentropy"]


def record_names():
    out = {}
    for name in NAMES:
        try:
            obj = L.get(name)
        except Exception as err:  # noqa: BLE001
            out[name] = {"error": type(err).__name__}
            continue
        kind = "function" if not isinstance(obj, L.Loss) else "object"
        out[name] = {"kind": kind, "name": getattr(obj, "__name__", type(obj).__name__)}
    return out


REFUSALS = {
    "reduction_bad": lambda: L.MeanSquaredError(reduction="avg"),
    "reduction_auto": lambda: L.MeanSquaredError(reduction="auto"),
    "gce_q_one": lambda: L.CategoricalGeneralizedCrossEntropy(q=1.0),
    "gce_q_zero": lambda: L.CategoricalGeneralizedCrossEntropy(q=0.0),
    "cce_axis_bool": lambda: L.categorical_crossentropy(np.eye(2, dtype=F32), np.eye(2, dtype=F32),
                                                        axis=True),
    "cce_shapes": lambda: L.categorical_crossentropy(np.eye(3, dtype=F32)[:, :2],
                                                     np.eye(3, dtype=F32)),
    "bce_shapes": lambda: L.binary_crossentropy(np.ones((2, 3), F32), np.ones((3, 2), F32)),
    "scce_shapes": lambda: L.sparse_categorical_crossentropy(np.zeros((3,), np.int32),
                                                             np.ones((2, 4), F32)),
    "weight_mismatch": lambda: L.MeanSquaredError()(np.ones((2, 3, 4), F32),
                                                    np.zeros((2, 3, 4), F32),
                                                    sample_weight=np.ones((4,), F32)),
}


def main():
    global DATA
    DATA = _inputs()
    cases = {}
    for cls_name, settings, names in CASES:
        for data in _data_names(names):
            key = f"{cls_name}{json.dumps(settings, sort_keys=True)}@{data}"
            cases[key] = record_case(cls_name, settings, data)
    classes = sorted({c for c, _, _ in CASES})
    fixture = {
        "keras_version": keras.__version__,
        "cases": cases,
        "defaults": {c: jsonable(getattr(L, c)().get_config()) for c in classes},
        "names": record_names(),
        "refusals": {k: _attempt(v) for k, v in REFUSALS.items()},
    }
    with open(os.path.join(HERE, "keras_losses.json"), "w") as f:
        json.dump(fixture, f, sort_keys=True, separators=(",", ":"))
    arrays = {}
    for name, (t, p) in DATA.items():
        arrays[f"{name}/y_true"], arrays[f"{name}/y_pred"] = t, p
        for wname, w in _weights(p).items():
            if w is not None:
                arrays[f"{name}/w/{wname}"] = w
    np.savez_compressed(os.path.join(HERE, "keras_losses.npz"), **arrays)
    print(f"{len(cases)} cases written")


if __name__ == "__main__":
    main()
