"""The `adamatte` command line: one subcommand per job, all errors as one line and an exit code."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable

from adamatte import __version__
from adamatte.errors import AdamatteError
from adamatte.nodes.params import PARAMS

DESCRIPTION = """\
adamatte pulls a clean, temporally stable alpha matte out of a plate and writes it as
an OpenEXR sequence. Sequences may be given as shot.####.exr, shot.%04d.exr,
shot.@@@@.exr, one member (shot.1001.exr), a folder, or a .mov/.mp4 file.

exit codes: 0 success, 2 bad input, 3 missing input frames, 4 out of GPU memory."""


def add_params(parser: argparse.ArgumentParser, groups: tuple[str, ...]) -> None:
    """Add the shared render parameters of `groups` (see adamatte.nodes.params) as options."""
    for group in groups:
        section = parser.add_argument_group(f"{group} options")
        for p in (p for p in PARAMS if p.group == group):
            kwargs: dict = {"help": p.help + (f" (default: {p.default})" if p.default not in ("", None) else ""), "default": p.default}
            if p.kind == "bool":
                section.add_argument(p.flag, action=argparse.BooleanOptionalAction, **kwargs)
                continue
            if p.kind == "choice":
                kwargs["choices"] = p.choices
            elif p.kind == "int":
                kwargs["type"] = int
            elif p.kind == "float":
                kwargs["type"] = float
            section.add_argument(p.flag, dest=p.name, metavar=p.name.upper() if p.kind != "choice" else None, **kwargs)


def cmd_info(args: argparse.Namespace) -> int:
    from adamatte.info import describe, format_description
    from adamatte.io.source import FrameSource

    source = FrameSource(
        args.input, frames=args.frames or None, layer=args.layer or None,
        colorspace=args.input_colorspace or None, start_frame=args.start_frame, missing="hold",
    )
    try:
        source.check_headers()
        description = describe(source)
    finally:
        source.close()
    print(json.dumps(description, indent=2) if args.json else format_description(description))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adamatte", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"adamatte {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")

    info = commands.add_parser(
        "info", help="describe a plate: frame range, missing frames, windows, channels, colour",
        description="Describe a plate without rendering: frame range and gaps, resolution, data and display "
        "windows, channels, pixel type, compression, and the colour space adamatte will assume.",
    )
    info.add_argument("input", metavar="INPUT", help="sequence pattern, member file, folder or video file")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_params(info, ("input",))
    info.set_defaults(func=cmd_info)
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
        return 130
