"""The training data pipeline as a list of small transforms, GCA-Matting style.

A sample is a dict of numpy arrays: 'fg' (H×W×3 un-premultiplied foreground, 0-1),
'alpha' (H×W, 0-1), 'bg' (H'×W'×3 background, 0-1) and 'spatial', the keys that geometric
transforms must move together ('bg' joins them when it is the sample's own, aligned
background). Each transform is called as t(sample, rng) and returns the sample.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from adamatte.errors import InputError
from adamatte.matting.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from adamatte.train.config import TRIMAP_MIX
from adamatte.train.procedural import ProceduralTransparency

Sample = dict


def _warp_all(sample: Sample, fn) -> Sample:
    for key in sample["spatial"]:
        sample[key] = fn(sample[key])
    return sample


class RandomResize:
    """Scale by a factor drawn from [lo, hi]."""

    def __init__(self, lo: float = 0.75, hi: float = 1.5):
        self.lo, self.hi = lo, hi

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        scale = rng.uniform(self.lo, self.hi)
        h, w = sample["alpha"].shape
        size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
        return _warp_all(sample, lambda x: cv2.resize(x, size, interpolation=cv2.INTER_LINEAR))


class RandomRotate:
    """Rotate by an angle drawn from ±degrees about the centre, reflecting at the borders."""

    def __init__(self, degrees: float = 45.0):
        self.degrees = degrees

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        angle = rng.uniform(-self.degrees, self.degrees)
        h, w = sample["alpha"].shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        return _warp_all(sample, lambda x: cv2.warpAffine(x, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))


class RandomFlip:
    """Mirror left-right with probability 1/2."""

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        if rng.random() < 0.5:
            _warp_all(sample, lambda x: np.ascontiguousarray(x[:, ::-1]))
        return sample


class CropAroundUnknown:
    """A square crop of a size drawn from [lo, hi] px, centred on a random unknown pixel, resized to `out`."""

    def __init__(self, lo: int = 320, hi: int = 800, out: int = 320):
        self.lo, self.hi, self.out = lo, hi, out

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        h, w = sample["alpha"].shape
        if min(h, w) < self.out:  # too small even for the output: pad by reflection
            pad_y, pad_x = max(self.out - h, 0), max(self.out - w, 0)
            _warp_all(sample, lambda x: cv2.copyMakeBorder(x, 0, pad_y, 0, pad_x, cv2.BORDER_REFLECT))
            h, w = sample["alpha"].shape
        size = min(int(rng.integers(self.lo, self.hi + 1)), h, w)
        alpha = sample["alpha"]
        ys, xs = np.nonzero((alpha > 0) & (alpha < 1))
        if len(ys):
            i = rng.integers(len(ys))
            cy, cx = ys[i], xs[i]
        else:
            cy, cx = rng.integers(h), rng.integers(w)
        y0 = int(np.clip(cy - size // 2, 0, h - size))
        x0 = int(np.clip(cx - size // 2, 0, w - size))
        out = (self.out, self.out)
        return _warp_all(sample, lambda x: cv2.resize(x[y0:y0 + size, x0:x0 + size], out, interpolation=cv2.INTER_LINEAR))


class ColorJitter:
    """Shift the foreground's hue and scale its saturation and value, as GCA-Matting does."""

    def __init__(self, hue: float = 0.05, saturation: float = 0.3, value: float = 0.3):
        self.hue, self.saturation, self.value = hue, saturation, value

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        hsv = cv2.cvtColor(sample["fg"].astype(np.float32), cv2.COLOR_RGB2HSV)  # H in degrees
        hsv[..., 0] = (hsv[..., 0] + 360.0 * rng.uniform(-self.hue, self.hue)) % 360.0
        hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(1 - self.saturation, 1 + self.saturation), 0, 1)
        hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(1 - self.value, 1 + self.value), 0, 1)
        sample["fg"] = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        return sample


def fit_background(sample: Sample, rng: np.random.Generator) -> Sample:
    """An unaligned background cropped and resized to the sample's size (at 1-1.5x, a random window,
    mirrored half the time); it then moves with the sample ('bg' joins 'spatial')."""
    if "bg" in sample["spatial"]:
        return sample
    h, w = sample["alpha"].shape
    bg = sample["bg"]
    bh, bw = bg.shape[:2]
    scale = max(h / bh, w / bw) * rng.uniform(1.0, 1.5)
    bg = cv2.resize(bg, (max(int(np.ceil(bw * scale)), w), max(int(np.ceil(bh * scale)), h)), interpolation=cv2.INTER_LINEAR)
    y0, x0 = rng.integers(bg.shape[0] - h + 1), rng.integers(bg.shape[1] - w + 1)
    bg = bg[y0:y0 + h, x0:x0 + w]
    if rng.random() < 0.5:
        bg = bg[:, ::-1]
    sample["bg"] = bg
    sample["spatial"] = [*sample["spatial"], "bg"]
    return sample


