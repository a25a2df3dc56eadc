"""Per-time-step gradient norms of a recurrent layer.

For the loss L of a batch, ∂L/∂h_t is the total derivative with respect to the layer's hidden
state h_t (the output h of LSTM, not its cell state c): what reaches step t from the loss through
every later step. It is measured by adding a zero tensor δ_t to each new state as the layer runs
(on its reference loop, which computes the same function as the native one) — h_t + δ_t has the
value h_t, and ∂L/∂δ_t = ∂L/∂h_t. ∂L/∂x_t is the gradient with respect to the layer's input at
step t. Steps are numbered in processing order (reversed for go_backwards).
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from ..layers.recurrent import RNNLayer

WRT = ("state", "input")


def recurrent_layer(model, layer=None) -> RNNLayer:
    """The model's recurrent layer named or indexed by `layer`, or its first one."""
    if isinstance(layer, RNNLayer):
        return layer
    if layer is not None:
        found = model.get_layer(name=layer) if isinstance(layer, str) else model.layers[layer]
        if not isinstance(found, RNNLayer):
            raise ValueError(f"{model.name}: expected a SimpleRNN, LSTM or GRU layer, got "
                             f"{found.name} ({type(found).__name__}).")
        return found
    for candidate in model.layers:
        if isinstance(candidate, RNNLayer):
            return candidate
    raise ValueError(f"{model.name}: expected a model with a SimpleRNN, LSTM or GRU layer, got "
                     f"layers {[type(l).__name__ for l in model.layers]}.")


@contextlib.contextmanager
def _watching(layer):
    """Zeros δ_t added to the layer's new states, and its input made a leaf: both collected."""
    probes, inputs = [], []

    def probe(t, h):
        delta = torch.zeros_like(h, requires_grad=True)
        probes.append(delta)
        return h + delta

    def leaf_input(module, args, kwargs):
        x = args[0].detach().to(torch.get_default_dtype() if not args[0].is_floating_point()
                                else args[0].dtype).requires_grad_()
        inputs.append(x)
        return (x, *args[1:]), kwargs

    layer.state_probe = probe
    handle = layer.register_forward_pre_hook(leaf_input, with_kwargs=True)
    try:
        yield probes, inputs
    finally:
        layer.state_probe = None
        handle.remove()


def gradient_norms(model, x, y, layer=None, wrt: str = "state", loss=None) -> np.ndarray:
    """(T,) array: the mean over the batch of ‖∂L/∂h_t‖ (wrt="state") or ‖∂L/∂x_t‖ (wrt="input")
    for a recurrent layer (`layer`: a name, an index or the layer; default the first recurrent
    layer), where L is the model's compiled loss (or `loss(y_true, y_pred)`) on the batch (x, y)
    in inference mode (dropout off), as `evaluate` computes it.

    >>> from rnnkit.models import Sequential
    >>> from rnnkit.layers import SimpleRNN, Dense
    >>> model = Sequential([SimpleRNN(4, input_shape=(6, 1)), Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> gradient_norms(model, np.ones((2, 6, 1)), np.ones((2, 1))).shape
    (6,)
    """
    if wrt not in WRT:
        raise ValueError(f"gradient_norms: expected wrt one of {WRT}, got {wrt!r}.")
    target = recurrent_layer(model, layer)
    if loss is None and not model.compiled:
        raise ValueError(f"{model.name}: gradient_norms needs a loss; compile the model or pass "
                         "loss=.")
    x, y = model._tensors("gradient_norms", x, y, need_y=True)
    model._ensure_built(x)
    x, y = x.to(model._weights_device()), y.to(model._weights_device())
    was_training = model.training
    model.train(False)
    try:
        with _watching(target) as (probes, inputs), torch.enable_grad():
            y_pred = model(x)  # the compiled loss: masks and penalties included, as in fit
            value = model._total_loss(y, y_pred) if loss is None else loss(y, y_pred)
            leaves = probes if wrt == "state" else inputs
            grads = torch.autograd.grad(value, leaves, allow_unused=True)
    finally:
        model.train(was_training)
    if wrt == "input":  # (batch, time, features) -> per step
        g = grads[0] if grads[0] is not None else torch.zeros_like(inputs[0])
        return g.norm(dim=-1).mean(dim=0).detach().cpu().numpy()
    norms = [torch.zeros(()) if g is None else g.norm(dim=-1).mean() for g in grads]
    return torch.stack([n.detach().cpu() for n in norms]).numpy()
