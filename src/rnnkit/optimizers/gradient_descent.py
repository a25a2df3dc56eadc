"""Keras 3's sign- and momentum-based optimizers: SGD and Lion."""

from __future__ import annotations

import torch

from .base import Optimizer, check_unit_interval, f32, slot, zeros


class SGD(Optimizer):
    """Gradient descent, with momentum and Nesterov momentum (Keras's form).

    `v <- momentum * v - lr * g; w <- w + v`, or with `nesterov`
    `w <- w + momentum * v - lr * g`; without momentum `w <- w - lr * g`.

    Args:
        params: Parameters (torch style) or None to build at the first step.
        learning_rate: A float, a schedule or a callable.
        momentum: In [0, 1].
        nesterov: Use Nesterov momentum.
        **kwargs: The shared settings of `Optimizer` (clipping, weight decay, name).

    >>> SGD(0.1, momentum=0.9).get_config()["momentum"]
    0.9
    """

    def __init__(self, params=None, learning_rate=0.01, *, momentum=0.0, nesterov=False,
                 **kwargs):
        check_unit_interval("SGD", "momentum", momentum)
        super().__init__(params, {"momentum": momentum, "nesterov": nesterov},
                         learning_rate=learning_rate, **kwargs)

    def _update(self, p, g, state, lr):
        momentum = self._config["momentum"]
        if not momentum:
            p.sub_(g * lr)
            return
        v = slot(state, "momentum", zeros(p))
        v.mul_(momentum).sub_(g * lr)
        p.add_(v * momentum - g * lr if self._config["nesterov"] else v)


class Lion(Optimizer):
    """Lion (Chen et al., 2023): the sign of an interpolated momentum.

    `w <- w - lr * sign(beta_1 * m + (1 - beta_1) * g); m <- beta_2 * m + (1 - beta_2) * g`.

    Args:
        params: Parameters (torch style) or None to build at the first step.
        learning_rate: A float, a schedule or a callable.
        beta_1: Weight of the momentum in the step's direction, in (0, 1].
        beta_2: Decay of the momentum.
        **kwargs: The shared settings of `Optimizer` (clipping, weight decay, name).

    >>> Lion().get_config()["beta_2"]
    0.99
    """

    def __init__(self, params=None, learning_rate=0.001, *, beta_1=0.9, beta_2=0.99, **kwargs):
        # Keras's check: beta_1 = 0 would make Lion plain SignSGD.
        check_unit_interval("Lion", "beta_1", beta_1, low_open=True)
        super().__init__(params, {"beta_1": beta_1, "beta_2": beta_2},
                         learning_rate=learning_rate, **kwargs)

    def _update(self, p, g, state, lr):
        # Keras casts the betas to float32 before taking 1 - beta.
        b1, b2 = float(f32(self._config["beta_1"])), float(f32(self._config["beta_2"]))
        m = slot(state, "momentum", zeros(p))
        p.sub_(torch.sign(m * b1 + g * float(1 - f32(b1))) * lr)
        m.mul_(b2).add_(g * float(1 - f32(b2)))
