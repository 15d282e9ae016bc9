"""Procedural transparency with exact ground truth, layered onto a training sample's foreground.

The 405 composites hold few kinds of real transparency. These layers add what a plate brings
and the crops lack, each with its alpha known exactly:

- strands: thin curved hairs or fibres growing out of the subject's edge, antialiased by
  drawing at 4× and averaging down, each of its own opacity (0.3-1) and of a colour taken from
  the subject where it grows;
- veil: a translucent sheet (gauze, a sleeve of chiffon) over part of the edge, its opacity
  0.15-0.7 modulated by a weave;
- blur: the whole layer motion-blurred (a line kernel, 5-25 px) or defocused (a disk, radius
  2-8 px). Blurring the premultiplied colour and alpha together is what a lens or shutter does
  to a layer in front of a sharp background, so the composite stays exact.

Layers go *over* the subject: α' = a + α(1 − a), fg'·α' = c·a + fg·α·(1 − a).
A sample is the training pipeline's dict (adamatte.train.transforms): 'fg' H×W×3 and 'alpha' H×W, both 0-1.
"""

from __future__ import annotations

import cv2
import numpy as np

from adamatte.matting.morphology import disk

SUPERSAMPLE = 4  # strands are drawn this many times larger, then averaged down: antialiased coverage


