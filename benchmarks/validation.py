"""The model card's validation table: the bundled network (alone, and with KNN or closed-form
refinement inside its adapted band) against pymatting's closed-form and KNN matting, on the
held-out alphamatting.com items with both of their trimaps. SAD, MSE x1e3, Grad, Conn (DIM /
alphamatting MATLAB definitions, unknown region only) and CPU seconds per image.

    python benchmarks/validation.py [--weights lite] [--items GT02,GT07,GT13,GT19,GT25] [--threads 2]
"""

from __future__ import annotations

import argparse
import os

import torch

from adamatte.matting.engine import MattingEngine
from adamatte.scoring.evaluate import classical_matter, format_table, mean_row, network_matter, score_items
from adamatte.scoring.items import discover_eval_items

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "alphamatting_train")
VARIANTS = {
    "network": {},
    "net+respect": {"respect_trimap": True},
    "net+closed-form": {"refine": "closed-form"},
    "net+knn": {"refine": "knn"},  # the default
    "net+knn+respect": {"refine": "knn", "respect_trimap": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="")
    parser.add_argument("--items", default="GT02,GT07,GT13,GT19,GT25")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--per-image", action="store_true", help="print every image, not only the means")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    items = discover_eval_items(SHARED, only=tuple(args.items.split(",")))
    rows = []
    for label, options in VARIANTS.items():
        engine = MattingEngine.from_weights(args.weights or None, device="cpu", **{"refine": "none", **options})
        rows += score_items(items, network_matter(engine), label=label, progress=False)
    for method in ("closed-form", "knn"):
        rows += score_items(items, classical_matter(method), label=method, progress=False)
    if args.per_image:
        print(format_table(rows))
    else:
        print(f"{'method':<17}{'SAD':>8}{'MSE e3':>8}{'Grad':>8}{'Conn':>8}{'s/image':>9}")
        for method in dict.fromkeys(r["method"] for r in rows):
            m = mean_row([r for r in rows if r["method"] == method])
            print(f"{method:<17}{m['sad']:8.2f}{m['mse']:8.2f}{m['grad']:8.2f}{m['conn']:8.2f}{m['seconds']:9.2f}")
    cf = mean_row([r for r in rows if r["method"] == "closed-form"])
    for label in VARIANTS:
        m = mean_row([r for r in rows if r["method"] == label])
        print(f"{label}: SAD {m['sad'] / cf['sad']:.2f}x closed-form, Grad {m['grad'] / cf['grad']:.2f}x closed-form")


if __name__ == "__main__":
    main()
