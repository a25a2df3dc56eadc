"""The models of tests/data/make_keras_sample_weights.py (recorded with Keras) and
tests/test_sample_weights.py (replayed with rnnkit): `build(lib, case)` makes the same model with
keras or rnnkit; CASES say the data shapes and the weights fit, evaluate and train_on_batch get."""

CASES = {
    # per-sample weights on a regression
    "dense_sample_weight": {"x": [8, 3], "y": [8, 2], "head": "dense", "weights": "sample"},
    # per-time-step weights on a masked sequence output (the mask and the weights together)
    "masked_lstm_temporal_weight": {"x": [8, 5, 2], "y": [8, 5, 1], "head": "lstm",
                                    "weights": "temporal", "pad": True},
    # class weights on one-hot targets and on class ids
    "onehot_class_weight": {"x": [8, 3], "y": [8], "head": "softmax", "weights": "class",
                            "onehot": True},
    "sparse_class_weight": {"x": [8, 3], "y": [8], "head": "softmax", "weights": "class"},
}
MASKED_METRICS = {"metrics": ["mae"], "weighted_metrics": ["mae", "mse"]}
CLASS_WEIGHT = {0: 1.0, 1: 2.5, 2: 0.5}
# Which steps are real (1) in each row of the padded case.
PAD = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 1, 0, 1, 1], [1, 1, 0, 0, 0]] * 2


def build(lib, case):
    spec = CASES[case]
    inputs = lib.Input(tuple(spec["x"][1:]))
    if spec["head"] == "dense":
        out = lib.layers.Dense(2)(inputs)
    elif spec["head"] == "lstm":
        seq = lib.layers.LSTM(3, return_sequences=True)(lib.layers.Masking()(inputs))
        out = lib.layers.Dense(1)(seq)
    else:
        out = lib.layers.Dense(3, activation="softmax")(lib.layers.Dense(4, activation="tanh")(
            inputs))
    return lib.Model(inputs, out)


def metrics(case):
    """compile's metrics and weighted_metrics: the same names in both, so that the weighted
    ones are logged as "weighted_<name>", as Keras names them."""
    if CASES[case].get("pad"):
        # Keras 3 on JAX leaves the output mask out of the metrics fit logs (not out of its loss,
        # nor out of evaluate's metrics): they average every step. On the torch (and TensorFlow)
        # backend they weigh steps with the mask, as rnnkit's do: MASKED_METRICS are recorded
        # with Keras on torch.
        return {}
    if CASES[case]["head"] == "softmax":
        return {"metrics": ["accuracy"], "weighted_metrics": ["accuracy"]}
    return {"metrics": ["mae"], "weighted_metrics": ["mae", "mse"]}


def loss(case):
    spec = CASES[case]
    if spec["head"] != "softmax":
        return "mean_squared_error"
    return "categorical_crossentropy" if spec.get("onehot") else "sparse_categorical_crossentropy"


def data(case, rng, np):
    """x, y and the weights keyword of fit ({"sample_weight": ...} or {"class_weight": ...})."""
    spec = CASES[case]
    x = rng.normal(size=spec["x"]).astype("float32")
    if spec.get("pad"):
        x[~np.asarray(PAD, dtype=bool)] = 0
    if spec["head"] == "softmax":
        ids = rng.randint(0, 3, size=spec["y"])
        y = np.eye(3, dtype="float32")[ids] if spec.get("onehot") else ids.astype("int32")
    else:
        y = rng.normal(size=spec["y"]).astype("float32")
    if spec["weights"] == "class":
        return x, y, {"class_weight": CLASS_WEIGHT}
    shape = spec["y"][:1] if spec["weights"] == "sample" else spec["y"][:2]
    return x, y, {"sample_weight": rng.uniform(0.1, 2.0, size=shape).astype("float32")}
