"""`adamatte eval` (stills against ground truth) and `adamatte eval-video` (sequences)."""

from __future__ import annotations

import argparse
import json

from adamatte.cli.options import add_params
from adamatte.cli.threads import wait_passively
from adamatte.errors import AdamatteError


def register(commands) -> None:
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
    evaluate.set_defaults(func=run_eval)

    video = commands.add_parser(
        "eval-video", help="temporal scores of a matte sequence: MAD, MSE, dtSSD, MESSDdt",
        description="Score a predicted matte sequence against ground truth, per frame and per clip: MAD x1e3 and "
        "MSE x1e3 over the whole frame, dtSSD x1e2 (flicker the truth does not have), MESSDdt x1e3 (error "
        "change along the ground truth's optical flow) and leak % (alpha farther than 16 px from the true matte, as a share of its "
        "mass: background matted in). Frames are matched by number.",
    )
    video.add_argument("--pred", required=True, help="predicted matte sequence (pattern, member or folder)")
    video.add_argument("--gt", required=True, help="ground-truth matte sequence")
    video.add_argument("--json", action="store_true", help="print JSON")
    video.set_defaults(func=run_eval_video)


def run_eval(args: argparse.Namespace) -> int:
    wait_passively()
    from adamatte.scoring.evaluate import classical_matter, format_table, network_matter, score_items, score_predictions

    if args.pred:
        if not (args.gt and args.trimap):
            raise AdamatteError("--pred needs --gt and --trimap folders")
        rows = score_predictions(args.pred, args.gt, args.trimap)
    else:
        if not args.data:
            raise AdamatteError("give --pred/--gt/--trimap folders, or --data DIR (with --weights)")
        from adamatte.matting.engine import MattingEngine
        from adamatte.scoring.items import discover_eval_items

        items = discover_eval_items(args.data, only=args.only.split(",") if args.only else ())
        rows = score_items(items, network_matter(MattingEngine.from_params(args)), label="adamatte")
        for method in filter(None, args.classical.split(",")):
            rows += score_items(items, classical_matter(method), label=method)
    print(format_table(rows))
    return 0


def run_eval_video(args: argparse.Namespace) -> int:
    from adamatte.scoring.evaluate_video import evaluate_video, format_video_table

    rows, means = evaluate_video(args.pred, args.gt)
    print(json.dumps({"frames": rows, "clip": means}, indent=2) if args.json else format_video_table(rows, means))
    return 0
