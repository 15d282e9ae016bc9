"""Every trimap and label encoding adamatte uses, in one place.

A trimap is H×W with background 0, unknown 0.5 and foreground 1 (or 0/128/255 in 8 bits).
Labels are uint8 H×W: 0 background, 1 unknown, 2 foreground (the T-decoder's classes).
Label files (sidecars, --trimap-out) hold the labels as 0/128/255. A binary mask or soft
roto (no unknown region) becomes a trimap with an unknown band around its edge.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from adamatte.errors import InputError
from adamatte.io.image import read_matte, write_image
from adamatte.matting.morphology import disk

BACKGROUND, UNKNOWN, FOREGROUND = 0, 1, 2
SOLID = 0.98  # a frame's final alpha at or above which it is solid foreground to the next frame (at or below 1 - SOLID: background)


def normalize_trimap(trimap: np.ndarray) -> np.ndarray:
    """Snap a trimap to float32 {0, 0.5, 1}.

    trimap: H×W (or H×W×1) in 0-255 (uint8 or values above 1.5) or in 0-1. Values below a
    quarter count as background, above three quarters as foreground, the rest as unknown.
    """
    t = np.asarray(trimap)
    if t.ndim == 3:
        t = t[..., 0]
    t = t.astype(np.float32)
    if trimap.dtype == np.uint8 or t.max(initial=0.0) > 1.5:
        t = t / 255.0
    out = np.full(t.shape, 0.5, np.float32)
    out[t < 0.25] = 0.0
    out[t > 0.75] = 1.0
    return out


def trimap_to_labels(trimap: np.ndarray) -> np.ndarray:
    """Normalised trimap (H×W, {0, 0.5, 1}) -> uint8 labels {0, 1, 2}."""
    labels = np.full(trimap.shape, UNKNOWN, np.uint8)
    labels[trimap == 0.0] = BACKGROUND
    labels[trimap == 1.0] = FOREGROUND
    return labels


def band_width(trimap: np.ndarray) -> float:
    """How wide a trimap's unknown band typically is, in px: the lower quartile of its width along its
    middle (twice the distance to its edge, at the distance's ridge). trimap: H×W {0, 0.5, 1}; 0 with no band.

    The lower quartile reads the band's solid edges, where a user's band is as wide as they drew it;
    hair and fur widen the rest of any band."""
    unknown = (trimap == 0.5).astype(np.uint8)
    if not unknown.any():
        return 0.0
    depth = cv2.distanceTransform(np.pad(unknown, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    ridge = (depth >= cv2.dilate(depth, np.ones((3, 3), np.uint8))) & (unknown > 0)
    return float(np.percentile(2.0 * depth[ridge], 25))


def labels_to_trimap(labels: np.ndarray) -> np.ndarray:
    """uint8 labels {0, 1, 2} (H×W) -> float32 trimap {0, 0.5, 1}."""
    return (labels.astype(np.float32) * 0.5).astype(np.float32)


def mask_to_trimap(mask: np.ndarray, band: int) -> np.ndarray:
    """H×W mask or roto (0-1) -> trimap {0, 0.5, 1} with a `band`-px unknown strip on its edge."""
    inside = (mask >= 0.5).astype(np.uint8)
    kernel = disk(band)
    fg = cv2.erode(inside, kernel, iterations=1)
    bg = cv2.erode(1 - inside, kernel, iterations=1)
    trimap = np.full(mask.shape, 0.5, np.float32)
    trimap[fg == 1] = 1.0
    trimap[bg == 1] = 0.0
    return trimap


def as_trimap(values: np.ndarray, band: int) -> np.ndarray:
    """A read image (H×W, 0-1) as a trimap: kept when it has an unknown region, else treated as a mask."""
    unknown = np.abs(values - 0.5) < 0.15
    if unknown.mean() > 1e-4 and ((values < 0.1) | (values > 0.9) | unknown).mean() > 0.99:
        return normalize_trimap(values)
    return mask_to_trimap(values, band)


def tight_trimap(alpha: np.ndarray, radius: int) -> np.ndarray:
    """The trimap of DIM's test sets from a true alpha (H×W, 0-1): its semi-transparent region (T_opt's
    unknown) dilated by `radius` px, known foreground and background elsewhere. H×W float32 {0, 0.5, 1}."""
    unknown = (alpha > 0) & (alpha < 1)
    trimap = np.where(alpha >= 0.5, 1.0, 0.0).astype(np.float32)
    if unknown.any():
        trimap[cv2.distanceTransform((~unknown).astype(np.uint8), cv2.DIST_L2, 5) <= radius] = 0.5
    return trimap


UNKNOWN_WARN_ABOVE = 0.7  # share of the frame; past it the network has too little to go on and mattes haze


def degenerate(trimap: np.ndarray) -> tuple[bool, str] | None:
    """What is wrong with a trimap (H×W {0, 0.5, 1}) as a matting input: (fatal, reason), or None.

    Fatal: it is wholly one class (all unknown gives haze; all foreground or background, a solid
    matte). Not fatal, a warning: no foreground, no background, or unknown over UNKNOWN_WARN_ABOVE.
    """
    fg, bg = float((trimap == 1.0).mean()), float((trimap == 0.0).mean())
    unknown = 1.0 - fg - bg
    for share, name in ((unknown, "unknown"), (fg, "foreground"), (bg, "background")):
        if share >= 1.0:
            return True, f"the trimap is all {name}: nothing to matte"
    if fg == 0.0:
        return False, "the trimap has no foreground: the matte will be weak or empty"
    if bg == 0.0:
        return False, "the trimap has no background: the matte will be weak or solid"
    if unknown > UNKNOWN_WARN_ABOVE:
        return False, f"the trimap is {100 * unknown:.0f}% unknown: expect haze; draw tighter foreground and background"
    return None


def refuse_degenerate(trimap: np.ndarray, *, allow: bool, path: str, frame: int | None = None) -> str | None:
    """A user trimap (H×W {0, 0.5, 1}) judged by `degenerate`: InputError naming `path` (and `frame`) when
    it is wholly one class and not `allow`; else the reason to warn about, or None."""
    problem = degenerate(trimap)
    if problem is None:
        return None
    fatal, reason = problem
    if fatal and not allow:
        raise InputError(f"{reason} (--allow-degenerate renders it anyway)", path=path, frame=frame)
    return reason


def write_labels(path: str, labels: np.ndarray) -> None:
    """Labels {0,1,2} (H×W uint8) as a 0/128/255 trimap file: 8-bit for PNG/JPEG/TIFF, half for EXR."""
    values = np.choose(labels, [0.0, 128.0 / 255.0, 1.0]).astype(np.float32)
    write_image(path, values, ["Y"], pixel_type=None if os.path.splitext(path)[1].lower() == ".exr" else "uint8")


def read_labels(path: str) -> np.ndarray:
    """A label file (0/128/255) back to uint8 labels {0, 1, 2}."""
    return np.rint(read_matte(path) * 2).astype(np.uint8)
