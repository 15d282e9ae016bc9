"""Evaluation and training items: an image (or clean foreground) with its alpha and trimaps,
paired across folders by the `*` of glob patterns."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

import numpy as np

from adamatte.errors import InputError
from adamatte.io.image import read_image


@dataclass(frozen=True)
class Item:
    key: str
    alpha: str
    image: str = ""  # a composite (merged layout)
    foreground: str = ""  # a clean foreground (foreground layout)
    trimaps: tuple[str, ...] = ()
    background: str = ""  # fixed background (the DIM composition order); else one is drawn


def expand_pattern(pattern: str) -> dict[str, str]:
    """Files matching `pattern` (one `*`), keyed by what the `*` matched."""
    if pattern.count("*") != 1:
        raise InputError("a data pattern needs exactly one '*' (e.g. input/*.png)", path=pattern)
    head, tail = pattern.split("*")
    return {p[len(head): len(p) - len(tail)]: p for p in sorted(glob.glob(pattern))}


def pair_items(main: str, alpha: str, trimaps: tuple[str, ...] = (), *, layout: str = "merged",
               only: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> list[Item]:
    """Items whose `main` file (a composite, or a foreground for layout 'foreground') has partners in
    the `alpha` and `trimaps` patterns; keys filtered by `only` / `exclude`."""
    if layout not in ("merged", "foreground"):
        raise InputError(f"unknown data layout {layout!r} (merged or foreground)")
    found = expand_pattern(main)
    if not found:
        raise InputError("no files match this data pattern", path=main)
    items = []
    for key, path in found.items():
        if (only and key not in only) or key in exclude:
            continue
        partners = alpha.replace("*", key), tuple(t.replace("*", key) for t in trimaps)
        for p in (partners[0], *partners[1]):
            if not os.path.isfile(p):
                raise InputError(f"no partner file for {os.path.basename(path)}", path=p)
        items.append(Item(key, partners[0], image=path if layout == "merged" else "",
                          foreground=path if layout == "foreground" else "", trimaps=partners[1]))
    return items


def read_rgb(path: str) -> np.ndarray:
    """An 8/16-bit photo as H×W×3 float32 0-1 (grey replicated)."""
    pixels, _ = read_image(path)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, :3])


def discover_eval_items(folder: str, only: tuple[str, ...] = ()) -> list[Item]:
    """Items of an evaluation folder: alphamatting.com style (input/, alpha/, trimap*/) or
    *_image / *_alpha / *_trimap files side by side."""
    if os.path.isdir(os.path.join(folder, "input")):
        trimaps = tuple(os.path.join(folder, d, "*.png") for d in sorted(os.listdir(folder)) if d.lower().startswith("trimap"))
        if not trimaps:
            raise InputError("no trimap folders (trimap*/) in this data folder", path=folder)
        return pair_items(os.path.join(folder, "input", "*.png"), os.path.join(folder, "alpha", "*.png"), trimaps, only=tuple(only))
    return pair_items(os.path.join(folder, "*_image.png"), os.path.join(folder, "*_alpha.png"),
                      (os.path.join(folder, "*_trimap.png"),), only=tuple(only))
