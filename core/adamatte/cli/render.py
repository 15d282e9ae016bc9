"""`adamatte render` (a shot) and `adamatte demo` (the bundled clip)."""

from __future__ import annotations

import argparse
import sys

from adamatte.cli.options import add_params
from adamatte.cli.threads import wait_passively
from adamatte.errors import EXIT_CANCELLED, AdamatteError
from adamatte.params import BY_NAME

RENDER_HELP = "matte a shot: plate + keyframe trimaps -> alpha EXR sequence"
RENDER_DESCRIPTION = (
    "Matte a plate (image sequence or video) into an alpha sequence. Give a trimap on at least one "
    "keyframe; between keyframes each frame's trimap is the previous frame's adapted trimap carried along "
    "optical flow. Outputs keep the plate's frame numbers, windows and metadata. --frames A-B renders a chunk "
    "(for farms): propagation warms up from the nearest keyframe at or before A, so chunks match one "
    "sequential render exactly. --resume skips finished frames after a crash."
)


def render_arguments(parser: argparse.ArgumentParser) -> None:
    """The render's positional input, -o and shared options (also parsed by `farm export` after --)."""
    parser.add_argument("input", metavar="INPUT", help="plate: sequence pattern, member file, folder or video file")
    parser.add_argument("-o", "--output", required=True, help="alpha output pattern, e.g. matte.####.exr (or a .mov)")
    add_params(parser, ("trimap", "input", "engine", "output", "run"))


def request_from_args(args: argparse.Namespace):
    """The RenderRequest that parsed render arguments describe."""
    import dataclasses

    from adamatte.video.plan import RenderRequest

    return RenderRequest(**{f.name: getattr(args, f.name) for f in dataclasses.fields(RenderRequest)})


def register(commands) -> None:
    render = commands.add_parser(
        "render", help=RENDER_HELP, description=RENDER_DESCRIPTION,
        epilog="example: adamatte render plate.####.exr -o matte/matte.####.exr --trimap key.1001.png "
        "--trimap key2.png@1050 --write alpha,trimap",
    )
    render_arguments(render)
    render.set_defaults(func=run_render)

    demo = commands.add_parser(
        "demo", help="render the bundled demo clip with the bundled weights, and draw a contact sheet",
        description="Builds a scene-linear EXR plate from the bundled judo clip (16 frames, MIT licence), mattes it "
        "from its first-frame mask with the bundled weights, and writes a contact sheet (plate | trimap in | adapted "
        "trimap | alpha | composite) to OUTPUT/contact_sheet.png. Running it again resumes.",
    )
    demo.add_argument("-o", "--output", default="adamatte-demo", help="folder for the plate, mattes and contact sheet (default: ./adamatte-demo)")
    demo.add_argument("--weights", default="", help="weights file or bundled name (default: the bundled default)")
    for name in ("device", "progress"):
        demo.add_argument(BY_NAME[name].flag, default=BY_NAME[name].default, choices=BY_NAME[name].choices, help=BY_NAME[name].help)
    demo.set_defaults(func=run_demo)


def run_render(args: argparse.Namespace) -> int:
    wait_passively()
    from adamatte.video.progress import Progress
    from adamatte.video.render import render

    request = request_from_args(args)
    progress = Progress(request.progress)
    try:
        summary = render(request, progress=progress)
    except AdamatteError as exc:
        progress.error(str(exc), exc.exit_code)
        raise
    except KeyboardInterrupt:
        progress.error("interrupted", EXIT_CANCELLED)
        raise
    if request.progress != "json":
        per_frame = summary.model_seconds / max(len(summary.written), 1)
        done = f"{len(summary.written)} frames in {summary.seconds:.1f} s ({per_frame:.2f} s/frame matting: the network and the refinement)"
        print(f"wrote {done} to {request.output}" + (f"; {len(summary.warnings)} drift warnings" if summary.warnings else ""),
              file=sys.stderr)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    wait_passively()
    from adamatte.demo import run_demo as demo

    summary, sheet = demo(args.output, weights=args.weights or None, device=args.device, progress=args.progress)
    done = (f"{len(summary.written)} frames rendered into {args.output}/matte" if summary.written else
            f"the matte in {args.output}/matte was already rendered (delete that folder to render it again)")
    print(f"demo: {done}; look at {sheet}", file=sys.stderr)
    return 0
