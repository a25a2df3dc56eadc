"""The native loop's thread team with more threads than cores: an LSTM(512) forward at batch 1
(where `auto` would split the hidden units) with 1 to 8 threads, the automatic split against
the forced row and unit splits, interleaved in one process, medians.

    .venv/bin/python benchmarks/bench_threads.py

The row split has no barrier, so it is the floor: `auto` must never be slower than it.
"""

from __future__ import annotations

import argparse
import os

import torch

from rnnkit import benchmark, layers
from rnnkit.backends import native


def forward(layer, x, split):
    def run():
        os.environ["RNNKIT_SPLIT"] = split
        with torch.no_grad():
            layer(x)
    return run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--shape", default="1,100,32,512", help="B,T,I,H")
    args = parser.parse_args(argv)
    b, t, i, h = map(int, args.shape.split(","))
    x = benchmark.make_x(b, t, i)
    layer = layers.LSTM(h, backend="native", input_shape=(None, i))
    print(f"LSTM B,T,I,H = {args.shape}; usable cores {native.CORES} (os.cpu_count() "
          f"{os.cpu_count()})")
    print(f"{'threads':>8}{'auto chose':>11}{'rows ms':>9}{'auto ms':>9}{'units ms':>10}"
          f"{'auto / rows':>12}")
    saved = torch.get_num_threads(), os.environ.get("RNNKIT_SPLIT")
    try:
        for threads in (1, 2, 4, 8):
            torch.set_num_threads(threads)
            med = benchmark.interleaved({s: forward(layer, x, s) for s in ("rows", "auto", "units")},
                                        args.reps)
            chose = "units" if native.module().splits_units(
                B=b, H=h, threads=threads, split=0, cores=native.CORES) else "rows"
            print(f"{threads:>8}{chose:>11}{med['rows'] * 1e3:>9.2f}{med['auto'] * 1e3:>9.2f}"
                  f"{med['units'] * 1e3:>10.2f}{med['auto'] / med['rows']:>12.2f}", flush=True)
    finally:
        torch.set_num_threads(saved[0])
        if saved[1] is None:
            os.environ.pop("RNNKIT_SPLIT", None)
        else:
            os.environ["RNNKIT_SPLIT"] = saved[1]


if __name__ == "__main__":
    main()
