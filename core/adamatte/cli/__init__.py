"""The `adamatte` command line: one module per command group, each parser beside its handler;
every error is one line and an exit code. Handlers import the heavy modules (torch) themselves,
so `adamatte info` and `adamatte farm export` run without torch."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from adamatte import __version__
from adamatte.cli import eval as eval_commands
from adamatte.cli import farm, info, matte, render, train, weights
from adamatte.errors import EXIT_BROKEN_PIPE, EXIT_CANCELLED, AdamatteError

DESCRIPTION = """\
adamatte pulls a clean, temporally stable alpha matte out of a plate and writes it as
an OpenEXR sequence. Sequences may be given as shot.####.exr, shot.%04d.exr,
shot.@@@@.exr, one member (shot.1001.exr), a folder, or a .mov/.mp4 file.

exit codes: 0 success, 2 bad input, 3 missing input frames, 4 out of GPU memory, 130 cancelled, 141 the
progress reader (a pipe) went away."""

COMMAND_GROUPS = (info, matte, render, weights, train, eval_commands, farm)  # in --help's order


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adamatte", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"adamatte {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    try:
        return func(args)
    except AdamatteError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"adamatte: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("adamatte: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:  # `adamatte render --progress json | head`: the reader left; stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that Python's exit flush cannot fail again
        return EXIT_BROKEN_PIPE


def run() -> None:
    """The process's entry point (`adamatte`, `python -m adamatte`): main(), then exit with its code."""
    sys.exit(main())
