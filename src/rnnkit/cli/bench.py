"""rnnkit bench: rnnkit's recurrent kernels against torch.nn — a training step (forward and
backward) and inference, the same weights and input, runs interleaved in one process, medians.
(benchmarks/bench_kernels.py adds Keras on JAX when it is installed.)"""

from __future__ import annotations

import torch

from .. import benchmark
from ..backends import native
from ..utils.progbar import Progbar
from . import UsageError, count
from .experiment import print_table

SHAPES = ["32,100,1,128", "8,500,16,512"]


def add_parser(sub, common):
    p = sub.add_parser("bench", parents=[common], help="rnnkit's kernels against torch.nn",
                       description=__doc__)
    p.add_argument("--cells", nargs="+", default=list(benchmark.CELLS),
                   choices=list(benchmark.CELLS))
    p.add_argument("--shapes", nargs="+", default=SHAPES, metavar="B,T,I,H",
                   help="batch, time steps, input features, units (default: %(default)s)")
    p.add_argument("--reps", type=count(1), default=7, help="timed runs of each (default: %(default)s)")
    p.set_defaults(run=run)


def _shape(text: str) -> tuple:
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        raise UsageError(f"expected a shape B,T,I,H of four positive integers, got {text!r}.")
    return shape


def run(args) -> int:
    shapes = [_shape(s) for s in args.shapes]
    torch.manual_seed(args.seed)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, rnnkit native kernel: "
          f"{native.module().__name__.rsplit('_', 1)[-1] if native.available() else 'not built'}")
    bar = Progbar(len(shapes) * len(args.cells), verbose=args.verbose, unit_name="case")
    header = ["cell", "B,T,I,H", "backend", "train ms", "torch ms", "× torch", "infer ms",
              "torch ms", "× torch"]
    rows = []
    for cell in args.cells:
        for shape in shapes:
            train, infer, backend = benchmark.bench_case(cell, shape, args.reps, seed=args.seed)
            rows.append([cell, ",".join(map(str, shape)), backend]
                        + [f"{v:.2f}" for m in (train, infer)
                           for v in (m["rnnkit"] * 1e3, m["torch"] * 1e3,
                                     m["torch"] / m["rnnkit"])])
            bar.update(len(rows), finalize=len(rows) == bar.target)
    print_table(header, rows)
    return 0
