"""Keyframe memory: what the user's keyframes say the subject and its background look like.

Propagation alone forgets: once the network calls a background pixel foreground, the next
frame's trimap would carry it on as known. The memory remembers the keyframes instead, so a
pixel the network wants as foreground where the flow says background came from must look like
the subject to be kept.

Each keyframe adds seeded samples of its known foreground (value 1) anywhere, so that the inside of
a coat is known when it swings to the edge, and within `REACH` px of its band (where contested
pixels will be) of its known background (value 0) and its band, valued by the keyframe's matte, so
that the subject's soft edge is remembered as the mix it is. A sample is 8-D:
the pixel's CIE Lab colour, the Lab mean of its 9×9 surround, and its (weakly weighted) position
relative to the subject's centre, so that the subject may travel. A pixel's subject value is the
mean value of its `NEIGHBOURS` nearest samples: the KNN matting estimate of its alpha (Chen et al.
2013), and 0 for a stranger: a pixel farther than `STRANGER` from every sample of the subject,
however far it is from the background ones too (a car that was never there). Colour with its
local context tells a passing car or a person behind the subject from the subject; position
counts a little, so that look-alikes elsewhere in the frame (another player in the same white gi)
weigh less than the subject's own neighbourhood.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import scipy.spatial

from adamatte.interrupt import uninterrupted

REACH = 40  # px around a keyframe's unknown band that its background and band samples come from
SAMPLES = 3000  # per kind (foreground, background, band) and keyframe
NEIGHBOURS = 8
STRANGER = 30.0  # feature distance to the nearest sample of the subject beyond which a pixel is not the subject
SUBJECT_ABOVE = 0.05  # a sample of this value or more is the subject's (its soft edge included)
SURROUND = 9  # px: the box whose mean colour is the feature's context half
POSITION = 0.15  # Lab units per px of image position (of a 1000 px wide frame): nearby samples count more
FEATURES = 8
# Approximate neighbours (each found one at most 1.5x farther than the true one): the decay's 65k searches on a 1080p
# frame took 0.24 s instead of 0.36, with 0.02% of its decisions flipped and the video clips' scores within noise
# (benchmarks/journal/performance.md).
SEARCH_EPS = 0.5


def subject_centre(alpha: np.ndarray, forward: np.ndarray | None = None) -> tuple[float, float]:
    """(x, y) px: the alpha-weighted centre of a matte (H×W 0-1), carried along the forward flow
    (H×W×2 px, or None) when it is the previous frame's; the frame's centre when the matte is empty."""
    h, w = alpha.shape
    mass = float(alpha.sum())
    if mass < 1e-6:
        return w / 2.0, h / 2.0
    ys, xs = (g.astype(np.float32) for g in np.ogrid[0:h, 0:w])
    if forward is not None:
        xs, ys = xs + forward[..., 0], ys + forward[..., 1]
    return float((alpha * xs).sum() / mass), float((alpha * ys).sum() / mass)


def lab_colour(image: np.ndarray) -> np.ndarray:
    """H×W×3 working-space image (0-1) -> H×W×3 float32 CIE Lab (L 0-100)."""
    return cv2.cvtColor(np.clip(image, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)


@dataclass(frozen=True)
class PixelFeatures:
    """A frame's pixel features (FEATURES-D): Lab colour, the Lab mean of its SURROUND box, and its
    position relative to the subject's centre, scaled by POSITION per px of a 1000 px wide frame.
    Made per pixel asked about (of): the memory asks about a band, not the whole frame.

    lab, surround: H×W×3 float32 CIE Lab. centre: (x, y) px (subject_centre). scale: Lab units per px.
    """

    lab: np.ndarray
    surround: np.ndarray
    centre: tuple[float, float]
    scale: float

    def of(self, mask: np.ndarray) -> np.ndarray:
        """N×FEATURES float32, one row per True pixel of the H×W bool mask (row-major)."""
        ys, xs = np.nonzero(mask)
        return self.at(ys, xs)

    def at(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """N×FEATURES float32 of the pixels (ys[i], xs[i])."""
        out = np.empty((len(ys), FEATURES), np.float32)
        out[:, 0:3], out[:, 3:6] = self.lab[ys, xs], self.surround[ys, xs]
        out[:, 6] = (xs.astype(np.float32) - self.centre[0]) * self.scale
        out[:, 7] = (ys.astype(np.float32) - self.centre[1]) * self.scale
        return out


def pixel_features(image: np.ndarray, centre: tuple[float, float]) -> PixelFeatures:
    """The PixelFeatures of an H×W×3 working-space image (0-1), positions relative to the subject's
    `centre` (x, y px; see subject_centre)."""
    lab = lab_colour(image)
    return PixelFeatures(lab, cv2.blur(lab, (SURROUND, SURROUND)), centre, POSITION * 1000.0 / lab.shape[1])


class KeyframeMemory:
    """Samples of every keyframe's foreground, background and band, and a KNN estimate of subject alpha.

    memory.add(frame, image, trimap, alpha)           # a keyframe: its image, user trimap and matte
    p = memory.subject_value(features, mask)          # for the pixels of mask (pixel_features), in 0-1

    A function of the keyframes alone (seeded by frame number, in keyframe order), so a render
    resumed or chunked anywhere rebuilds exactly the memory a sequential render had.
    """

    def __init__(self) -> None:
        self.frames: list[int] = []
        self._samples: list[tuple[np.ndarray, np.ndarray]] = []  # (features N×FEATURES, value N in 0-1)
        self._trees: tuple[scipy.spatial.cKDTree, np.ndarray, scipy.spatial.cKDTree] | None = None
        # the last frame read: its features, and per pixel the neighbours' mean value (NaN: not asked yet) and the
        # distance to the subject's nearest sample. The propagation and the veto ask about overlapping pixels of one frame.
        self._read: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __bool__(self) -> bool:
        return bool(self.frames)

    def add(self, frame: int, image: np.ndarray, trimap: np.ndarray, alpha: np.ndarray) -> None:
        """Remember keyframe `frame`: its H×W×3 working-space image, user trimap (H×W {0, 0.5, 1}) and
        matte (H×W 0-1), which values the band's samples and places the subject's centre."""
        if frame in self.frames:
            return
        features = pixel_features(image, subject_centre(alpha))
        unknown = trimap == 0.5
        if unknown.any():
            near = cv2.distanceTransform((~unknown).astype(np.uint8), cv2.DIST_L2, 5) <= REACH
        else:  # no band at all: sample everywhere
            near = np.ones(trimap.shape, bool)
        rng = np.random.default_rng([frame & 0xFFFFFFFF, 11])
        values = np.where(unknown, alpha, trimap).reshape(-1)
        picked = []
        for kind in (trimap == 1.0, (trimap == 0.0) & near, unknown):
            where = np.flatnonzero(kind)
            if len(where) > SAMPLES:
                where = np.sort(rng.choice(where, SAMPLES, replace=False))
            picked.append(where)
        where = np.concatenate(picked)
        self._samples.append((features.at(*np.divmod(where, trimap.shape[1])), values[where].astype(np.float32)))
        self.frames.append(frame)
        self._trees, self._read = None, None

    def subject_value(self, features: PixelFeatures, mask: np.ndarray, *, strangers: bool = True) -> np.ndarray:
        """How much each pixel of `mask` looks like the subject: the mean value (alpha) of its nearest samples.

        features: pixel_features of the frame. mask: H×W bool. Returns float32, one value
        per True pixel of mask (row-major); 1 everywhere when the memory is empty. strangers: a pixel
        farther than STRANGER from every sample of the subject gets 0 (else only its neighbours count).
        Each pixel of a frame is searched once: later calls with the same `features` reuse it.
        """
        count = int(mask.sum())
        if not self.frames or count == 0:
            return np.ones(count, np.float32)
        if self._read is None or self._read[0] is not features:
            self._read = features, np.full(mask.shape, np.nan, np.float32), np.full(mask.shape, np.inf)
        _, share, to_subject = self._read
        todo = mask & np.isnan(share)
        if todo.any():
            share[todo], to_subject[todo] = self._search(features.of(todo))
        values = share[mask]
        if not strangers:
            return values
        return np.where(to_subject[mask] <= STRANGER, values, 0.0).astype(np.float32)

    def _search(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """N×FEATURES pixel features -> (mean value of their NEIGHBOURS nearest samples, float32; distance to
        the nearest sample of the subject), each of length N."""
        if self._trees is None:
            points = np.concatenate([s[0] for s in self._samples])
            values = np.concatenate([s[1] for s in self._samples])
            subject = points[values >= SUBJECT_ABOVE] if (values >= SUBJECT_ABOVE).any() else np.full((1, FEATURES), 1e6, np.float32)
            self._trees = scipy.spatial.cKDTree(points), values, scipy.spatial.cKDTree(subject)
        tree, values, subject = self._trees
        count, k = len(queries), min(NEIGHBOURS, len(values))
        with uninterrupted():
            distance, nearest = tree.query(queries, k=k, workers=-1, eps=SEARCH_EPS)
        distance, nearest = distance.reshape(count, k), nearest.reshape(count, k)
        neighbour_values = values[nearest]
        # The nearest sample of the subject is among the k nearest of all whenever any of them is the
        # subject's; only the pixels with none need the subject's own tree (a second query for all doubled the cost).
        to_subject = np.where(neighbour_values >= SUBJECT_ABOVE, distance, np.inf).min(axis=1)
        far = np.isinf(to_subject)
        if far.any():
            with uninterrupted():
                to_subject[far] = subject.query(queries[far], k=1, workers=-1, eps=SEARCH_EPS)[0]
        return neighbour_values.mean(axis=1), to_subject


def keyframe_memory(keyframes, read_rgb: Callable[[int], np.ndarray], before: int,
                    matte: Callable[[int, np.ndarray, np.ndarray], np.ndarray]) -> KeyframeMemory:
    """The memory of every keyframe earlier than frame `before`, as a render that reached it holds.

    keyframes: video.keyframes.Keyframes. read_rgb(frame) -> that frame's H×W×3 working-space image.
    matte(frame, image, trimap) -> the keyframe's alpha (H×W 0-1), exactly as the render had it.
    """
    memory = KeyframeMemory()
    for frame in keyframes.frames:
        if frame < before:
            image = read_rgb(frame)
            trimap = keyframes.load(frame, image.shape[:2])
            memory.add(frame, image, trimap, matte(frame, image, trimap))
    return memory
