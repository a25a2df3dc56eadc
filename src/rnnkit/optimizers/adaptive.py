"""Keras 3's per-coordinate adaptive optimizers without bias correction: RMSprop, Adagrad,
Adadelta."""

from __future__ import annotations

import torch

from .base import Optimizer, slot, zeros


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with plain momentum.

    `v <- rho * v + (1 - rho) * g²`; centered: `a <- rho * a + (1 - rho) * g` and the
    denominator `sqrt(v - a² + eps)`, else `sqrt(v + eps)`; `step = lr * g / denominator`;
    with momentum `b <- momentum * b + step; w <- w - b`, else `w <- w - step`.

    Args:
        params: Parameters (torch style) or None to build at the first step.
        learning_rate: A float, a schedule or a callable.
        rho: Decay of the squared-gradient average.
        momentum: Momentum of the step (0 for none).
        epsilon: Added inside the square root.
        centered: Divide by the gradient's variance estimate instead of its second moment.
        **kwargs: The shared settings of `Optimizer` (clipping, weight decay, name).

    >>> RMSprop().get_config()["rho"]
    0.9
    """

    def __init__(self, params=None, learning_rate=0.001, *, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(params, {"rho": rho, "momentum": momentum, "epsilon": epsilon,
                                  "centered": centered},
                         learning_rate=learning_rate, **kwargs)

    def _update(self, p, g, state, lr):
        c = self._config
        rho = c["rho"]
        v = slot(state, "velocity", zeros(p))
        v.mul_(rho).add_(g * g * (1.0 - rho))
        if c["centered"]:
            g_avg = slot(state, "average_gradient", zeros(p))
            g_avg.mul_(rho).add_(g * (1.0 - rho))
            denominator = v - g_avg * g_avg + c["epsilon"]
        else:
            denominator = v + c["epsilon"]
        increment = g * lr / torch.sqrt(denominator)
        if c["momentum"] > 0:
            buf = slot(state, "momentum", zeros(p))
            buf.mul_(c["momentum"]).add_(increment)
            increment = buf
        p.sub_(increment)


class Adagrad(Optimizer):
    """Adagrad: `a <- a + g²; w <- w - lr * g / sqrt(a + eps)`, `a` starting at
    `initial_accumulator_value`.

    Args:
        params: Parameters (torch style) or None to build at the first step.
        learning_rate: A float, a schedule or a callable.
        initial_accumulator_value: The accumulator's start.
        epsilon: Added inside the square root.
        **kwargs: The shared settings of `Optimizer` (clipping, weight decay, name).

    >>> Adagrad().get_config()["initial_accumulator_value"]
    0.1
    """

    def __init__(self, params=None, learning_rate=0.001, *, initial_accumulator_value=0.1,
                 epsilon=1e-7, **kwargs):
        super().__init__(params, {"initial_accumulator_value": initial_accumulator_value,
                                  "epsilon": epsilon},
                         learning_rate=learning_rate, **kwargs)

    def _update(self, p, g, state, lr):
        c = self._config
        a = slot(state, "accumulator",
                 lambda: torch.full_like(p, c["initial_accumulator_value"]))
        a.add_(g * g)
        p.sub_(g * lr / torch.sqrt(a + c["epsilon"]))


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012) with Keras's learning rate on top.

    `A <- rho * A + (1 - rho) * g²; d = -sqrt(D + eps) * g / sqrt(A + eps);
    D <- rho * D + (1 - rho) * d²; w <- w + lr * d`. `learning_rate=1.0` is the paper's form.

    Args:
        params: Parameters (torch style) or None to build at the first step.
        learning_rate: A float, a schedule or a callable.
        rho: Decay of both running averages.
        epsilon: Added inside both square roots.
        **kwargs: The shared settings of `Optimizer` (clipping, weight decay, name).

    >>> Adadelta().get_config()["rho"]
    0.95
    """

    def __init__(self, params=None, learning_rate=0.001, *, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(params, {"rho": rho, "epsilon": epsilon},
                         learning_rate=learning_rate, **kwargs)

    def _update(self, p, g, state, lr):
        rho, eps = self._config["rho"], self._config["epsilon"]
        acc_g = slot(state, "accumulated_grad", zeros(p))
        acc_d = slot(state, "accumulated_delta_var", zeros(p))
        acc_g.mul_(rho).add_(g * g * (1.0 - rho))
        delta = -(torch.sqrt(acc_d + eps) * g) / torch.sqrt(acc_g + eps)
        acc_d.mul_(rho).add_(delta * delta * (1.0 - rho))
        p.add_(delta * lr)