def _edge_pixel(alpha: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """(y, x) of a random semi-transparent pixel of an H×W alpha; its centre when there is none."""
    ys, xs = np.nonzero((alpha > 0.05) & (alpha < 0.95))
    if not len(ys):
        return alpha.shape[0] // 2, alpha.shape[1] // 2
    i = rng.integers(len(ys))
    return int(ys[i]), int(xs[i])


def _fade_in(n: int, share: float = 0.1) -> np.ndarray:
    """n weights, 0-1: rising linearly over the outer `share` of n at both ends."""
    i = np.arange(n, dtype=np.float32)
    return np.clip(np.minimum(i + 1, n - i) / max(share * n, 1.0), 0, 1)


class Distractor:
    """Another matted object standing behind the subject, one of its edge pixels on one of the subject's.

    The dataset hands a share of samples (TrainConfig.distractor) another item's foreground and alpha as
    sample['distractor']; this composites it into the background, its longer side 0.5-1.5x the crop's.
    A crop's alpha is cut straight where the crop cut the object; it fades out over the outer tenth of
    the distractor instead, so the background holds no hard rectangles. The truth stays the subject's
    alpha alone. On footage, the band a render hands on is wide (motion blur, a coarse keyframe trimap),
    and things behind the subject get into it: the network gave the judo demo's bicycle and the people
    behind a swaying subject alpha 0.3-0.5 there (issue #14). Hair and soft edges of a second object
    crossing the band are what it must learn to call background.
    """

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        other = sample.pop("distractor", None)
        if other is None:
            return sample
        fit_background(sample, rng)
        fg, alpha = other
        alpha = alpha * _fade_in(alpha.shape[0])[:, None] * _fade_in(alpha.shape[1])[None, :]
        h, w = sample["alpha"].shape
        scale = rng.uniform(0.5, 1.5) * max(h, w) / max(alpha.shape)
        size = (max(int(round(alpha.shape[1] * scale)), 1), max(int(round(alpha.shape[0] * scale)), 1))
        method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        fg, alpha = cv2.resize(fg, size, interpolation=method), np.clip(cv2.resize(alpha, size, interpolation=method), 0, 1)
        if rng.random() < 0.5:
            fg, alpha = fg[:, ::-1], alpha[:, ::-1]
        (ty, tx), (sy, sx) = _edge_pixel(sample["alpha"], rng), _edge_pixel(alpha, rng)
        y0, x0 = ty - sy, tx - sx  # where the distractor's top-left corner lands in the sample
        top, left, bottom, right = max(y0, 0), max(x0, 0), min(y0 + alpha.shape[0], h), min(x0 + alpha.shape[1], w)
        if top < bottom and left < right:
            a = alpha[top - y0:bottom - y0, left - x0:right - x0, None]
            bg = sample["bg"].copy()
            bg[top:bottom, left:right] = a * fg[top - y0:bottom - y0, left - x0:right - x0] + (1 - a) * bg[top:bottom, left:right]
            sample["bg"] = bg
        return sample


class Composite:
    """image = α·fg + (1-α)·bg; an unaligned background is first fitted (fit_background)."""

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        fit_background(sample, rng)
        a = sample["alpha"][..., None]
        sample["image"] = np.clip(a * sample["fg"] + (1 - a) * sample["bg"], 0, 1).astype(np.float32)
        return sample


class MakeTrimap:
    """Training trimap from ground truth, of a kind drawn per sample; also sets 'labels', T_opt.

    Users hand the network every width of band, so training shows it all of them:
    - 'tight': T_opt's unknown region dilated by 0-3 px, as DIM's test trimaps are, so the
      T-decoder learns that a tight band is already right;
    - 'erode': each side eroded by a 3×3 ellipse 1-`max_iterations` times (the paper's);
    - 'coarse': a band 1.5-4× T_opt's unknown area, to be narrowed;
    - 'blobby': a band whose width wanders 1-40 px along the edge, like a hand-painted one;
    - 'propagated': what a render hands from one frame to the next (video.propagate): an erosion
      band around the edge as it was a few px away (the flow's error), with blobs of unknown inside
      the known regions (where the flow failed or foreground decayed), so the T-decoder learns to
      give back what the band does not need.
    Every kind covers T_opt's unknown region. Labels: 0 where alpha is 0, 2 where it is 1, 1 elsewhere.
    `mix` weighs the kinds in KINDS order; a shorter mix (an older config) leaves the rest out.
    """

    KINDS = ("tight", "erode", "coarse", "blobby", "propagated")
    MAX_SHIFT = 6  # px: how far the 'propagated' band's edge may be from the true one
    HOLE_CELL = 32  # px: the scale of the 'propagated' kind's blobs of unknown

    def __init__(self, max_iterations: int = 25, mix: tuple[float, ...] = TRIMAP_MIX):
        if not 0 < len(mix) <= len(self.KINDS) or min(mix) < 0 or sum(mix) <= 0:
            raise InputError(f"trimap_mix needs 1-{len(self.KINDS)} non-negative weights ({', '.join(self.KINDS)}), not {mix}")
        self.max_iterations = max_iterations
        self.mix = np.pad(np.asarray(mix, np.float64), (0, len(self.KINDS) - len(mix))) / np.sum(mix)
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def _erode(self, alpha: np.ndarray, rng: np.random.Generator, lo: int = 1, hi: int | None = None) -> np.ndarray:
        """Unknown where neither side survives lo-hi (default max_iterations) erosions (H×W bool)."""
        hi = hi or self.max_iterations
        fg = (alpha >= 1.0).astype(np.uint8)
        bg = (alpha <= 0.0).astype(np.uint8)
        # iterations by keyword: passed by position it would be taken as `dst`
        fg = cv2.erode(fg, self.kernel, iterations=int(rng.integers(lo, hi + 1)))
        bg = cv2.erode(bg, self.kernel, iterations=int(rng.integers(lo, hi + 1)))
        return (fg == 0) & (bg == 0)

    @staticmethod
    def _widen(alpha: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
        """T_opt's unknown region grown by a distance threshold of the given kind (H×W bool)."""
        unknown = (alpha > 0) & (alpha < 1)
        if not unknown.any():
            return unknown
        # distance (px) of every pixel to the nearest unknown pixel of T_opt
        dist = cv2.distanceTransform((~unknown).astype(np.uint8), cv2.DIST_L2, 5)
        if kind == "tight":
            return dist <= rng.integers(0, 4)
        if kind == "coarse":
            target = min(int(unknown.sum() * rng.uniform(1.5, 4.0)), dist.size)
            return dist <= np.partition(dist.ravel(), target - 1)[target - 1]
        h, w = alpha.shape  # blobby: a smooth random width field
        field = cv2.resize(rng.random((max(h // 48, 2), max(w // 48, 2))).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        return dist <= 1.0 + 39.0 * np.clip(field, 0, 1) ** 2

    def _propagated(self, alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """An erosion band (4-16 px a side, as the render's margin and flow spread make it) of the alpha
        moved by up to MAX_SHIFT px, grown to cover T_opt's unknown region, with a few smooth random
        blobs of unknown in the known regions (H×W bool)."""
        h, w = alpha.shape
        dx, dy = rng.uniform(-self.MAX_SHIFT, self.MAX_SHIFT, 2)
        moved = cv2.warpAffine(alpha, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), borderMode=cv2.BORDER_REFLECT)
        band = self._erode(moved, rng, 4, 16) | (cv2.dilate(((alpha > 0) & (alpha < 1)).astype(np.uint8), self.kernel) > 0)
        cells = (max(w // self.HOLE_CELL, 2), max(h // self.HOLE_CELL, 2))
        field = cv2.resize(rng.random(cells[::-1]).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        return band | (field > rng.uniform(0.82, 1.0))

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        alpha = sample["alpha"]
        kind = self.KINDS[int(rng.choice(len(self.KINDS), p=self.mix))]
        if kind == "erode":
            band = self._erode(alpha, rng)
        elif kind == "propagated":
            band = self._propagated(alpha, rng)
        else:
            band = self._widen(alpha, kind, rng)
        trimap = np.where(alpha >= 0.5, 1.0, 0.0).astype(np.float32)
        trimap[band] = 0.5
        labels = np.full(alpha.shape, UNKNOWN, np.int64)
        labels[alpha <= 0.0] = BACKGROUND
        labels[alpha >= 1.0] = FOREGROUND
        sample["trimap"], sample["labels"] = trimap, labels
        return sample


def to_tensors(sample: Sample) -> dict[str, torch.Tensor]:
    """The network's inputs and targets: image 3×H×W, trimap 1×H×W, alpha 1×H×W, labels H×W (int64)."""
    return {
        "image": torch.from_numpy(np.ascontiguousarray(sample["image"].transpose(2, 0, 1))),
        "trimap": torch.from_numpy(sample["trimap"])[None],
        "alpha": torch.from_numpy(np.ascontiguousarray(sample["alpha"], dtype=np.float32))[None],
        "labels": torch.from_numpy(sample["labels"]),
    }


def paper_pipeline(crop: int = 320, crop_min: int = 320, crop_max: int = 800, resize=(0.75, 1.5), degrees: float = 45.0,
                   trimap_mix: tuple[float, ...] = TRIMAP_MIX, procedural: float = 0.0) -> list:
    """The paper's augmentation: resize, rotate, flip, crop around unknown pixels, jitter, composite,
    trimap (of the kinds MakeTrimap.KINDS, drawn with the weights `trimap_mix`); with `procedural` > 0,
    that share of the crops first gets a procedural transparent layer (train.procedural). A sample the
    dataset gave a 'distractor' gets it behind the subject (Distractor)."""
    return [
        RandomResize(*resize), RandomRotate(degrees), RandomFlip(), CropAroundUnknown(crop_min, crop_max, crop),
        *([ProceduralTransparency(procedural)] if procedural > 0 else []), ColorJitter(), Distractor(), Composite(), MakeTrimap(mix=trimap_mix),
    ]
