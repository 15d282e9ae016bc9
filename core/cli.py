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
            kwargs: dict = {"help": p.help + (f" (default: {p.default})" if p.default not in ("", None, ()) else ""), "default": p.default}
            if p.kind == "bool":
                section.add_argument(p.flag, action=argparse.BooleanOptionalAction, **kwargs)
                continue
            if p.kind == "paths":
                kwargs["default"] = []
                section.add_argument(p.flag, dest=p.name, action="append", metavar="PATH", **kwargs)
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
        refine=args.refine, refine_prior=args.refine_prior,
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


def cmd_render(args: argparse.Namespace) -> int:
    import dataclasses

    from adamatte.progress import Progress
    from adamatte.render import RenderRequest, render

    request = RenderRequest(input=args.input, output=args.output,
                            **{f.name: getattr(args, f.name) for f in dataclasses.fields(RenderRequest) if f.name not in ("input", "output")})
    progress = Progress(request.progress)
    try:
        summary = render(request, progress=progress)
    except AdamatteError as exc:
        progress.error(str(exc), exc.exit_code)
        raise
    except KeyboardInterrupt:
        progress.error("interrupted", 130)
        raise
    if request.progress != "json":
        done = f"{len(summary.written)} frames in {summary.seconds:.1f} s ({summary.model_seconds / max(len(summary.written), 1):.2f} s/frame in the network)"
        print(f"wrote {done} to {request.output}" + (f"; {len(summary.warnings)} drift warnings" if summary.warnings else ""),
              file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from adamatte.demo import run_demo

    summary, sheet = run_demo(args.output, weights=args.weights or None, device=args.device, progress=args.progress)
    print(f"demo: {len(summary.written)} frames rendered into {args.output}/matte; look at {sheet}", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from adamatte.train.checkpoint import checkpoint_exists
    from adamatte.train.config import load_train_config
    from adamatte.train.trainer import Trainer

    cfg = load_train_config(args.config, data_root=args.data, name=args.name, output_dir=args.output_dir,
                            max_steps=args.max_steps, threads=args.threads, workers=args.workers)
    trainer = Trainer(cfg, progress=not args.no_progress)
    try:
        if args.resume:
            if trainer.resume() and trainer.ctx.is_main:
                print(f"resuming {cfg.run_dir} at step {trainer.step} of {trainer.total_steps}", file=sys.stderr)
        elif checkpoint_exists(trainer.checkpoint_path):
            raise AdamatteError(f"{cfg.run_dir} already holds a checkpoint: pass --resume to continue it, or --name for a new run")
        parts = trainer.run(until=args.until)
    finally:
        trainer.close()
    if trainer.ctx.is_main:
        print(f"trained {cfg.name} to step {trainer.step}: loss {parts.get('loss', float('nan')):.4f}; "
              f"checkpoint {trainer.checkpoint_path}.safetensors")
    return 0


def cmd_weights_export(args: argparse.Namespace) -> int:
    from adamatte.train.export import export_checkpoint

    info = export_checkpoint(args.checkpoint, args.output, half=not args.fp32)
    print(f"wrote {info.path} ({info.variant}, sha256 {info.short_hash})")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from adamatte.evaluate import classical_matter, format_table, network_matter, score_items, score_predictions

    if args.pred:
        if not (args.gt and args.trimap):
            raise AdamatteError("--pred needs --gt and --trimap folders")
        rows = score_predictions(args.pred, args.gt, args.trimap)
    else:
        if not args.data:
            raise AdamatteError("give --pred/--gt/--trimap folders, or --data DIR (with --weights)")
        from adamatte.train.data import discover_eval_items

        items = discover_eval_items(args.data, only=args.only.split(",") if args.only else ())
        rows = score_items(items, network_matter(engine_from_args(args)), label="adamatte")
        for method in filter(None, args.classical.split(",")):
            rows += score_items(items, classical_matter(method), label=method)
    print(format_table(rows))
    return 0


def cmd_eval_video(args: argparse.Namespace) -> int:
    from adamatte.evaluate_video import evaluate_video, format_video_table

    rows, means = evaluate_video(args.pred, args.gt)
    print(json.dumps({"frames": rows, "clip": means}, indent=2) if args.json else format_video_table(rows, means))
    return 0


def cmd_farm_export(args: argparse.Namespace) -> int:
    import dataclasses

    from adamatte.farm.job import build_job
    from adamatte.render import RenderRequest

    if args.render_args[:1] == ["--"]:
        args.render_args = args.render_args[1:]
    if not args.render_args:
        raise AdamatteError("give the render after --, e.g. adamatte farm export -o job -- plate.####.exr -o matte.####.exr --trimap key.png")
    render_args = build_parser().parse_args(["render", *args.render_args])
    request = RenderRequest(**{f.name: getattr(render_args, f.name) for f in dataclasses.fields(RenderRequest)})
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

    render_cmd = commands.add_parser(
        "render", help="matte a shot: plate + keyframe trimaps -> alpha EXR sequence",
        description="Matte a plate (image sequence or video) into an alpha sequence. Give a trimap on at least one "
        "keyframe; between keyframes each frame's trimap is the previous frame's adapted trimap carried along "
        "optical flow. Outputs keep the plate's frame numbers, windows and metadata. --frames A-B renders a chunk "
        "(for farms): propagation warms up from the nearest keyframe at or before A, so chunks match one "
        "sequential render exactly. --resume skips finished frames after a crash.",
        epilog="example: adamatte render plate.####.exr -o matte/matte.####.exr --trimap key.1001.png "
        "--trimap key2.png@1050 --write alpha,trimap",
    )
    render_cmd.add_argument("input", metavar="INPUT", help="plate: sequence pattern, member file, folder or video file")
    render_cmd.add_argument("-o", "--output", required=True, help="alpha output pattern, e.g. matte.####.exr (or a .mov)")
    add_params(render_cmd, ("trimap", "input", "engine", "output", "run"))
    render_cmd.set_defaults(func=cmd_render)

    demo = commands.add_parser(
        "demo", help="render the bundled demo clip with the bundled weights, and draw a contact sheet",
        description="Builds a scene-linear EXR plate from the bundled judo clip (16 frames, MIT licence), mattes it "
        "from its first-frame mask with the bundled weights, and writes a contact sheet (plate | trimap in | adapted "
        "trimap | alpha | composite) to OUTPUT/contact_sheet.png. Running it again resumes.",
    )
    demo.add_argument("-o", "--output", default="adamatte-demo", help="folder for the plate, mattes and contact sheet (default: ./adamatte-demo)")
    demo.add_argument("--weights", default="", help="weights file or bundled name (default: the bundled default)")
    demo.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    demo.add_argument("--progress", default="bar", choices=("bar", "json", "none"))
    demo.set_defaults(func=cmd_demo)

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
    export = weights_commands.add_parser(
        "export", help="turn a training checkpoint into inference weights (.safetensors + .json)",
    )
    export.add_argument("checkpoint", metavar="CHECKPOINT", help="a run folder or its checkpoint (runs/NAME or runs/NAME/checkpoint)")
    export.add_argument("-o", "--output", required=True, help="weights file to write, ending in .safetensors")
    export.add_argument("--fp32", action="store_true", help="keep float32 (default: float16, half the size)")
    export.set_defaults(func=cmd_weights_export)

    train = commands.add_parser(
        "train", help="train a model (the paper's recipe, a CPU recipe, or your own config)",
        description="Train AdaMatting. CONFIG is a TOML file or a bundled recipe: paper (the paper's "
        "hyper-parameters), cpu (the bundled lite weights) or smoke (two steps, for tests). Checkpoints "
        "land in OUTPUT_DIR/NAME every few hundred steps; --resume continues exactly where a run stopped. "
        "For several GPUs or processes: torchrun --nproc-per-node N -m adamatte train ...",
    )
    train.add_argument("--config", required=True, help="a training config: a .toml path or paper|cpu|smoke")
    train.add_argument("--data", help="root folder the config's data patterns are relative to")
    train.add_argument("--resume", action="store_true", help="continue the run's checkpoint")
    train.add_argument("--name", help="run name (default: the config's)")
    train.add_argument("--output-dir", help="where run folders go (default: runs)")
    train.add_argument("--max-steps", type=int, help="length of the whole run in steps (sets the learning-rate schedule)")
    train.add_argument("--until", type=int, help="stop (with a checkpoint) at this step; --resume continues the same schedule")
    train.add_argument("--threads", type=int, help="CPU threads for torch in each process")
    train.add_argument("--workers", type=int, help="data-loading worker processes")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser(
        "eval", help="score mattes: SAD, MSE, Grad, Conn over the unknown region",
        description="Score mattes as the DIM / alphamatting.com MATLAB code does, over the trimap's unknown "
        "region: SAD/1000, MSE x1e3, Grad (sigma 1.4)/1000, Conn/1000. Either score saved predictions "
        "(--pred --gt --trimap, files of the same names) or run weights on a data folder (--data) laid out "
        "as input/ alpha/ trimap*/ (alphamatting.com) or *_image / *_alpha / *_trimap files.",
    )
    evaluate.add_argument("--pred", help="folder of predicted mattes")
    evaluate.add_argument("--gt", help="folder of ground-truth mattes")
    evaluate.add_argument("--trimap", help="folder of trimaps")
    evaluate.add_argument("--data", help="data folder to run the network on")
    evaluate.add_argument("--only", default="", help="comma list of item names to score (e.g. a validation split)")
    evaluate.add_argument("--classical", default="", help="also score classical mattes: closed-form,knn")
    add_params(evaluate, ("engine",))
    evaluate.set_defaults(func=cmd_eval)

    eval_video = commands.add_parser(
        "eval-video", help="temporal scores of a matte sequence: MAD, MSE, dtSSD, MESSDdt",
        description="Score a predicted matte sequence against ground truth, per frame and per clip: MAD x1e3 and "
        "MSE x1e3 over the whole frame, dtSSD x1e2 (flicker the truth does not have) and MESSDdt x1e3 (error "
        "change along the ground truth's optical flow). Frames are matched by number.",
    )
    eval_video.add_argument("--pred", required=True, help="predicted matte sequence (pattern, member or folder)")
    eval_video.add_argument("--gt", required=True, help="ground-truth matte sequence")
    eval_video.add_argument("--json", action="store_true", help="print JSON")
    eval_video.set_defaults(func=cmd_eval_video)

    farm = commands.add_parser("farm", help="export chunked render jobs for render farms")
    farm_commands = farm.add_subparsers(dest="farm_command", metavar="ACTION", required=True)
    export_job = farm_commands.add_parser(
        "export", help="write an OpenJD job bundle (Deadline Cloud) or an OpenCue job for a render",
        description="Write a farm job that runs `adamatte render` in chunks of frames. The render is given after "
        "--, exactly as to `adamatte render`. Chunks warm up from the nearest keyframe (or resume from the chunk "
        "before), so the farm's result equals one sequential render; retried tasks resume.",
        epilog="example: adamatte farm export --format openjd -o jobs/sh020 --chunk-size 20 --gpu -- "
        "/shots/sh020/plate.####.exr -o /shots/sh020/matte/sh020_matte.####.exr --trimap /shots/sh020/key.1001.png@1001",
    )
    export_job.add_argument("--format", choices=("openjd", "opencue"), default="openjd", help="farm system (default: openjd)")
    export_job.add_argument("-o", "--output", required=True, help="folder to write the job into")
    export_job.add_argument("--chunk-size", type=int, default=10, help="frames per task (default: 10)")
    export_job.add_argument("--gpu", action="store_true", help="require a GPU on the workers")
    export_job.add_argument("--command", default="adamatte", help="adamatte executable on the workers (default: adamatte)")
    export_job.add_argument("--name", default="", help="job name (default: from the output name)")
    export_job.add_argument("render_args", nargs=argparse.REMAINDER, help="-- then the render's arguments")
    export_job.set_defaults(func=cmd_farm_export)
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
