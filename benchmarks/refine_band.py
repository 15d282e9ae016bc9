"""How wide a band the refinement should solve: the engine's REFINE_BAND, chosen on training
data only (the validation split is left out, so the model card's validation numbers stay
untouched by the choice). For each solver, every (confidence, margin) pair: the band is the
adapted trimap's unknown region plus the pixels where the network is less sure of its class
than `confidence`, grown by `margin` px; optionally with the network's alpha as a prior of some
weight, and (KNN) known pixels within `reach` px in the graph and other neighbour passes
(`--passes 20x2+10x0.1`: 20 neighbours at position weight 2, then 10 at 0.1). `--user-band 0,8,16`
also tries the band joined with the input trimap's own unknown pixels where that band is at most so
many px wide (0: not at all), so the network cannot narrow a band that was drawn tight.

Two kinds of trimap, two settings:
  - drawn (the default): the alphamatting.com TRAINING photos with both of their trimaps
    (`given`) and a tight one (`tight`: T_opt dilated 1-3 px, as benchmarks/validation.py makes
    them); mean SAD and Grad over each trimap's unknown region, per kind;
  - propagated (--clips GT04,GT14): training foregrounds moving over the `bedroom` clip, as
    benchmarks/video.py's gt07 clip, rendered by default from a first-frame trimap; the frames after the first, whose
    trimaps were propagated, scored by MAD and MSE (x1e3) over the whole frame.
Seconds per image or frame for the solve alone.

    python benchmarks/refine_band.py [--methods knn,closed-form,mixed] [--confidence 0.7,0.8,0.9] [--margins 0,1]
        [--prior-weights 0,0.1] [--reach 10,20] [--passes 10x2+10x0.1,20x2+10x0.1] [--knn-weights 0.1,0.3]
        [--user-band 0,8,16] [--trimaps given,tight] [--clips GT04,GT14 --frames 30]

`mixed` is closed-form's system plus KNN's at --knn-weights (matting.refine.mixed_system).
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from collections.abc import Callable

import cv2
import numpy as np
from validation import tight_items
from video import make_gt07_clip

from adamatte.io.image import read_matte
from adamatte.matting.engine import MatteResult, MattingEngine
from adamatte.matting.refine import KNN_PASSES, KNN_REACH, MIXED_KNN, refine_alpha
from adamatte.matting.trimap import UNKNOWN, normalize_trimap
from adamatte.scoring.items import Item, discover_eval_items, read_rgb
from adamatte.scoring.metrics import gradient_error, mad_e3, mse_e3, sad
from adamatte.train.config import load_train_config
from adamatte.video.plan import RenderRequest
from adamatte.video.progress import Progress
from adamatte.video.render import Renderer

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "alphamatting_train")
# image, the trimap the network was given, its result, a scorer of alpha
Case = tuple[np.ndarray, np.ndarray, MatteResult, Callable[[np.ndarray], tuple[float, float]]]


def drawn_cases(engine: MattingEngine, held_out: set[str], kind: str) -> list[Case]:
    """The training photos with their given trimaps, or (kind 'tight') a tight one each."""
    items = [item for item in discover_eval_items(SHARED) if item.key not in held_out]
    with tempfile.TemporaryDirectory() as tmp:  # the tight trimaps' files are read before it goes
        return [case for item in (tight_items(items, tmp) if kind == "tight" else items) for case in _item_cases(engine, item)]


def _item_cases(engine: MattingEngine, item: Item) -> list[Case]:
    """One case per trimap of `item`: the network's result and a scorer of alpha (SAD, Grad)."""
    cases = []
    image, gt = read_rgb(item.image), read_matte(item.alpha)
    for path in item.trimaps:
        trimap = normalize_trimap(read_matte(path))
        cases.append((image, trimap, engine.matte(image, trimap),
                      lambda a, gt=gt, t=trimap: (sad(a, gt, t), gradient_error(a, gt, t))))
    return cases