def _straight(premultiplied: np.ndarray, alpha: np.ndarray, fallback: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """(un-premultiplied colour H×W×3, alpha H×W), float32 in 0-1; `fallback`'s colour where alpha ≤ floor."""
    a = alpha[..., None]
    colour = np.where(a > floor, premultiplied / np.maximum(a, floor), fallback)
    return np.clip(colour, 0, 1).astype(np.float32), np.clip(alpha, 0, 1).astype(np.float32)


def over(fg: np.ndarray, alpha: np.ndarray, colour: np.ndarray, cover: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A layer of `colour` (H×W×3 or 3, 0-1) and coverage `cover` (H×W, 0-1) over fg (H×W×3) / alpha (H×W).
    Returns the new un-premultiplied foreground and alpha (float32)."""
    a = cover[..., None]
    premultiplied = colour * a + fg * alpha[..., None] * (1 - a)
    return _straight(premultiplied, cover + alpha * (1 - cover), fg, 1e-6)


def _edge_points(alpha: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """count (y, x) points on the subject's edge (solid pixels next to clear ones); none when it has no edge."""
    solid = (alpha > 0.9).astype(np.uint8)
    edge = solid & (cv2.dilate(1 - solid, np.ones((3, 3), np.uint8)) > 0)
    ys, xs = np.nonzero(edge)
    if not len(ys):
        return np.zeros((0, 2), int)
    pick = rng.integers(len(ys), size=count)
    return np.stack([ys[pick], xs[pick]], axis=1)


def strands(fg: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """20-120 antialiased hairs from the subject's edge, outward, each of its own opacity and colour."""
    h, w = alpha.shape
    roots = _edge_points(alpha, rng, int(rng.integers(20, 121)))
    if not len(roots):
        return fg, alpha
    fg, alpha = fg.astype(np.float32, copy=True), alpha.astype(np.float32, copy=True)  # drawn into in place
    away = cv2.GaussianBlur(alpha, (0, 0), 6)
    gy, gx = np.gradient(-away)  # points away from the subject
    s = SUPERSAMPLE
    for y, x in roots:
        direction = np.array([gx[y, x], gy[y, x]]) + rng.normal(0, 0.02, 2)
        direction /= np.linalg.norm(direction) + 1e-9
        length = rng.uniform(0.05, 0.3) * max(h, w)
        bend = np.array([-direction[1], direction[0]]) * rng.uniform(-0.4, 0.4) * length
        start = np.array([x, y], float) - direction * rng.uniform(2, 10)  # rooted inside the edge
        t = np.linspace(0, 1, 24)[:, None]
        control, end = start + direction * length / 2 + bend, start + direction * length
        curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t ** 2 * end
        # drawn in its own bounding box only: a crop holds up to 120 of them
        x0, y0 = np.clip(np.floor(curve.min(axis=0)).astype(int) - 2, 0, [w, h])
        x1, y1 = np.clip(np.ceil(curve.max(axis=0)).astype(int) + 3, 0, [w, h])
        if x1 <= x0 or y1 <= y0:
            continue
        canvas = np.zeros(((y1 - y0) * s, (x1 - x0) * s), np.uint8)
        points = np.round((curve - [x0, y0]) * s).astype(np.int32)
        cv2.polylines(canvas, [points], False, 255, int(rng.integers(1, 3)), cv2.LINE_AA)
        cover = cv2.resize(canvas.astype(np.float32) / 255.0, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        colour = np.clip(fg[y, x] * rng.uniform(0.7, 1.3) + rng.normal(0, 0.03, 3), 0, 1)
        box = (slice(y0, y1), slice(x0, x1))
        fg[box], alpha[box] = over(fg[box], alpha[box], colour, cover * rng.uniform(0.3, 1.0))
    return fg, alpha


def veil(fg: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A translucent woven sheet (an ellipse, softened) over a stretch of the subject's edge."""
    h, w = alpha.shape
    centre = _edge_points(alpha, rng, 1)
    if not len(centre):
        return fg, alpha
    y, x = centre[0]
    shape = np.zeros((h, w), np.float32)
    axes = (int(rng.uniform(0.1, 0.4) * w), int(rng.uniform(0.1, 0.4) * h))
    cv2.ellipse(shape, (int(x), int(y)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
    shape = cv2.GaussianBlur(shape, (0, 0), rng.uniform(1, 6))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle, period = rng.uniform(0, np.pi), rng.uniform(3, 12)
    u, v = xs * np.cos(angle) + ys * np.sin(angle), -xs * np.sin(angle) + ys * np.cos(angle)
    weave = 0.5 + 0.25 * (np.sin(2 * np.pi * u / period) + np.sin(2 * np.pi * v / period))  # 0-1
    opacity = rng.uniform(0.15, 0.7) * (1 - rng.uniform(0.2, 0.8) * (1 - weave))
    colour = rng.uniform(0.1, 1.0, 3).astype(np.float32)
    return over(fg, alpha, colour, shape * opacity)


def blur_kernel(rng: np.random.Generator) -> np.ndarray:
    """A motion-blur line (5-25 px, any angle) or a defocus disk (radius 2-8 px), summing to 1."""
    if rng.random() < 0.5:
        length = int(rng.integers(5, 26))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2] = 1.0
        centre = ((length - 1) / 2, (length - 1) / 2)
        kernel = cv2.warpAffine(kernel, cv2.getRotationMatrix2D(centre, float(rng.uniform(0, 180)), 1.0), (length, length))
    else:
        radius = int(rng.integers(2, 9))
        kernel = disk(radius).astype(np.float32)
    return kernel / kernel.sum()


def blur_by(fg: np.ndarray, alpha: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The layer through `kernel` (k×k, summing to 1): premultiplied colour and alpha alike."""
    premultiplied = cv2.filter2D(fg * alpha[..., None], -1, kernel, borderType=cv2.BORDER_REFLECT)
    new_alpha = np.clip(cv2.filter2D(alpha.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT), 0, 1)
    return _straight(premultiplied, new_alpha, fg, 1e-4)


def blur(fg: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The layer motion-blurred or defocused (blur_kernel, blur_by)."""
    return blur_by(fg, alpha, blur_kernel(rng))


LAYERS = {"strands": strands, "veil": veil, "blur": blur}
KINDS = tuple(LAYERS)


class ProceduralTransparency:
    """Transform: with probability `p`, one procedural layer (a kind of KINDS, drawn evenly) onto the
    sample's 'fg' and 'alpha', before it is composited. Runs after the crop, so its cost is the crop's."""

    def __init__(self, p: float = 0.3):
        self.p = p

    def __call__(self, sample: dict, rng: np.random.Generator) -> dict:
        if self.p <= 0 or rng.random() >= self.p:
            return sample
        layer = LAYERS[KINDS[int(rng.integers(len(KINDS)))]]
        sample["fg"], sample["alpha"] = layer(sample["fg"].astype(np.float32), sample["alpha"].astype(np.float32), rng)
        return sample
