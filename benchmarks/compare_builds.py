"""rnnkit's native kernels against another build of them (a baseline checkout), as each one's
speed-up over torch.nn measured in its own process: rounds alternate one process per build, and
the medians of the ratios are compared, so that the machine's drift between runs cancels.

    git worktree add /tmp/base <commit> && (cd /tmp/base && python setup.py build_ext --inplace)
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        .venv/bin/python benchmarks/compare_builds.py --baseline /tmp/base/src --rounds 3

A ratio "this / baseline" above 1 means this build is faster than the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

GRID = [(32, 100, 1, 128), (64, 200, 32, 256), (1, 1000, 1, 128), (8, 500, 16, 512),
        (128, 100, 64, 512)]
CELLS = ("SimpleRNN", "LSTM", "GRU")
THIS = Path(__file__).resolve().parents[1] / "src"


def child(reps: int) -> None:
    """One build, in this process: {cell,shape: [train × torch, infer × torch]} as JSON."""
    import torch

    from rnnkit import benchmark

    out = {}
    for cls in CELLS:
        for shape in GRID:
            train, infer, backend = benchmark.bench_case(cls, shape, reps)
            assert backend == "native", backend
            out[f"{cls} {','.join(map(str, shape))}"] = [train["torch"] / train["rnnkit"],
                                                         infer["torch"] / infer["rnnkit"]]
    print(json.dumps({"threads": torch.get_num_threads(), "ratios": out}))


def run(src: Path, reps: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, __file__, "--child", "--reps", str(reps)], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["ratios"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="the other checkout's src/ (built in place)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.reps)
    runs = {"baseline": [], "this": []}
    for k in range(args.rounds):
        for name, src in (("baseline", args.baseline), ("this", THIS))[:: 1 if k % 2 == 0 else -1]:
            runs[name].append(run(src, args.reps))
    print(f"{'cell':<10}{'B,T,I,H':<17}{'phase':<7}{'base × torch':>13}{'this × torch':>13}"
          f"{'this / base':>12}")
    for case in runs["this"][0]:
        cls, shape = case.split()
        for p, phase in enumerate(("train", "infer")):
            base = statistics.median(r[case][p] for r in runs["baseline"])
            this = statistics.median(r[case][p] for r in runs["this"])
            print(f"{cls:<10}{shape:<17}{phase:<7}{base:>13.2f}{this:>13.2f}{this / base:>12.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