def propagated_cases(items: list[str], frames: int, weights: str) -> list[Case]:
    """The propagated frames of each clip (`item` moving over bedroom, as video.py's gt07 clip), with the
    network's result exactly as a default render had it (input trimap, veto), before its refinement."""
    cases = []
    for item in items:
        with tempfile.TemporaryDirectory() as tmp:
            truth = make_gt07_clip(tmp, frames, item)
            request = RenderRequest(input=os.path.join(tmp, "plate.####.png"), output=os.path.join(tmp, "out", "matte.####.exr"),
                                    trimap=[os.path.join(tmp, "key.png@1001")], weights=weights, progress="none")
            engine = MattingEngine.from_params(request)
            unrefined = MattingEngine(engine.model, weights_info=engine.weights_info, device="cpu")
            frame_of, refined, keyframe = iter(sorted(truth)), engine.matte, min(truth)

            def matte(image: np.ndarray, trimap: np.ndarray, guide=None) -> MatteResult:
                """The render's own call; the network's result (no refinement) is kept as a case. The engine's
                result holds only the refined alpha, so the network runs a second time for it."""
                frame = next(frame_of)
                if frame != keyframe:
                    cases.append((image, trimap, unrefined.matte(image, trimap, guide), lambda a, gt=truth[frame]: (mad_e3(a, gt), mse_e3(a, gt))))
                return refined(image, trimap, guide)

            engine.matte = matte
            Renderer(request, engine=engine).run(Progress("none"))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="")
    parser.add_argument("--methods", default="knn,closed-form")
    parser.add_argument("--confidence", default="0.7,0.8,0.9,0.95")
    parser.add_argument("--margins", default="0,1,2")
    parser.add_argument("--prior-weights", default="0")
    parser.add_argument("--reach", default=str(KNN_REACH), help="KNN only: px around the band in the graph")
    parser.add_argument("--passes", default="+".join(f"{k}x{s:g}" for k, s in KNN_PASSES),
                        help="KNN only: neighbour passes, comma-separated sets of NxWEIGHT joined by +")
    parser.add_argument("--knn-weights", default=str(MIXED_KNN), help="mixed only: KNN's weight beside closed-form")
    parser.add_argument("--user-band", default="0", help="px: the band also holds the input trimap's unknown pixels where "
                        "its band is at most this wide (0: not at all)")
    parser.add_argument("--trimaps", default="given,tight", help="drawn kinds: given (alphamatting.com's), tight (T_opt + 1-3 px)")
    parser.add_argument("--clips", default="", help="training foregrounds to move over a clip: choose the propagated band")
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    held_out = set(load_train_config("cpu").validation.only)
    if held_out & set(filter(None, args.clips.split(","))):
        raise SystemExit(f"{args.clips}: the validation split ({', '.join(sorted(held_out))}) is not for choosing")
    if args.clips:
        print(f"propagated frames of {args.clips} over bedroom")
        sweep(propagated_cases(args.clips.split(","), args.frames, args.weights), ("MAD e3", "MSE e3"), args)
        return
    engine = MattingEngine.from_weights(args.weights or None, device="cpu")
    for kind in args.trimaps.split(","):
        cases = drawn_cases(engine, held_out, kind)
        print(f"\n{len(cases)} training pairs, {kind} trimaps (validation split {', '.join(sorted(held_out))} left out)")
        sweep(cases, ("SAD", "Grad"), args)


def drawn_tight(trimap: np.ndarray, width: int) -> np.ndarray:
    """H×W bool: the unknown pixels of a {0, 0.5, 1} trimap whose band is at most `width` px across
    there (the distances to its known foreground and background, summed)."""
    if width <= 0:
        return np.zeros(trimap.shape, bool)
    across = (cv2.distanceTransform((trimap != 1.0).astype(np.uint8), cv2.DIST_L2, 5)
              + cv2.distanceTransform((trimap != 0.0).astype(np.uint8), cv2.DIST_L2, 5))
    return (trimap == 0.5) & (across <= width)


def sweep(cases: list[Case], metrics: tuple[str, str], args: argparse.Namespace) -> None:
    """One row per method and setting: the mean of both metrics over `cases`, and the solve's seconds."""
    print(f"{'method':<13}{'confidence':>11}{'margin':>8}{'prior':>7}{'reach':>7}{'passes':>16}{'knn':>6}{'user':>5}"
          f"{metrics[0]:>8}{metrics[1]:>8}{'s/image':>9}")
    user_bands = [int(u) for u in args.user_band.split(",")]
    tight = {user: [drawn_tight(trimap, user) for _, trimap, _, _ in cases] for user in user_bands}  # once, not per setting
    for method in args.methods.split(","):
        knn, mixed = method == "knn", method == "mixed"
        reaches = [int(r) for r in args.reach.split(",")] if knn else [None]
        pass_sets = [tuple((int(k), float(w)) for k, w in (p.split("x") for p in group.split("+")))
                     for group in args.passes.split(",")] if knn else [None]
        knn_weights = [float(w) for w in args.knn_weights.split(",")] if mixed else [None]
        for confidence, margin, weight, reach, passes, knn_weight, user in itertools.product(
                [float(c) for c in args.confidence.split(",")], [int(m) for m in args.margins.split(",")],
                [float(p) for p in args.prior_weights.split(",")], reaches, pass_sets, knn_weights, user_bands):
            options = {"reach": reach, "passes": passes} if knn else {"knn_weight": knn_weight} if mixed else {}
            scores, seconds = [], []
            for (image, _, result, score), drawn in zip(cases, tight[user]):
                unsure = (result.probs.max(axis=2) < confidence) | drawn
                band = np.where(unsure, UNKNOWN, result.labels).astype(np.uint8)
                t0 = time.perf_counter()
                alpha = refine_alpha(image, band, result.alpha, method=method, margin=margin, prior_weight=weight, **options)
                seconds.append(time.perf_counter() - t0)
                scores.append(score(alpha))
            first, second = np.mean(scores, axis=0)
            passes_label = "+".join(f"{k}x{w:g}" for k, w in passes or ()) or "-"
            print(f"{method:<13}{confidence:11.2f}{margin:8d}{weight:7.2f}{reach or '-':>7}{passes_label:>16}"
                  f"{knn_weight if knn_weight is not None else '-':>6}{user:5d}{first:8.2f}{second:8.2f}{np.mean(seconds):9.2f}", flush=True)


if __name__ == "__main__":
    main()
