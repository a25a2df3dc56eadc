"""rnnkit's recurrent layers against torch.nn and Keras-on-JAX: training step (forward+backward)
and inference, same process, same weights, interleaved runs, medians.

    python benchmarks/bench_kernels.py [--quick] [--reps N] [--cells LSTM GRU]

Prints, per cell and shape (B, T, I, H): median milliseconds, the speed-up of rnnkit over each
peer, and rnnkit's forward GFLOP/s against the sgemm peak measured here (torch.mm at 2048³).
"""

from __future__ import annotations

import argparse

import torch

from peers import keras_available, keras_peer
from rnnkit import benchmark
from rnnkit.benchmark import CELLS, forward_gflop, sgemm_peak

GRID = [(32, 100, 1, 128), (64, 200, 32, 256), (32, 1000, 1, 128), (1, 1000, 1, 128),
        (8, 500, 16, 512), (128, 100, 64, 512)]
QUICK = [(32, 100, 1, 128), (8, 500, 16, 512)]


def bench_case(cls, shape, reps, with_keras):
    train, infer, backend = benchmark.bench_case(cls, shape, reps,
                                                 {"keras": keras_peer} if with_keras else None)
    assert backend == "native", backend
    return train, infer


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
