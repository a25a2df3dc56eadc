"""One call seeds every generator rnnkit draws from."""

import random

import numpy as np
import torch


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (like `keras.utils.set_random_seed`)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
