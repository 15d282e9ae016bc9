"""How wide a band the refinement should solve: the engine's REFINE_BAND, chosen on the
alphamatting.com TRAINING photos (the validation split is left out, so the model card's
validation numbers stay untouched by the choice). For each solver, every (confidence, margin)
pair: the band is the adapted trimap's unknown region plus the pixels where the network is
less sure of its class than `confidence`, grown by `margin` px; optionally with the network's
alpha as a prior of some weight, and (KNN) known pixels within `reach` px in the graph. Mean
SAD and Grad over both trimaps of each photo, and seconds per image.

    python benchmarks/refine_band.py [--methods knn,closed-form] [--confidence 0.7,0.8,0.9] [--margins 0,1]
        [--prior-weights 0,0.1] [--reach 10,20]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np

from adamatte.engine import MattingEngine
from adamatte.io.image import read_matte
from adamatte.metrics import gradient_error, sad
from adamatte.refine import KNN_REACH, refine_alpha
from adamatte.train.config import load_train_config
from adamatte.train.data import discover_eval_items, read_rgb
from adamatte.trimap import UNKNOWN, normalize_trimap

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "alphamatting_train")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="")
    parser.add_argument("--methods", default="knn,closed-form")
    parser.add_argument("--confidence", default="0.7,0.8,0.9,0.95")
    parser.add_argument("--margins", default="0,1,2")
    parser.add_argument("--prior-weights", default="0")
    parser.add_argument("--reach", default=str(KNN_REACH), help="KNN only: px around the band in the graph")
    args = parser.parse_args()
    held_out = set(load_train_config("cpu").validation.only)
    items = [i for i in discover_eval_items(SHARED) if i.key not in held_out]
    engine = MattingEngine.from_weights(args.weights or None, device="cpu", refine="none")
    pairs = []
    for item in items:
        image, gt = read_rgb(item.image), read_matte(item.alpha)
        for path in item.trimaps:
            trimap = normalize_trimap(read_matte(path))
            pairs.append((image, gt, trimap, engine.matte(image, trimap)))
    print(f"{len(pairs)} training pairs (validation split {', '.join(sorted(held_out))} left out)")
    print(f"{'method':<13}{'confidence':>11}{'margin':>8}{'prior':>7}{'reach':>7}{'SAD':>8}{'Grad':>8}{'s/image':>9}")
    for method in args.methods.split(","):
        reaches = [int(r) for r in args.reach.split(",")] if method == "knn" else [None]
        for confidence, margin, weight, reach in itertools.product(
                [float(c) for c in args.confidence.split(",")], [int(m) for m in args.margins.split(",")],
                [float(p) for p in args.prior_weights.split(",")], reaches):
            options = {"reach": reach} if reach is not None else {}
            scores, seconds = [], []
            for image, gt, trimap, result in pairs:
                band = np.where(result.probs.max(axis=2) < confidence, UNKNOWN, result.labels).astype(np.uint8)
                t0 = time.perf_counter()
                alpha = refine_alpha(image, band, result.alpha, method=method, margin=margin, prior_weight=weight, **options)
                seconds.append(time.perf_counter() - t0)
                scores.append((sad(alpha, gt, trimap), gradient_error(alpha, gt, trimap)))
            s, g = np.mean(scores, axis=0)
            print(f"{method:<13}{confidence:11.2f}{margin:8d}{weight:7.2f}{reach or '-':>7}{s:8.2f}{g:8.2f}{np.mean(seconds):9.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
