"""Measuring the vanishing-gradient problem: how much of the loss's gradient reaches each step.

    gradient_norms(model, x, y)     mean over the batch of ‖∂L/∂h_t‖ (or ‖∂L/∂x_t‖), t = 1..T
    memory_horizon(cells, lags)     validation loss on the adding problem against the lag
"""

from .gradients import gradient_norms, recurrent_layer
from .horizon import HorizonPoint, memory_horizon

__all__ = ["gradient_norms", "recurrent_layer", "memory_horizon", "HorizonPoint"]
