"""`adamatte weights list | info | export`: the bundled weights, a weights file, a checkpoint's export."""

from __future__ import annotations

import argparse
import json


def register(commands) -> None:
    weights = commands.add_parser("weights", help="list bundled weights or describe a weights file")
    actions = weights.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the bundled weights").set_defaults(func=run_list)
    info = actions.add_parser(
        "info", help="describe a weights file, a bundled name, or an architecture (paper, lite)",
        description="Print the variant, parameter counts per part, hash and training record of a weights "
        "file or bundled name; given an architecture name (paper, lite), its parameter counts.",
    )
    info.add_argument("weights", metavar="WEIGHTS")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=run_info)
    export = actions.add_parser(
        "export", help="write inference weights (.safetensors + .json), or the network alone as TorchScript or ONNX",
        description="Write weights for inference from a training run (its exponential moving average when the run "
        "kept one, else the trained weights) or from weights (a bundled name or a .safetensors file). "
        "--format torchscript or onnx writes the network alone as one file with one input, 1x4xHxW (R, G, B in the "
        "working space, 0-1, and the trimap as 0/0.5/1), and one output, 1x1xHxW alpha, for any H and W from 32: "
        "per frame, without propagation, keyframe memory or refinement (as --refine none). TorchScript is what "
        "NukeX's CatFileCreator turns into a .cat for the Inference node (docs/nuke.md); ONNX needs "
        "pip install 'adamatte[export]'.",
    )
    export.add_argument("source", metavar="SOURCE", help="a run folder or its checkpoint (runs/NAME), a bundled weights name, "
                        "or a .safetensors file")
    export.add_argument("--format", choices=("safetensors", "torchscript", "onnx"), default="safetensors",
                        help="what to write (default: safetensors)")
    export.add_argument("-o", "--output", required=True, help="file to write: .safetensors, .pt (TorchScript) or .onnx")
    export.add_argument("--fp32", action="store_true", help="safetensors: keep float32 (default: float16, half the size)")
    export.set_defaults(func=run_export)


def run_list(args: argparse.Namespace) -> int:
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


def run_info(args: argparse.Namespace) -> int:
    import os

    import torch

    from adamatte.errors import InputError
    from adamatte.model import AdaMatting, load_model_config
    from adamatte.model.config import bundled_model_configs
    from adamatte.model.weights import bundled_names, check_tensors, parameter_breakdown, read_weights_info, resolve_weights

    info = None
    if not os.path.isfile(args.weights) and args.weights not in bundled_names() and args.weights in bundled_model_configs():
        config = load_model_config(args.weights)  # an architecture, without weights
    else:
        info = read_weights_info(resolve_weights(args.weights))
        config = info.config
        check_tensors(info.path, config)  # from the file's header, before anything is allocated
    with torch.device("meta"):  # counted, not allocated
        model = AdaMatting(config)
    counts = parameter_breakdown(model)
    recorded = info.meta.get("parameters") if info else None
    if recorded is not None and recorded != counts["total"]:
        raise InputError(f"the JSON config records {recorded} parameters but its architecture has {counts['total']}", path=info.path)
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


def run_export(args: argparse.Namespace) -> int:
    import os

    from adamatte.errors import InputError
    from adamatte.model.export import export_onnx, export_torchscript
    from adamatte.model.weights import load_weights, save_weights
    from adamatte.train.export import is_checkpoint, model_from_checkpoint

    wanted = {"safetensors": ".safetensors", "torchscript": ".pt", "onnx": ".onnx"}[args.format]
    if not args.output.endswith(wanted):
        raise InputError(f"a {args.format} file ends in {wanted}", path=args.output)
    if is_checkpoint(args.source):
        model, training = model_from_checkpoint(args.source)
    else:
        model, info = load_weights(args.source)
        training = info.meta.get("training")
    if args.format == "safetensors":
        info = save_weights(model, args.output, training=training, half=not args.fp32)
        print(f"wrote {info.path} ({info.variant}, sha256 {info.short_hash})")
        return 0
    if args.format == "onnx":
        try:
            import onnx  # noqa: F401  (torch's exporter needs it, and onnxscript)
            import onnxscript  # noqa: F401
        except ImportError:
            raise InputError("ONNX export needs the onnx and onnxscript packages: pip install 'adamatte[export]'") from None
        export_onnx(model, args.output)
    else:
        export_torchscript(model, args.output)
    print(f"wrote {args.output} ({model.config.variant}, {args.format}, {os.path.getsize(args.output) / 1e6:.1f} MB): "
          "input 1x4xHxW (RGB 0-1 + trimap 0/0.5/1), output 1x1xHxW alpha")
    return 0
