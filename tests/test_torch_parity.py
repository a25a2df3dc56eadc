"""Where torch.nn computes the same function, rnnkit matches it: values and every gradient."""

import pytest
import torch

from rnnkit import layers
from rnnkit.interop._gates import keras_to_torch, torch_to_keras

CASES = [("SimpleRNN", torch.nn.RNN, "simple_rnn", {}),
         ("SimpleRNN", torch.nn.RNN, "simple_rnn", {"activation": "relu"}),
         ("LSTM", torch.nn.LSTM, "lstm", {}),
         ("GRU", torch.nn.GRU, "gru", {})]


def _torch_module(torch_cls, cell, layer, kwargs):
    extra = {"nonlinearity": kwargs.get("activation", "tanh")} if cell == "simple_rnn" else {}
    module = torch_cls(layer.input_dim, layer.units, batch_first=True, **extra).double()
    w_ih, w_hh, b_ih, b_hh = keras_to_torch(cell, layer.kernel.detach(),
                                            layer.recurrent_kernel.detach(), layer.bias.detach())
    with torch.no_grad():
        for name, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                               (w_ih, w_hh, b_ih, b_hh)):
            getattr(module, name).copy_(value)
    return module


@pytest.mark.parametrize("cls,torch_cls,cell,kwargs", CASES, ids=[c[0] + str(c[3]) for c in CASES])
@pytest.mark.parametrize("batch,time,features,units", [(3, 7, 2, 5), (1, 1, 1, 4), (4, 20, 3, 17)])
def test_matches_torch_nn(cls, torch_cls, cell, kwargs, batch, time, features, units):
    layer = getattr(layers, cls)(units, return_sequences=True, return_state=True,
                                 bias_initializer="random_normal", input_shape=(None, features),
                                 **kwargs).double()
    module = _torch_module(torch_cls, cell, layer, kwargs)
    x = torch.randn(batch, time, features, dtype=torch.float64, requires_grad=True)
    ours = layer(x)
    theirs, state = module(x)
    torch.testing.assert_close(ours[0], theirs, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ours[1], (state[0] if cell == "lstm" else state)[0])
    if cell == "lstm":
        torch.testing.assert_close(ours[2], state[1][0])

    grad_out = torch.randn_like(theirs)
    dx_ours, *dw_ours = torch.autograd.grad(ours[0], [x, *layer.weights], grad_out)
    dx_theirs, *dw_theirs = torch.autograd.grad(theirs, [x, *module.parameters()], grad_out)
    torch.testing.assert_close(dx_ours, dx_theirs)
    if cell != "gru":  # Keras's one bias b = b_ih + b_hh, so dL/db = dL/db_ih (not their sum)
        dw_theirs[3] = torch.zeros_like(dw_theirs[3])
    for ours_w, theirs_w in zip(dw_ours, torch_to_keras(cell, *dw_theirs)):
        torch.testing.assert_close(ours_w, theirs_w)


def test_gate_mapping_round_trips():
    k, u, b = torch.randn(3, 15), torch.randn(5, 15), torch.randn(2, 15)
    back = torch_to_keras("gru", *keras_to_torch("gru", k, u, b))
    for a, c in zip(back, (k, u, b)):
        assert torch.equal(a, c)


def test_gru_reset_before_has_no_torch_equivalent():
    with pytest.raises(ValueError, match="reset_after=False"):
        keras_to_torch("gru", torch.zeros(2, 6), torch.zeros(2, 6), torch.zeros(6), reset_after=False)
