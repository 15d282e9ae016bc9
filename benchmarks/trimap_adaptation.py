"""Trimap adaptation quality, as in the paper's Table 4: accuracy and mIoU of the adapted trimap
against T_opt (0 -> background, 1 -> foreground, anything else unknown, from the ground truth).

On the held-out alphamatting.com items, with each given trimap, with a deliberately coarse one
(its unknown band grown until it covers 3x the area), with a tight one (T_opt's unknown region
dilated 1-3 px, as benchmarks/validation.py makes it: a band that is already right, to be kept)
and with a propagated one (the training pipeline's 'propagated' kind, seeded per item: an
erosion band of the edge moved a few px, with blobs of unknown in the known regions, as a render
hands a trimap from frame to frame). Scores are over the input trimap's unknown region, where
adaptation has work to do; "unknown area" is the adapted (or input) unknown area divided by
T_opt's, so narrowing toward the truth shows as a fall toward 1. Rows: the input trimap, the
network's adapted one (Table 4's), and the labels the default render solves with (`--refine auto`,
`--drawn-band auto`: a tight drawn band is kept whole).

    python benchmarks/trimap_adaptation.py [--weights lite] [--items GT02,GT07,GT13,GT19,GT25]
"""

from __future__ import annotations

import argparse
import os
import zlib

import cv2
import numpy as np

from adamatte.io import read_matte
from adamatte.matting.engine import MattingEngine
from adamatte.matting.trimap import UNKNOWN, normalize_trimap, tight_trimap, trimap_to_labels
from adamatte.params import BY_NAME
from adamatte.scoring.items import discover_eval_items, read_rgb
from adamatte.train.transforms import MakeTrimap

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "alphamatting_train")


def t_opt(alpha: np.ndarray) -> np.ndarray:
    return np.where(alpha <= 0, 0, np.where(alpha >= 1, 2, 1)).astype(np.uint8)


def coarsen(trimap: np.ndarray, factor: float = 3.0) -> np.ndarray:
    """Grow the unknown band until it covers `factor` times its area."""
    unknown = (trimap == 0.5).astype(np.uint8)
    target = factor * unknown.sum()
    kernel = np.ones((3, 3), np.uint8)
    while unknown.sum() < min(target, unknown.size):  # a band can grow no further than the frame
        unknown = cv2.dilate(unknown, kernel)
    out = trimap.copy()
    out[unknown == 1] = 0.5
    return out


def scores(labels: np.ndarray, truth: np.ndarray, region: np.ndarray) -> tuple[float, float, float]:
    """(accuracy, mIoU over the 3 classes, unknown area / T_opt's unknown area) inside `region`."""
    p, t = labels[region], truth[region]
    ious = []
    for c in range(3):
        union = ((p == c) | (t == c)).sum()
        if union:
            ious.append(((p == c) & (t == c)).sum() / union)
    return float((p == t).mean()), float(np.mean(ious)), float((labels == UNKNOWN).sum() / max((truth == UNKNOWN).sum(), 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="", help="weights file or bundled name (default: the bundled default)")
    parser.add_argument("--items", default="GT02,GT07,GT13,GT19,GT25", help="the held-out split")
    args = parser.parse_args()
    engine = MattingEngine.from_weights(args.weights or None, device="cpu")
    default = MattingEngine.from_weights(args.weights or None, device="cpu", refine=BY_NAME["refine"].default,
                                         drawn_band=BY_NAME["drawn_band"].default)
    rows = {}
    propagated = MakeTrimap(mix=tuple(float(k == "propagated") for k in MakeTrimap.KINDS))
    for item in discover_eval_items(SHARED, only=tuple(args.items.split(","))):
        alpha = read_matte(item.alpha)
        image, truth, seed = read_rgb(item.image), t_opt(alpha), zlib.crc32(item.key.encode())
        given = [normalize_trimap(read_matte(path)) for path in item.trimaps]
        inputs = [("given", t) for t in given] + [("coarse 3x", coarsen(t)) for t in given] + [
            ("tight", tight_trimap(alpha, 1 + seed % 3)),  # as benchmarks/validation.py makes it
            ("propagated", propagated({"alpha": alpha}, np.random.default_rng(seed))["trimap"])]
        for kind, trimap in inputs:
            region = trimap == 0.5
            rows.setdefault((kind, "input"), []).append(scores(trimap_to_labels(trimap), truth, region))
            rows.setdefault((kind, "adapted"), []).append(scores(engine.matte(image, trimap).labels, truth, region))
            rows.setdefault((kind, "default"), []).append(scores(default.matte(image, trimap).labels, truth, region))
    print(f"trimap adaptation on {args.items} (given and coarse: both trimaps each), over the input's unknown region")
    print(f"{'trimap':<11}{'labels':<9}{'accuracy':>10}{'mIoU':>8}{'unknown area / T_opt':>22}")
    for (kind, which), values in rows.items():
        acc, miou, area = np.mean(values, axis=0)
        print(f"{kind:<11}{which:<9}{acc:10.3f}{miou:8.3f}{area:22.2f}")


if __name__ == "__main__":
    main()
