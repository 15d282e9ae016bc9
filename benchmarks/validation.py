"""The model card's validation table: the bundled network (alone, and with KNN or closed-form
refinement inside its adapted band) against pymatting's closed-form and KNN matting, on the
held-out alphamatting.com items, for two kinds of trimap, reported apart:
  - given: the items' own two trimaps (alphamatting.com's trimap1 and trimap2);
  - tight: T_opt (the truly semi-transparent region) dilated by 1-3 px (fixed per item), as
    Composition-1k's test trimaps are; the kind on which a network that narrows bands loses.
SAD, MSE x1e3, Grad, Conn (DIM / alphamatting MATLAB definitions, unknown region only) and CPU
seconds per image.

Two image sets, reported apart (--images):
  - photos: the held-out photos themselves (~0.4 MP);
  - composites: Composition-1k-style test images: each held-out foreground (its colours estimated)
    scaled to 1-3 MP (fixed per item) over one of the background photos, with its given trimaps
    scaled alike (nearest) and a tight trimap of the scaled alpha. What a real plate asks of the
    network: more pixels per edge than it was trained on, and a background it never saw behind it.

    python benchmarks/validation.py [--weights lite] [--items GT02,GT07,GT13,GT19,GT25] [--trimaps given,tight] [--threads 2]
        [--variants network,net+auto,...] [--classical closed-form,knn] [--images photos,composites]

--analysis-scales 1,0.7,0.5 replaces the engine rows by the network alone and the default (auto)
at each analysis scale (--analysis-scale), beside the classical references, in one run: what a
large frame loses when the network sees it smaller.

--roi-margins 32,64,full does the same for the network's region of interest: the px of context
it sees around the trimap's band (full: the whole frame).
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import tempfile
import zlib
from collections.abc import Callable

import cv2
import numpy as np
import torch

from adamatte.io.image import read_matte, write_image
from adamatte.matting.engine import MattingEngine
from adamatte.matting.foreground import estimate_foreground
from adamatte.matting.trimap import normalize_trimap, tight_trimap
from adamatte.scoring.evaluate import classical_matter, format_table, mean_row, network_matter, score_items
from adamatte.scoring.items import Item, discover_eval_items, read_rgb

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "alphamatting_train")
BACKGROUNDS = os.path.join(SHARED, "..", "backgrounds", "*", "*")
VARIANTS = {
    "network": {},
    "net+respect": {"respect_trimap": True},
    "net+closed-form": {"refine": "closed-form"},
    "net+auto": {"refine": "auto"},  # the default: mixed (engine.AUTO_SOLVER)
    "network+bf16": {"precision": "bf16"},
    "net+auto+bf16": {"refine": "auto", "precision": "bf16"},
    "net+knn": {"refine": "knn"},
    "net+mixed": {"refine": "mixed"},
    "net+knn+respect": {"refine": "knn", "respect_trimap": True},
    "net+knn+keep": {"refine": "knn", "drawn_band": "keep"},
    "net+knn+adapt": {"refine": "knn", "drawn_band": "adapt"},
    "net+mixed+keep": {"refine": "mixed", "drawn_band": "keep"},
    "net+closed-form+keep": {"refine": "closed-form", "drawn_band": "keep"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="")
    parser.add_argument("--items", default="GT02,GT07,GT13,GT19,GT25")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--per-image", action="store_true", help="print every image, not only the means")
    parser.add_argument("--trimaps", default="given,tight", help="trimap kinds, comma separated: given, tight")
    parser.add_argument("--analysis-scales", default="", help="comma list of analysis scales to compare (e.g. 1,0.7,0.5)")
    parser.add_argument("--roi-margins", default="", help="comma list of region-of-interest margins in px to compare (full: the whole frame)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of engine rows: {', '.join(VARIANTS)}")
    parser.add_argument("--classical", default="closed-form,knn", help="classical rows; closed-form is what the ratios divide by")
    parser.add_argument("--images", default="photos,composites", help="image sets, comma separated: photos, composites")
    args = parser.parse_args()
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown --variants {', '.join(sorted(unknown))}")
    if "closed-form" not in args.classical.split(","):
        parser.error("--classical must include closed-form: the ratios are to it")
    args.variants = {name: VARIANTS[name] for name in args.variants.split(",")}
    if args.analysis_scales:
        args.variants = setting_rows("analysis_scale", args.analysis_scales, float)
    if args.roi_margins:
        args.variants = setting_rows("roi_margin", args.roi_margins, lambda margin: None if margin == "full" else int(margin))
    if args.threads:
        torch.set_num_threads(args.threads)
    photos = discover_eval_items(SHARED, only=tuple(args.items.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        for images in args.images.split(","):
            items = composite_items(photos, tmp) if images == "composites" else photos
            for kind in args.trimaps.split(","):
                print(f"\n{images}, {kind} trimaps" + (" (T_opt dilated 1-3 px)" if kind == "tight" else " (alphamatting.com trimap1, trimap2)"))
                report(tight_items(items, os.path.join(tmp, images)) if kind == "tight" else items, args)


def setting_rows(option: str, values: str, parse: Callable[[str], object]) -> dict[str, dict]:
    """The network alone and the default (auto) at each of the comma-separated `values` of an engine
    `option`, as --variants rows named like network@0.7."""
    return {f"{label}@{value}": {"refine": refine, option: parse(value)}
            for value in values.split(",") for label, refine in (("network", "none"), ("net+auto", "auto"))}


def composite_items(items: list[Item], folder: str) -> list[Item]:
    """Each item's foreground (colours estimated) scaled to 1-3 MP and composited over a background
    photo, both fixed by the item's name; its trimaps scaled alike (nearest). 8-bit PNGs in `folder`."""
    backgrounds = sorted(glob.glob(BACKGROUNDS))
    out = []
    for item in items:
        seed = zlib.crc32(item.key.encode())
        image, alpha = read_rgb(item.image), read_matte(item.alpha)
        fg, _ = estimate_foreground(image, alpha)
        h, w = alpha.shape
        scale = np.sqrt((1.0 + 2.0 * (seed % 1000) / 999) * 1e6 / (h * w))
        size = (round(w * scale), round(h * scale))
        fg = np.clip(cv2.resize(fg, size, interpolation=cv2.INTER_CUBIC), 0, 1)
        alpha = np.round(np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR), 0, 1) * 255) / 255
        bg = read_rgb(backgrounds[seed % len(backgrounds)])
        cover = max(size[0] / bg.shape[1], size[1] / bg.shape[0])
        bg = cv2.resize(bg, (max(size[0], round(bg.shape[1] * cover)), max(size[1], round(bg.shape[0] * cover))),
                        interpolation=cv2.INTER_CUBIC)[:size[1], :size[0]]
        merged = alpha[..., None] * fg + (1 - alpha[..., None]) * np.clip(bg, 0, 1)
        paths = {kind: os.path.join(folder, "composites", kind, f"{item.key}.png") for kind in ("image", "alpha")}
        write_image(paths["image"], merged.astype(np.float32), ["R", "G", "B"], pixel_type="uint8")
        write_image(paths["alpha"], alpha.astype(np.float32), ["Y"], pixel_type="uint8")
        trimaps = []
        for i, trimap in enumerate(item.trimaps):
            path = os.path.join(folder, "composites", f"trimap{i + 1}", f"{item.key}.png")
            scaled = cv2.resize(normalize_trimap(read_matte(trimap)), size, interpolation=cv2.INTER_NEAREST)
            write_image(path, scaled, ["Y"], pixel_type="uint8")
            trimaps.append(path)
        out.append(Item(item.key, paths["alpha"], image=paths["image"], trimaps=tuple(trimaps)))
    return out


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
