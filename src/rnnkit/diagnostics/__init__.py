"""Measuring the vanishing-gradient problem: how much of the loss's gradient reaches each step.

    gradient_norms(model, x, y)     mean over the batch of ‖∂L/∂h_t‖ (or ‖∂L/∂x_t‖), t = 1..T
"""

from .gradients import gradient_norms, recurrent_layer

__all__ = ["gradient_norms", "recurrent_layer"]
