"""The metrics the Keras metric fixtures compile into small models (tests/data/
make_keras_metrics.py records them with Keras, tests/test_metrics_keras.py rebuilds them with
rnnkit): `M` is the metrics module of either."""


def model_metrics(kind, M):
    if kind == "binary":
        return ["accuracy", "acc", "AUC", "auc", "precision", "recall", M.AUC(curve="PR"),
                M.Precision(thresholds=0.3), M.BinaryAccuracy(threshold=0.6), "binary_crossentropy",
                M.F1Score(average="micro", threshold=0.5), M.Recall()]
    if kind == "onehot":
        return ["accuracy", "top_k_categorical_accuracy", M.TopKCategoricalAccuracy(k=2),
                M.F1Score(average="macro"), "categorical_crossentropy", M.CategoricalAccuracy(),
                M.Precision(top_k=1), M.Recall(class_id=1), "f1_score"]
    if kind == "sparse":
        return ["acc", "sparse_top_k_categorical_accuracy", M.SparseTopKCategoricalAccuracy(k=2),
                "sparse_categorical_crossentropy", M.SparseCategoricalAccuracy()]
    return ["mse", "mae", "mape", M.RootMeanSquaredError(), "mean_squared_error", "MAE",
            M.MeanAbsoluteError(name="l1")]


MODELS = {"binary": (1, "sigmoid", "binary_crossentropy"),
          "onehot": (3, "softmax", "categorical_crossentropy"),
          "sparse": (3, "softmax", "sparse_categorical_crossentropy"),
          "regression": (2, None, "mse")}
