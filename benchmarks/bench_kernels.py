"""rnnkit's recurrent layers against torch.nn and Keras-on-JAX: training step (forward+backward)
and inference, same process, same weights, interleaved runs, medians.

    python benchmarks/bench_kernels.py [--quick] [--reps N] [--cells LSTM GRU]

Prints, per cell and shape (B, T, I, H): median milliseconds, the speed-up of rnnkit over each
peer, and rnnkit's forward GFLOP/s against the sgemm peak measured here (torch.mm at 2048³).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from peers import CELLS, keras_available, keras_peer, make_x, rnnkit_peer, torch_peer

GRID = [(32, 100, 1, 128), (64, 200, 32, 256), (32, 1000, 1, 128), (1, 1000, 1, 128),
        (8, 500, 16, 512), (128, 100, 64, 512)]
QUICK = [(32, 100, 1, 128), (8, 500, 16, 512)]
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def sgemm_peak(n=2048, reps=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(reps))
    return 2 * n**3 / best / 1e9


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fns: dict, reps: int) -> dict:
    """Median seconds of each callable, run round-robin after one warm-up each."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            times[k].append(_seconds(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def forward_gflop(cls, b, t, i, h):
    return 2 * b * t * GATES[cls] * h * (i + h) / 1e9


def bench_case(cls, shape, reps, with_keras):
    b, t, i, h = shape
    x = make_x(b, t, i)
    layer, train, infer = rnnkit_peer(cls, x, h)
    peers_train, peers_infer = {"rnnkit": train}, {"rnnkit": infer}
    peers_train["torch"], peers_infer["torch"], _ = torch_peer(cls, x, layer)
    if with_keras:
        peers_train["keras"], peers_infer["keras"] = keras_peer(cls, x, layer)
    infer()
    assert layer.last_backend == "native", layer.last_backend
    return interleaved(peers_train, reps), interleaved(peers_infer, reps)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two shapes only")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args(argv)
    with_keras = not args.no_keras and keras_available()
    peak = sgemm_peak()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, sgemm peak "
          f"{peak:.0f} GFLOP/s, Keras-on-JAX {'yes' if with_keras else 'not installed'}")
    header = f"{'cell':<10}{'B,T,I,H':<18}{'phase':<7}{'rnnkit ms':>10}{'torch ms':>10}{'x torch':>8}"
    header += f"{'keras ms':>10}{'x keras':>8}" if with_keras else ""
    print(header + f"{'GFLOP/s':>9}{'% peak':>8}")
    for cls in args.cells:
        for shape in (QUICK if args.quick else GRID):
            for phase, med in zip(("train", "infer"), bench_case(cls, shape, args.reps, with_keras)):
                flops = forward_gflop(cls, *shape) * (3 if phase == "train" else 1)
                rate = flops / med["rnnkit"]
                line = (f"{cls:<10}{','.join(map(str, shape)):<18}{phase:<7}{med['rnnkit'] * 1e3:>10.2f}"
                        f"{med['torch'] * 1e3:>10.2f}{med['torch'] / med['rnnkit']:>8.2f}")
                if with_keras:
                    line += f"{med['keras'] * 1e3:>10.2f}{med['keras'] / med['rnnkit']:>8.2f}"
                print(line + f"{rate:>9.1f}{100 * rate / peak:>7.1f}%", flush=True)


if __name__ == "__main__":
    main()
