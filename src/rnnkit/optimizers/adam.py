"""Keras 3's Adam family: Adam, AdamW, Nadam, Adamax.

The update rules are Keras's, not torch's (they differ: e.g. Keras's Adam adds epsilon to sqrt(v)
before bias correction, torch after), so a model trained here follows the same path as in Keras.
"""

from __future__ import annotations

import torch

from .base import Optimizer, f32, power32, slot, zeros


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), with AMSGrad as an option.

    `m <- m + (g - m)(1 - beta_1); v <- v + (g² - v)(1 - beta_2)`;
    `w <- w - lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + eps)`
    (`v` replaced by its running maximum with `amsgrad`).

    Args:
        params: Parameters (torch style) or None to build at the first step.
        learning_rate: A float, a schedule or a callable.
        beta_1: Decay of the first moment.
        beta_2: Decay of the second moment.
        epsilon: Added to sqrt(v) ("epsilon hat" of the paper).
        amsgrad: Use the running maximum of `v`.
        **kwargs: The shared settings of `Optimizer` (clipping, weight decay, name).

    >>> Adam(0.01).learning_rate
    0.01
    """

    def __init__(self, params=None, learning_rate=0.001, *, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(params, {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon,
                                  "amsgrad": amsgrad},
                         learning_rate=learning_rate, **kwargs)

    def _update_all(self, params, grads, states, lr):
        # The same operations as Keras, in the same order, on all the group's tensors at once
        # (one multi-tensor op per line: a few dozen small ops cost more than the arithmetic).
        if not params:
            return
        c = self._config
        t = self.iterations + 1
        b1_power, b2_power = power32(c["beta_1"], t), power32(c["beta_2"], t)
        alpha = float(f32(lr) * torch.sqrt(1 - b2_power) / (1 - b1_power))
        m = [slot(state, "m", zeros(p)) for p, state in zip(params, states)]
        v = [slot(state, "v", zeros(p)) for p, state in zip(params, states)]
        dm = torch._foreach_sub(grads, m)
        torch._foreach_mul_(dm, 1.0 - c["beta_1"])
        torch._foreach_add_(m, dm)
        dv = torch._foreach_mul(grads, grads)
        torch._foreach_sub_(dv, v)
        torch._foreach_mul_(dv, 1.0 - c["beta_2"])
        torch._foreach_add_(v, dv)
        if c["amsgrad"]:
            v_hat = [slot(state, "v_hat", zeros(p)) for p, state in zip(params, states)]
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        denom = torch._foreach_sqrt(v)
        torch._foreach_add_(denom, c["epsilon"])
        step = torch._foreach_mul(m, alpha)
        torch._foreach_div_(step, denom)
        torch._foreach_sub_(params, step)


class AdamW(Adam):
    """Adam with decoupled weight decay: `w <- w - w * weight_decay * lr` before each update
    (Loshchilov & Hutter, 2019); `weight_decay` must be a float.

    Args:
        params: Parameters (torch style) or None to build at the first step.
        learning_rate: A float, a schedule or a callable.
        weight_decay: The decay, relative to the learning rate.
        beta_1, beta_2, epsilon, amsgrad: As in `Adam`.
        **kwargs: The shared settings of `Optimizer` (clipping, name).

    >>> AdamW().get_config()["weight_decay"]
    0.004
    """

    def __init__(self, params=None, learning_rate=0.001, *, weight_decay=0.004, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: `weight_decay` must be a float, got weight_decay=None "
                             "(use Adam for no weight decay).")
        super().__init__(params, learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016), with Keras's momentum schedule
    `u_t = beta_1 * (1 - 0.5 * 0.96^t)` and its running product `U_t = u_1 ... u_t`:

    `m <- m + (g - m)(1 - beta_1); v <- v + (g² - v)(1 - beta_2)`;
    `m̂ = u_{t+1} m / (1 - U_t u_{t+1}) + (1 - u_t) g / (1 - U_t)`; `v̂ = v / (1 - beta_2^t)`;
    `w <- w - lr * m̂ / (sqrt(v̂) + eps)`.

    Args:
        params: Parameters (torch style) or None to build at the first step.
        learning_rate: A float, a schedule or a callable.
        beta_1: Decay of the first moment.
        beta_2: Decay of the second moment.
        epsilon: Added to sqrt(v̂).
        **kwargs: The shared settings of `Optimizer` (clipping, weight decay, name).

    >>> Nadam().get_config()["beta_1"]
    0.9
    """

    def __init__(self, params=None, learning_rate=0.001, *, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, **kwargs):
        super().__init__(params, {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon},
                         learning_rate=learning_rate, **kwargs)
        self._u_product = (0, f32(1.0))  # (t, U_t)

    def _u(self, t: int) -> torch.Tensor:
        return f32(self._config["beta_1"]) * (1.0 - 0.5 * power32(0.96, t))

    def _before_updates(self) -> None:
        # Keras keeps U_t in a variable; it is a function of the step alone, so rnnkit rebuilds
        # it from `iterations` when that moved otherwise (a restored optimizer), and its saved
        # state stays per weight.
        t = self.iterations + 1
        done, product = self._u_product
        if done > t:
            done, product = 0, f32(1.0)
        for s in range(done + 1, t + 1):
            product = product * self._config["beta_1"] * (1.0 - 0.5 * power32(0.96, s))
        self._u_product = (t, product)

    def _update(self, p, g, state, lr):
        c = self._config
        t = self.iterations + 1
        u_t, u_next, product = self._u(t), self._u(t + 1), self._u_product[1]
        m = slot(state, "m", zeros(p))
        v = slot(state, "v", zeros(p))
        # Keras's Nadam (unlike its Adam) takes 1 - beta from the float32 beta: 1 - f32(0.999)
        # is 1.3e-5 away from 0.001.
        m.add_((g - m) * float(1 - f32(c["beta_1"])))
        v.add_((g * g - v) * float(1 - f32(c["beta_2"])))
        m_hat = (m * float(u_next) / float(1 - product * u_next)
                 + g * float(1 - u_t) / float(1 - product))
        v_hat = v / float(1 - power32(c["beta_2"], t))
        p.sub_(m_hat * lr / (torch.sqrt(v_hat) + c["epsilon"]))


class Adamax(Optimizer):
    """Adamax, Adam with the infinity norm (Kingma & Ba, 2014, section 7.1).

    `m <- m + (g - m)(1 - beta_1); u <- max(beta_2 * u, |g|)`;
    `w <- w - lr * m / ((1 - beta_1^t)(u + eps))`.

    Args:
        params: Parameters (torch style) or None to build at the first step.
        learning_rate: A float, a schedule or a callable.
        beta_1: Decay of the first moment.
        beta_2: Decay of the infinity norm.
        epsilon: Added to the norm.
        **kwargs: The shared settings of `Optimizer` (clipping, weight decay, name).

    >>> Adamax().get_config()["beta_2"]
    0.999
    """

    def __init__(self, params=None, learning_rate=0.001, *, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, **kwargs):
        super().__init__(params, {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon},
                         learning_rate=learning_rate, **kwargs)

    def _update(self, p, g, state, lr):
        c = self._config
        m = slot(state, "m", zeros(p))
        u = slot(state, "u", zeros(p))
        m.add_((g - m) * (1.0 - c["beta_1"]))
        torch.maximum(u * c["beta_2"], g.abs(), out=u)
        correction = float(1 - power32(c["beta_1"], self.iterations + 1))
        p.sub_(m * lr / ((u + c["epsilon"]) * correction))
