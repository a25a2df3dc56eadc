"""rnnkit gradients: ‖∂L/∂h_t‖ against the time step t for SimpleRNN, LSTM and GRU on a long
sequence, before and after training with the same budget — the vanishing-gradient problem as
a plot and one number per model, ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖."""

from __future__ import annotations

from .experiment import (CellRun, add_experiment_options, gradient_plot, print_table,
                         run_experiment)
from .report import Report


def add_parser(sub, common):
    p = sub.add_parser("gradients", parents=[common], help="per-step gradient norms of each "
                       "architecture on a long sequence, as a plot", description=__doc__)
    add_experiment_options(p, "adding", 5, "rnnkit-gradients", ", 200 steps")
    p.set_defaults(run=run)


def run(args) -> int:
    task, runs = run_experiment(args)
    header = ["model", "‖∂L/∂h_1‖/‖∂L/∂h_T‖ untrained", "trained", "val loss"]
    rows = [[r.cell, f"{CellRun.first_to_last(r.norms_initial):.3e}",
             f"{CellRun.first_to_last(r.norms_trained):.3e}",
             f"{r.final['val_loss']:.4f}" if r.history else ""] for r in runs]
    print_table(header, rows)
    report = Report(f"Gradient norms per time step on {task.name}")
    report.text(f"{task.description}. Each model: "
                f"{task.model_name(args.units)}; trained {args.epochs} epochs of batch "
                f"{args.batch_size} with Adam, seed {args.seed}. ∂L/∂h_t is the total derivative "
                f"of the validation loss with respect to the hidden state at step t, averaged "
                f"over the validation set (its first 256 sequences). Command: {args.command_line}.")
    report.table(header, rows)
    report.image(gradient_plot(args.out_path / "gradients.png", runs),
                 "Mean ‖∂L/∂h_t‖ at each step t, before and after training (log scale).")
    path = report.save(args.out_path, "gradients", {
        "dataset": task.description, "runs": [r.__dict__ for r in runs]})
    print(f"\nReport: {path} (and .html, .json, gradients.png) in {args.out_path}/")
    return 0
