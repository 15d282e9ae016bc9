"""The model card's validation table: the bundled network (alone, and with KNN or closed-form
refinement inside its adapted band) against pymatting's closed-form and KNN matting, on the
held-out alphamatting.com items, for two kinds of trimap, reported apart:
  - given: the items' own two trimaps (alphamatting.com's trimap1 and trimap2);
  - tight: T_opt (the truly semi-transparent region) dilated by 1-3 px (fixed per item), as
    Composition-1k's test trimaps are; the kind on which a network that narrows bands loses.
SAD, MSE x1e3, Grad, Conn (DIM / alphamatting MATLAB definitions, unknown region only) and CPU
seconds per image.

    python benchmarks/validation.py [--weights lite] [--items GT02,GT07,GT13,GT19,GT25] [--trimaps given,tight] [--threads 2]
        [--variants network,net+knn,...] [--classical closed-form,knn]

--analysis-scales 1,0.7,0.5 replaces the engine rows by the network alone and the default (KNN)
at each analysis scale (--analysis-scale), beside the classical references, in one run: what a
large frame loses when the network sees it smaller.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import zlib

import torch

from adamatte.io.image import read_matte, write_image
from adamatte.matting.engine import MattingEngine
from adamatte.matting.trimap import tight_trimap
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
    parser.add_argument("--trimaps", default="given,tight", help="trimap kinds, comma separated: given, tight")
    parser.add_argument("--analysis-scales", default="", help="comma list of analysis scales to compare (e.g. 1,0.7,0.5)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of engine rows: {', '.join(VARIANTS)}")
    parser.add_argument("--classical", default="closed-form,knn", help="classical rows; closed-form is what the ratios divide by")
    args = parser.parse_args()
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown --variants {', '.join(sorted(unknown))}")
    if "closed-form" not in args.classical.split(","):
        parser.error("--classical must include closed-form: the ratios are to it")
    args.variants = {name: VARIANTS[name] for name in args.variants.split(",")}
    if args.analysis_scales:
        args.variants = {f"{label}@{scale}": {"refine": refine, "analysis_scale": float(scale)}
                         for scale in args.analysis_scales.split(",") for label, refine in (("network", "none"), ("net+knn", "knn"))}
    if args.threads:
        torch.set_num_threads(args.threads)
    items = discover_eval_items(SHARED, only=tuple(args.items.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.trimaps.split(","):
            print(f"\n{kind} trimaps" + (" (T_opt dilated 1-3 px)" if kind == "tight" else " (alphamatting.com trimap1, trimap2)"))
            report(tight_items(items, tmp) if kind == "tight" else items, args)


def tight_items(items: list, folder: str) -> list:
    """The items with one tight trimap each: T_opt dilated by 1, 2 or 3 px, fixed by the item's name."""
    out = []
    for item in items:
        path = os.path.join(folder, "tight", f"{item.key}.png")
        write_image(path, tight_trimap(read_matte(item.alpha), 1 + zlib.crc32(item.key.encode()) % 3), ["Y"], pixel_type="uint8")
        out.append(dataclasses.replace(item, trimaps=(path,)))
    return out


def report(items: list, args: argparse.Namespace) -> None:
    """Every VARIANTS row and the two classical methods on `items`, and their ratios to closed-form."""
    rows = []
    for label, options in args.variants.items():
        engine = MattingEngine.from_weights(args.weights or None, device="cpu", **{"refine": "none", **options})
        rows += score_items(items, network_matter(engine), label=label, progress=False)
    for method in args.classical.split(","):
        rows += score_items(items, classical_matter(method), label=method, progress=False)
    if args.per_image:
        print(format_table(rows))
    else:
        print(f"{'method':<17}{'SAD':>8}{'MSE e3':>8}{'Grad':>8}{'Conn':>8}{'s/image':>9}")
        for method in dict.fromkeys(r["method"] for r in rows):
            m = mean_row([r for r in rows if r["method"] == method])
            print(f"{method:<17}{m['sad']:8.2f}{m['mse']:8.2f}{m['grad']:8.2f}{m['conn']:8.2f}{m['seconds']:9.2f}")
    cf = mean_row([r for r in rows if r["method"] == "closed-form"])
    for label in args.variants:
        m = mean_row([r for r in rows if r["method"] == label])
        print(f"{label}: SAD {m['sad'] / cf['sad']:.2f}x closed-form, Grad {m['grad'] / cf['grad']:.2f}x closed-form")


if __name__ == "__main__":
    main()
