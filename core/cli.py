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


def engine_from_args(args: argparse.Namespace):
    from adamatte.engine import MattingEngine

    return MattingEngine.from_weights(
        args.weights or None, device=args.device, precision=args.precision,
        respect_trimap=args.respect_trimap, max_megapixels=args.max_megapixels or None,
    )


def cmd_matte(args: argparse.Namespace) -> int:
    from adamatte.still import matte_file

    engine = engine_from_args(args)
    result = matte_file(
        engine, args.image, args.trimap, args.output, trimap_out=args.trimap_out,
        colorspace=args.input_colorspace or None, layer=args.layer or None,
    )
    t = result.timings
    print(f"wrote {args.output} ({result.alpha.shape[1]}x{result.alpha.shape[0]}, {t['total']:.2f} s on {engine.device.type})")
    return 0


def cmd_weights_list(args: argparse.Namespace) -> int:
    from adamatte.model.weights import DEFAULT_WEIGHTS, bundled_names, read_weights_info, resolve_weights

    names = bundled_names()
    if not names:
        print("no weights are bundled with this version yet; train with `adamatte train`")
        return 0
    for name in names:
        info = read_weights_info(resolve_weights(name))
        default = "  (default)" if name == DEFAULT_WEIGHTS else ""
        print(f"{name:<12} {info.variant:<8} {info.meta.get('parameters', 0) / 1e6:6.2f}M params  {info.short_hash}{default}")
        print(f"{'':<12} trained on: {info.meta.get('training', {}).get('data', 'unknown')}")
    return 0


def cmd_weights_info(args: argparse.Namespace) -> int:
    import os

    from adamatte.model import AdaMatting, load_model_config
    from adamatte.model.config import bundled_model_configs
    from adamatte.model.weights import bundled_names, load_weights, parameter_breakdown

    if not os.path.isfile(args.weights) and args.weights not in bundled_names() and args.weights in bundled_model_configs():
        model, info = AdaMatting(load_model_config(args.weights)), None  # an architecture, without weights
    else:
        model, info = load_weights(args.weights)
    counts = parameter_breakdown(model)
    report = {
        "file": info.path if info else None,
        "variant": model.config.variant,
        "sha256": info.sha256 if info else None,
        "parameters": counts,
        "model": model.config.to_dict(),
        "training": info.meta.get("training") if info else None,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"variant      {report['variant']}" + ("" if info else "  (architecture only, no weights)"))
    if info:
        print(f"file         {info.path}\nsha256       {info.sha256}\ndtype        {info.meta.get('dtype')}")
        for key, value in (info.meta.get("training") or {}).items():
            print(f"training     {key}: {value}")
    for part, n in counts.items():
        print(f"params       {part:<12} {n:>12,}")
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

    matte = commands.add_parser(
        "matte", help="matte one image with its trimap",
        description="Matte one image. The network adapts the trimap (correcting a wrong one) unless "
        "--respect-trimap is given. OUTPUT is a .png (16-bit) or .exr (half) alpha.",
    )
    matte.add_argument("image", metavar="IMAGE", help="the image (EXR, PNG, TIFF, JPEG, DPX)")
    matte.add_argument("--trimap", required=True, help="trimap image: black background, grey (128) unknown, white foreground")
    matte.add_argument("-o", "--output", required=True, help="alpha output, .png or .exr")
    matte.add_argument("--trimap-out", metavar="PATH", help="also write the adapted trimap (0/128/255) here")
    add_params(matte, ("engine",))
    matte.add_argument("--input-colorspace", default="", help="OCIO colour space of the image (default by file type)")
    matte.add_argument("--layer", default="", help="EXR layer holding R,G,B")
    matte.set_defaults(func=cmd_matte)

    weights = commands.add_parser("weights", help="list bundled weights or describe a weights file")
    weights_commands = weights.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    weights_commands.add_parser("list", help="list the bundled weights").set_defaults(func=cmd_weights_list)
    weights_info = weights_commands.add_parser(
        "info", help="describe a weights file, a bundled name, or an architecture (paper, lite)",
        description="Print the variant, parameter counts per part, hash and training record of a weights "
        "file or bundled name; given an architecture name (paper, lite), its parameter counts.",
    )
    weights_info.add_argument("weights", metavar="WEIGHTS")
    weights_info.add_argument("--json", action="store_true", help="print JSON")
    weights_info.set_defaults(func=cmd_weights_info)
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
