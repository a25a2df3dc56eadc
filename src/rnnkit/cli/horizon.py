"""rnnkit horizon: the memory-horizon experiment. Each architecture learns the adding problem (or
the copy task) with the answer `lag` steps back, for growing lags, with the same data, budget and
seed; its validation loss is reported as a fraction of chance (1 = learned nothing)."""

from __future__ import annotations

from ..diagnostics import memory_horizon
from ..diagnostics.horizon import CELLS, TASKS
from ..utils.progbar import Progbar
from . import count
from .experiment import print_table
from .report import Report, line_panels


def add_parser(sub, common):
    p = sub.add_parser("horizon", parents=[common], help="validation loss against the distance "
                       "a task must remember, per architecture", description=__doc__)
    p.add_argument("--task", default="adding", choices=TASKS, help="default: %(default)s")
    p.add_argument("--lags", type=count(2), nargs="+", default=[25, 50, 100, 200],
                   help="default: %(default)s")
    p.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    p.add_argument("--units", type=count(1), default=64, help="default: %(default)s")
    p.add_argument("--samples", type=count(10), default=10000, help="default: %(default)s")
    p.add_argument("--epochs", type=count(1), default=20, help="default: %(default)s")
    p.add_argument("--batch-size", type=count(1), default=32, help="default: %(default)s")
    p.add_argument("--out", default="rnnkit-horizon", help="default: %(default)s")
    p.set_defaults(run=run)


def run(args) -> int:
    bar = Progbar(len(args.lags) * len(args.cells), verbose=args.verbose, unit_name="model")
    points = []

    def done(point):  # a bar on a terminal, else a line per model (each takes a while)
        points.append(point)
        result = [(f"{point.cell} lag {point.lag} / chance", point.relative)]
        if bar.dynamic or not args.verbose:
            bar.update(len(points), result, finalize=len(points) == bar.target)
        else:
            print(f"{len(points)}/{bar.target} {point.cell} lag {point.lag}: validation loss "
                  f"/ chance {point.relative:.3f}", flush=True)

    memory_horizon(args.cells, args.lags, task=args.task, units=args.units, samples=args.samples,
                   epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                   on_point=done)
    header = ["lag"] + [f"{c} val loss / chance" for c in args.cells]
    by = {(p.cell, p.lag): p for p in points}
    rows = [[lag] + [f"{by[c, lag].relative:.3f}" for c in args.cells] for lag in args.lags]
    print_table(header, rows)
    report = Report(f"Memory horizon on the {args.task} task")
    report.text(f"Each cell ({args.units} units) trained {args.epochs} epochs of batch "
                f"{args.batch_size} with Adam on {args.samples} sequences (20 % held out), seed "
                f"{args.seed}; the validation loss divided by chance ({points[0].chance:.4f} at "
                f"the first lag). Command: {args.command_line}.")
    report.table(header, rows)
    report.image(line_panels(args.out_path / "horizon.png", [(
        f"{args.task} task", {c: (args.lags, [by[c, lag].relative for lag in args.lags], "o-")
                              for c in args.cells})], "lag (steps to remember)",
        "validation loss / chance", logy=False), "Validation loss as a fraction of chance "
        "against the lag; 1 is chance, 0 solved.")
    path = report.save(args.out_path, "horizon", {"task": args.task, "points": [
        {**p.__dict__, "relative": p.relative} for p in points]})
    print(f"\nReport: {path} (and .html, .json, horizon.png) in {args.out_path}/")
    return 0
