"""Multivariate time-series forecasting with an LSTM, on rnnkit.

Follows Keras's example "Timeseries forecasting for weather prediction"
(keras.io/examples/timeseries/timeseries_weather_forecasting): the features are normalized with
the training part's mean and deviation, `timeseries_dataset_from_array` cuts windows of the past
`--past` steps (every `--step`-th step) with the temperature `--future` steps after the window as
target, for training and validation, and an LSTM(32) with a Dense(1) is fitted with
EarlyStopping and a ModelCheckpoint keeping the best weights (Functional API, as in Keras).
`timeseries_dataset_from_array` gives a `rnnkit.utils.PyDataset` of NumPy batches where Keras
gives a `tf.data.Dataset`; `fit` takes either alike.

Data: generated here instead of the Jena climate archive: an hourly "weather" of several years
with five features (temperature, pressure, humidity, wind, dew point) built from daily and
yearly cycles, slow pressure systems and noise. The forecast error is printed against two naive
forecasts: the last temperature seen, and the temperature one day before the target.

Run: python examples/timeseries_forecasting.py [--hours 30000 --epochs 10 --future 12]
"""

import argparse
import os
import tempfile

import numpy as np

import rnnkit as keras

FEATURES = ["temperature", "pressure", "humidity", "wind", "dew_point"]
TARGET = 0  # temperature


def smooth_noise(n, rho, rng):
    """AR(1) noise with unit variance: slow where rho is near 1."""
    e = rng.standard_normal(n) * np.sqrt(1 - rho ** 2)
    out = np.empty(n)
    out[0] = rng.standard_normal()
    for t in range(1, n):
        out[t] = rho * out[t - 1] + e[t]
    return out


def generate_weather(hours, rng):
    """(hours, 5) hourly features: cycles of a day and a year, pressure systems and noise."""
    t = np.arange(hours)
    day, year = 2 * np.pi * t / 24, 2 * np.pi * t / (24 * 365.25)
    pressure = 1013 + 8 * smooth_noise(hours, 0.995, rng)
    sky = smooth_noise(hours, 0.98, rng)  # cloud cover: damps the daily swing
    temperature = (9 - 9 * np.cos(year) + (5 - 2 * sky) * np.sin(day - 2)
                   + 0.15 * (pressure - 1013) + 1.5 * smooth_noise(hours, 0.9, rng))
    humidity = np.clip(70 - 15 * np.sin(day - 2) + 10 * sky + 5 * rng.standard_normal(hours),
                       5, 100)
    wind = np.abs(3 + 2 * smooth_noise(hours, 0.95, rng) - 0.1 * (pressure - 1013))
    dew_point = temperature - (100 - humidity) / 5
    return np.stack([temperature, pressure, humidity, wind, dew_point], axis=1).astype("float32")


def windows(features, past, future, step, batch_size, start, end):
    """Windows of `past` steps starting in [start, end - past - future) and the temperature
    `future` steps after each window's end, as Keras's example aligns them."""
    x = features[start:end - past - future]
    y = features[start + past + future:end, TARGET]
    return keras.utils.timeseries_dataset_from_array(
        x, y, sequence_length=past // step, sampling_rate=step, batch_size=batch_size)


def naive_errors(features, past, future, dataset, std):
    """MAE (in degrees) of two naive forecasts over the windows of `dataset`."""
    last, yesterday, truth = [], [], []
    for x, y in dataset:
        last.append(x[:, -1, TARGET])
        truth.append(y)
    last, truth = np.concatenate(last), np.concatenate(truth)
    # Window i starts at hour i of `features`; its target is hour i + past + future.
    yesterday = features[np.arange(len(truth)) + past + future - 24, TARGET]
    scale = std[TARGET]
    return (float(np.mean(np.abs(last - truth)) * scale),
            float(np.mean(np.abs(yesterday - truth)) * scale))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=30000, help="length of the series")
    parser.add_argument("--past", type=int, default=120, help="hours seen by the model")
    parser.add_argument("--future", type=int, default=12, help="hours ahead to forecast")
    parser.add_argument("--step", type=int, default=2, help="sample every step-th hour")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--patience", type=int, default=5, help="EarlyStopping's patience")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--verbose", type=int, default=2, help="fit's verbosity")
    return parser.parse_args(argv)


def main(argv=None):
    """Trains the forecaster; returns its history and validation MAE against naive forecasts."""
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    raw = generate_weather(args.hours, np.random.default_rng(args.seed))
    split = int(0.715 * len(raw))
    mean, std = raw[:split].mean(axis=0), raw[:split].std(axis=0)
    features = (raw - mean) / std
    print(f"{len(raw)} hours of {', '.join(FEATURES)}; training on the first {split}")

    common = (features, args.past, args.future, args.step, args.batch_size)
    dataset_train = windows(*common, 0, split)
    dataset_val = windows(*common, split, len(features))
    inputs_batch, targets_batch = dataset_train[0]
    print("Input shape:", inputs_batch.shape, "- target shape:", targets_batch.shape)

    inputs = keras.layers.Input(shape=(inputs_batch.shape[1], inputs_batch.shape[2]))
    lstm_out = keras.layers.LSTM(32)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate), loss="mse")
    model.summary()

    with tempfile.TemporaryDirectory() as folder:
        path_checkpoint = os.path.join(folder, "model_checkpoint.weights.h5")
        es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0,
                                                    patience=args.patience)
        modelckpt_callback = keras.callbacks.ModelCheckpoint(
            monitor="val_loss", filepath=path_checkpoint, verbose=1, save_weights_only=True,
            save_best_only=True)
        history = model.fit(dataset_train, epochs=args.epochs, validation_data=dataset_val,
                            callbacks=[es_callback, modelckpt_callback], verbose=args.verbose)
        model.load_weights(path_checkpoint)  # the best epoch's weights

    truth = np.concatenate([y for _, y in dataset_val])
    predicted = model.predict(dataset_val, verbose=0)[:, 0]
    mae = float(np.mean(np.abs(predicted - truth)) * std[TARGET])
    last_mae, yesterday_mae = naive_errors(features[split:], args.past, args.future,
                                           dataset_val, std)
    print(f"Validation MAE of the temperature {args.future} h ahead: LSTM {mae:.2f} degrees; "
          f"naive: last value {last_mae:.2f}, same hour the day before {yesterday_mae:.2f}")
    return {"history": history.history, "mae": mae, "naive_last_mae": last_mae,
            "naive_yesterday_mae": yesterday_mae, "epochs_run": len(history.history["loss"])}


if __name__ == "__main__":
    main()
