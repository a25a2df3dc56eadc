"""What bfloat16 autocast costs in accuracy: rnnkit's outputs and training against real Keras's
float32 numbers (tests/data/keras_golden.*), in float32 and under torch.autocast(bfloat16).

    python benchmarks/bf16_accuracy.py [--device cpu|cuda]

Per cell: the largest |output - Keras| over the golden layer cases (every option the fixtures
hold: states, masks of time, go_backwards, no bias, ...), and for the seed-like model (the cell,
Dense(1), Adam, three train_on_batch steps) the largest relative error of the losses and the
largest |weight - Keras| after the third step. On the CPU the reference loop runs under autocast
(products in bfloat16 as torch's autocast makes them, states float32); on CUDA the Triton kernel
(bfloat16 operands, float32 accumulation and states).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import Golden  # noqa: E402
from rnnkit import layers, optimizers  # noqa: E402
from rnnkit.models import Sequential  # noqa: E402


def layer_errors(golden, device, bf16):
    """{cell class: max |output - Keras| over its golden cases}, and the backends that ran."""
    worst, ran = defaultdict(float), set()
    for case, meta in sorted(golden.meta["layers"].items()):
        layer = getattr(layers, meta["class"])(**meta["config"]).to(device)
        x = torch.from_numpy(golden[f"{case}/x"]).to(device)
        layer.build((None,) + tuple(x.shape[1:]))
        layer.set_weights(golden.seq(f"{case}/w", meta["n_weights"]))
        initial = [torch.from_numpy(golden[f"{case}/h0_{j}"]).to(device)
                   for j in range(meta["n_initial_states"])]
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16), torch.no_grad():
            out = layer(x, initial_state=initial or None)
        for k, o in enumerate(out if isinstance(out, list) else [out]):
            error = np.abs(o.float().cpu().numpy() - golden[f"{case}/out{k}"]).max()
            worst[meta["class"]] = max(worst[meta["class"]], float(error))
        ran.add(layer.last_backend)
    return worst, ran


def training_errors(golden, cell, device, bf16):
    """(max relative loss error, max |weight - Keras| after step 3) of three Adam steps."""
    meta = golden.meta["training"]["cells"][cell]
    model = Sequential([layers.Input((None, 1)), getattr(layers, meta["class"])(meta["units"]),
                        layers.Dense(1)]).to(device)
    model.set_weights(golden.seq(f"train/{cell}/w_init", meta["n_weights"]))
    model.compile(optimizer=optimizers.Adam(), loss=meta["loss"])
    x, y = golden[f"train/{cell}/x"], golden[f"train/{cell}/y"]
    with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
        losses = [model.train_on_batch(x, y) for _ in range(3)]
    want = np.array(meta["losses"]["adam"])
    loss_error = float(np.abs((np.array(losses) - want) / want).max())
    weight_error = max(float(np.abs(w - k).max()) for w, k in zip(
        model.get_weights(), golden.seq(f"train/{cell}/adam/step3_w", meta["n_weights"])))
    return loss_error, weight_error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    golden = Golden()
    results = {bf16: layer_errors(golden, args.device, bf16) for bf16 in (False, True)}
    print(f"device {args.device}; backends under autocast: {sorted(results[True][1])}")
    print("| cell | outputs fp32 | outputs bf16 | losses fp32 | losses bf16 | weights fp32 "
          "| weights bf16 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    names = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
    for cell, cls in names.items():
        train = [training_errors(golden, cell, args.device, bf16) for bf16 in (False, True)]
        print(f"| {cls} | {results[False][0][cls]:.1e} | {results[True][0][cls]:.1e} "
              f"| {train[0][0]:.1e} | {train[1][0]:.1e} | {train[0][1]:.1e} | {train[1][1]:.1e} |")


if __name__ == "__main__":
    main()
