"""rnnkit compare: the seed's SimpleRNN, LSTM and GRU models trained with the same budget on the
same data, side by side — parameters, time per epoch, final losses, loss curves and how much of
the loss's gradient reaches each time step."""

from __future__ import annotations

import numpy as np

from .experiment import (CellRun, add_experiment_options, gradient_plot, print_table,
                         run_experiment)
from .report import Report, line_panels


def add_parser(sub, common):
    p = sub.add_parser("compare", parents=[common], help="the seed's three models trained and "
                       "compared on a real dataset (the main job)", description=__doc__)
    add_experiment_options(p, "sunspots", 100, "rnnkit-report")
    p.set_defaults(run=run)


def run(args) -> int:
    task, runs = run_experiment(args)
    report = Report(f"SimpleRNN, LSTM and GRU on {task.name}")
    report.text(f"{task.description}. Each model is the seed's: {task.model_name(args.units)}, "
                f"Adam, {task.loss}; {args.epochs} "
                f"epochs of batch {args.batch_size}, seed {args.seed}. Command: {args.command_line}.")
    header, rows = results_table(task, runs)
    report.table(header, rows)
    print_table(header, rows)
    if args.epochs:
        report.image(line_panels(args.out_path / "losses.png", [(
            f"Loss on {task.name}", {f"{r.cell} {k}": (np.arange(1, args.epochs + 1),
                                                       r.history[k], style)
                                     for r in runs for k, style in (("loss", "-"),
                                                                    ("val_loss", "--"))})],
            "epoch", task.loss), "Training (solid) and validation (dashed) loss per epoch.")
    report.image(gradient_plot(args.out_path / "gradients.png", runs),
                 "Mean over the validation set (its first 256 sequences) of ‖∂L/∂h_t‖ at each "
                 "step t of the window, before and after training.")
    report.text("‖∂L/∂h_1‖ / ‖∂L/∂h_T‖, the share of the last step's gradient that reaches "
                "the first step: " + ratios_text(runs) + ".")
    path = report.save(args.out_path, "compare", {
        "dataset": task.description, "baselines": task.baselines,
        "runs": [r.__dict__ for r in runs]})
    print(f"\nReport: {path} (and .html, .json, PNG plots) in {args.out_path}/")
    return 0


def results_table(task, runs: list[CellRun]):
    metric = "val_accuracy" if task.classes else None
    header = ["model", "parameters", "s / epoch", "train loss", "val loss"]
    header += ["val accuracy"] if metric else []
    rows = []
    for r in runs:
        final = r.final
        row = [r.cell, f"{r.params:,}", f"{r.seconds_per_epoch:.3f}" if r.history else "",
               _num(final.get("loss")), _num(final.get("val_loss"))]
        rows.append(row + ([_num(final.get(metric))] if metric else []))
    for name, loss in task.baselines.items():
        rows.append([name, "", "", "", _num(loss)] + ([""] if metric else []))
    return header, rows


def ratios_text(runs) -> str:
    return "; ".join(f"{r.cell} {CellRun.first_to_last(r.norms_initial):.2e} untrained, "
                     f"{CellRun.first_to_last(r.norms_trained):.2e} trained" for r in runs)


def _num(value) -> str:
    if value is None:
        return ""
    if value == 0:
        return "0"
    return f"{value:.4f}" if 1e-3 <= abs(value) < 1e4 else f"{value:.3e}"
