"""The `rnnkit` command: thin subcommands over the public API."""

from __future__ import annotations

import argparse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="rnnkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train the seed's SimpleRNN, LSTM and GRU models on a "
                                       "forecasting task and compare their losses")
    demo.add_argument("--epochs", type=int, default=5)
    demo.add_argument("--samples", type=int, default=1000)
    demo.add_argument("--time-steps", type=int, default=40)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run
        run(epochs=args.epochs, samples=args.samples, time_steps=args.time_steps, seed=args.seed,
            verbose=args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
