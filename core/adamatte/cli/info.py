"""`adamatte info`: describe a plate without rendering it."""

from __future__ import annotations

import argparse
import json

from adamatte.cli.options import add_params


def register(commands) -> None:
    info = commands.add_parser(
        "info", help="describe a plate or a matte: frame range, missing frames, windows, channels, colour",
        description="Describe a plate or a matte without rendering: frame range and gaps, resolution, data and display "
        "windows (crop or overscan), channels, pixel type, compression, timecode and other metadata, and the colour "
        "space adamatte will assume.",
    )
    info.add_argument("input", metavar="INPUT", help="sequence pattern, member file, folder or video file")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_params(info, ("input",))
    info.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adamatte.io.info import describe, format_description
    from adamatte.io.source import FrameSource

    source = FrameSource(
        args.input, frames=args.frames or None, layer=args.layer or None,
        colorspace=args.input_colorspace or None, start_frame=args.start_frame, missing="hold", allow_matte=True,
    )
    try:
        source.check_headers()
        description = describe(source)
    finally:
        source.close()
    print(json.dumps(description, indent=2) if args.json else format_description(description))
    return 0
