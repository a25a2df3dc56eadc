"""float64 gradcheck (finite differences) of every cell and option, through the layer."""

import pytest
import torch
from torch.func import functional_call

from rnnkit import layers

CONFIGS = [
    ("SimpleRNN", {}), ("SimpleRNN", {"activation": "relu"}), ("SimpleRNN", {"use_bias": False}),
    ("SimpleRNN", {"go_backwards": True}), ("SimpleRNN", {"activation": "sigmoid"}),
    ("LSTM", {}), ("LSTM", {"recurrent_activation": "hard_sigmoid"}),
    ("LSTM", {"unit_forget_bias": False}), ("LSTM", {"use_bias": False}),
    ("LSTM", {"go_backwards": True}), ("LSTM", {"activation": "relu"}),
    ("GRU", {}), ("GRU", {"reset_after": False}), ("GRU", {"use_bias": False}),
    ("GRU", {"reset_after": False, "use_bias": False}), ("GRU", {"go_backwards": True}),
    ("GRU", {"recurrent_activation": "hard_sigmoid"}),
]
IDS = [f"{cls}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for cls, kw in CONFIGS]


@pytest.mark.parametrize("time", [1, 4])
@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=IDS)
def test_gradcheck(cls, kwargs, time):
    layer = getattr(layers, cls)(3, return_sequences=True, return_state=True, **kwargs,
                                 input_shape=(None, 2)).double()
    names = [name for name, _ in layer.named_parameters()]
    n_states = len(layer.spec.state_names)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, time, 2, dtype=torch.float64, generator=g, requires_grad=True)
    weights = [(0.7 * torch.randn(w.shape, dtype=torch.float64, generator=g)).requires_grad_()
               for w in layer.weights]
    states = [(0.5 * torch.randn(2, 3, dtype=torch.float64, generator=g)).requires_grad_()
              for _ in range(n_states)]

    def run(x, *args):
        params = dict(zip(names, args[:len(names)]))
        return tuple(functional_call(layer, params, (x,), {"initial_state": list(args[len(names):])}))

    assert torch.autograd.gradcheck(run, (x, *weights, *states), eps=1e-6, atol=1e-6, rtol=1e-5)
