"""Write tests/data/model_v2.zip and weights_v2.safetensors: rnnkit's format version 2 (weights
keyed by position, optimizer state, no checksums), for the tests that older files still load.

Run from the repository root with an rnnkit that writes version 2 (commits b49582f to 054aa37)::

    python tests/data/make_rnnkit_v2_files.py

The model file is named .zip because *.rnnkit is git-ignored.
"""

import os

import numpy as np
import torch

from rnnkit import layers
from rnnkit.models import Sequential, saving

OUT = os.path.dirname(os.path.abspath(__file__))


def main():
    if saving.FORMAT_VERSION != 2:
        raise SystemExit(f"this rnnkit writes format version {saving.FORMAT_VERSION}, not 2")
    torch.manual_seed(2)
    model = Sequential([layers.Input((None, 2)), layers.LSTM(3, return_sequences=True),
                        layers.GRU(2), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 4, 2)).astype("float32")
    model.fit(x, x.sum(axis=(1, 2))[:, None], epochs=1, batch_size=4, verbose=0)
    model.save(os.path.join(OUT, "model_v2.zip"))
    model.save_weights(os.path.join(OUT, "weights_v2.safetensors"))


if __name__ == "__main__":
    main()
