"""Training workspace: the bytes a recurrent layer keeps between forward and backward (every
tensor autograd saves, counted once per storage, less the input and the weights), rnnkit
against torch.nn on the benchmark grid.

    python benchmarks/bench_memory.py
"""

from __future__ import annotations

import torch

from bench_kernels import GRID
from rnnkit.benchmark import CELLS, make_x, rnnkit_peer, torch_peer


def saved_bytes(fn, exclude) -> int:
    """Bytes of the distinct storages autograd saves while fn() builds its graph."""
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    storages = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in skip:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    del out
    return sum(storages.values())


def main(argv=None):
    print(f"{'cell':<10}{'B,T,I,H':<18}{'rnnkit MB':>10}{'torch MB':>10}{'rnnkit/torch':>13}")
    for cls in CELLS:
        for shape in GRID:
            b, t, i, h = shape
            x = make_x(b, t, i).requires_grad_()
            layer, _, _ = rnnkit_peer(cls, x, h)
            module = torch_peer(cls, x, layer)[2]
            ours = saved_bytes(lambda: layer(x), [x, *layer.weights])
            theirs = saved_bytes(lambda: module(x)[0], [x, *module.parameters()])
            print(f"{cls:<10}{','.join(map(str, shape)):<18}{ours / 2**20:>10.1f}{theirs / 2**20:>10.1f}"
                  f"{ours / theirs:>13.2f}", flush=True)


if __name__ == "__main__":
    main()
