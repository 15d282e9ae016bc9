"""`adamatte farm export`: a render as a chunked OpenJD or OpenCue job. Needs no torch."""

from __future__ import annotations

import argparse

from adamatte.errors import AdamatteError


def register(commands) -> None:
    farm = commands.add_parser("farm", help="export chunked render jobs for render farms")
    actions = farm.add_subparsers(dest="farm_command", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export", help="write an OpenJD job bundle (Deadline Cloud) or an OpenCue job for a render",
        description="Write a farm job that runs `adamatte render` in chunks of frames. The render is given after "
        "--, exactly as to `adamatte render`. Chunks warm up from the nearest keyframe (or resume from the chunk "
        "before), so the farm's result equals one sequential render; retried tasks resume.",
        epilog="example: adamatte farm export --format openjd -o jobs/sh020 --chunk-size 20 --gpu -- "
        "/shots/sh020/plate.####.exr -o /shots/sh020/matte/sh020_matte.####.exr --trimap /shots/sh020/key.1001.png@1001",
    )
    export.add_argument("--format", choices=("openjd", "opencue"), default="openjd", help="farm system (default: openjd)")
    export.add_argument("-o", "--output", required=True, help="folder to write the job into")
    export.add_argument("--chunk-size", type=int, default=10, help="frames per task (default: 10)")
    export.add_argument("--gpu", action="store_true", help="require a GPU on the workers")
    export.add_argument("--command", default="adamatte", help="adamatte executable on the workers (default: adamatte)")
    export.add_argument("--name", default="", help="job name (default: from the output name)")
    export.add_argument("render_args", nargs=argparse.REMAINDER, help="-- then the render's arguments")
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from adamatte.cli.render import render_arguments, request_from_args
    from adamatte.farm.job import build_job

    render_args = args.render_args[1:] if args.render_args[:1] == ["--"] else args.render_args
    if not render_args:
        raise AdamatteError("give the render after --, e.g. adamatte farm export -o job -- plate.####.exr -o matte.####.exr --trimap key.png")
    parser = argparse.ArgumentParser(prog="adamatte render")
    render_arguments(parser)
    request = request_from_args(parser.parse_args(render_args))
    job = build_job(request, name=args.name or "", chunk_size=args.chunk_size, gpu=args.gpu, command=args.command)
    if args.format == "openjd":
        from adamatte.farm.openjd import write_bundle

        written = write_bundle(job, args.output)
    else:
        from adamatte.farm.opencue import write_job

        written = write_job(job, args.output)
    for path in written:
        print(path)
    return 0
