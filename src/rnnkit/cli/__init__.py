"""The `rnnkit` command: thin subcommands over the public API.

    rnnkit compare     the seed's SimpleRNN, LSTM and GRU trained and compared (the main job)
    rnnkit gradients   ‖∂L/∂h_t‖ against t per architecture on a long sequence
    rnnkit horizon     validation loss against the distance a task must remember
    rnnkit train       a model from a JSON config, trained on a named dataset and saved
    rnnkit bench       rnnkit's kernels against torch.nn
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import shlex
import sys


class UsageError(ValueError):
    """A mistake in what the user asked for (an option, a config file, a dataset's settings):
    `main` prints it as one line and exits with status 2, as argparse does for its options.
    Every other exception is a bug and keeps its traceback."""


@contextlib.contextmanager
def user_input(what: str | None = None):
    """The library's refusals of the user's input (ValueError, TypeError, NotImplementedError)
    inside this block, as a UsageError (its message prefixed by `what`). Only around code that
    does nothing but check and build from that input: a bug elsewhere must keep its traceback."""
    try:
        yield
    except UsageError:
        raise
    except (ValueError, TypeError, NotImplementedError) as error:
        raise UsageError(f"{what}: {error}" if what else str(error)) from error


def count(minimum: int):
    """An argparse type: an integer of at least `minimum`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer of at least {minimum}, got "
                                             f"{text!r}")
        return value
    parse.__name__ = f"integer >= {minimum}"
    return parse


def command_line(sub: argparse.ArgumentParser, args) -> str:
    """The command with every option spelled out (defaults too): what reproduces a result."""
    words = sub.prog.split()
    for action in sub._actions:
        value = getattr(args, action.dest, None)
        if action.dest in ("help", "verbose") or value is None:
            continue
        values = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        words += values if not action.option_strings else [action.option_strings[0], *values]
    return shlex.join(words)


def parser() -> argparse.ArgumentParser:
    from . import bench, compare, gradients, horizon, train

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives "
                        "the same data, weights and shuffles (default: %(default)s)")
    common.add_argument("--verbose", type=int, default=1, choices=(0, 1),
                        help="1: progress bars (default), 0: results only")
    root = argparse.ArgumentParser(prog="rnnkit", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (compare, gradients, horizon, train, bench):
        command.add_parser(sub, common)
    return root


def main(argv=None) -> int:
    root = parser()
    args = root.parse_args(argv)
    subcommands = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    args.command_line = command_line(subcommands.choices[args.command], args)
    if getattr(args, "out", None) is not None:
        args.out_path = pathlib.Path(args.out)
        args.out_path.mkdir(parents=True, exist_ok=True)
    try:
        return args.run(args)
    except (UsageError, ImportError, FileNotFoundError) as error:  # the user's input, named
        message = " ".join(str(error).split())
        print(f"rnnkit {args.command}: error: {message}", file=sys.stderr)
        return 2
