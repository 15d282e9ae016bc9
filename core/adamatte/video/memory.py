"""Keyframe memory: what the user's keyframes say the subject and its background look like.

Propagation alone forgets: once the network calls a background pixel foreground, the next
frame's trimap would carry it on as known. The memory remembers the keyframes instead, so a
pixel the network wants as foreground where the flow says background came from must look like
the subject to be kept.

Each keyframe adds seeded samples of its known foreground and background within `REACH` px of
its band (where contested pixels will be), as 8-D features: the pixel's CIE Lab colour, the Lab
mean of its 9×9 surround and its (weakly weighted) position. A pixel's subject probability is the share of foreground among
its `NEIGHBOURS` nearest samples (nearest neighbours in feature space, after KNN / nonlocal
matting, Chen et al. 2013), and 0 for a stranger: a pixel farther than `STRANGER` from every
foreground sample, however far it is from the background ones too (a car that was never there).
Colour with its local context tells a passing car or a person behind the subject from the
subject; position counts a little, so that look-alikes elsewhere in the frame (another player in
the same white gi) weigh less than the subject's own neighbourhood.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import scipy.spatial

REACH = 40  # px around a keyframe's unknown band that its samples come from
SAMPLES = 3000  # per class and keyframe
NEIGHBOURS = 8
STRANGER = 30.0  # feature distance to the nearest foreground sample beyond which a pixel is not the subject
SURROUND = 9  # px: the box whose mean colour is the feature's context half
POSITION = 0.15  # Lab units per px of image position (of a 1000 px wide frame): nearby samples count more
FEATURES = 8


def pixel_features(image: np.ndarray) -> np.ndarray:
    """H×W×3 working-space image (0-1) -> H×W×8 float32: Lab colour, the Lab mean of its surround, and
    its position (scaled by POSITION per px of a 1000 px wide frame)."""
    lab = cv2.cvtColor(np.clip(image, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)
    h, w = lab.shape[:2]
    scale = POSITION * 1000.0 / w
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.concatenate([lab, cv2.blur(lab, (SURROUND, SURROUND)), (xs * scale)[..., None], (ys * scale)[..., None]], axis=2)


class KeyframeMemory:
    """Samples of every keyframe's foreground and background, and a KNN subject probability.

    memory.add(frame, features, trimap)              # a keyframe (pixel_features, trimap {0, 0.5, 1})
    p = memory.subject_probability(features, mask)    # for the pixels of mask, in 0-1

    A function of the keyframes alone (seeded by frame number, in keyframe order), so a render
    resumed or chunked anywhere rebuilds exactly the memory a sequential render had.
    """

    def __init__(self) -> None:
        self.frames: list[int] = []
        self._samples: list[tuple[np.ndarray, np.ndarray]] = []  # (features N×FEATURES, is_foreground N)
        self._trees: tuple[scipy.spatial.cKDTree, scipy.spatial.cKDTree] | None = None

    def __bool__(self) -> bool:
        return bool(self.frames)

    def add(self, frame: int, features: np.ndarray, trimap: np.ndarray) -> None:
        """Remember keyframe `frame`: its pixel_features (H×W×FEATURES) and user trimap (H×W {0, 0.5, 1})."""
        if frame in self.frames:
            return
        unknown = trimap == 0.5
        if unknown.any():
            near = cv2.distanceTransform((~unknown).astype(np.uint8), cv2.DIST_L2, 5) <= REACH
        else:  # no band at all: sample everywhere
            near = np.ones(trimap.shape, bool)
        rng = np.random.default_rng([frame & 0xFFFFFFFF, 11])
        picked, classes = [], []
        for value, is_fg in ((1.0, True), (0.0, False)):
            where = np.flatnonzero((trimap == value) & near)
            if len(where) > SAMPLES:
                where = np.sort(rng.choice(where, SAMPLES, replace=False))
            picked.append(features.reshape(-1, FEATURES)[where])
            classes.append(np.full(len(where), is_fg))
        self._samples.append((np.concatenate(picked), np.concatenate(classes)))
        self.frames.append(frame)
        self._trees = None

    def subject_probability(self, features: np.ndarray, mask: np.ndarray, *, strangers: bool = True) -> np.ndarray:
        """Share of foreground samples among the nearest neighbours of each pixel of `mask`.

        features: pixel_features of the frame (H×W×FEATURES). mask: H×W bool. Returns float32, one value
        per True pixel of mask (row-major); 1 everywhere when the memory is empty. strangers: a pixel
        farther than STRANGER from every foreground sample gets 0 (else only the share counts).
        """
        count = int(mask.sum())
        if not self.frames or count == 0:
            return np.ones(count, np.float32)
        if self._trees is None:
            points = np.concatenate([s[0] for s in self._samples])
            is_fg = np.concatenate([s[1] for s in self._samples])
            self._trees = tuple(scipy.spatial.cKDTree(points[is_fg == c] if (is_fg == c).any() else np.full((1, FEATURES), 1e6))
                                for c in (True, False))
        queries = features[mask]
        (fg_dist, _), (bg_dist, _) = (tree.query(queries, k=NEIGHBOURS, workers=-1) for tree in self._trees)
        fg_dist, bg_dist = fg_dist.reshape(count, -1), bg_dist.reshape(count, -1)
        # the NEIGHBOURS nearest of both classes: how many are foreground
        merged = np.sort(np.concatenate([fg_dist, bg_dist], axis=1), axis=1)[:, NEIGHBOURS - 1: NEIGHBOURS]
        share = np.minimum((fg_dist <= merged).sum(axis=1), NEIGHBOURS) / NEIGHBOURS  # ties may count twice
        return np.where(fg_dist[:, 0] <= STRANGER, share, 0.0 if strangers else share).astype(np.float32)


def keyframe_memory(keyframes, read_rgb: Callable[[int], np.ndarray], before: int) -> KeyframeMemory:
    """The memory of every keyframe earlier than frame `before`, as a render that reached it holds.

    keyframes: video.keyframes.Keyframes. read_rgb(frame) -> that frame's H×W×3 working-space image.
    """
    memory = KeyframeMemory()
    for frame in keyframes.frames:
        if frame < before:
            image = read_rgb(frame)
            memory.add(frame, pixel_features(image), keyframes.load(frame, image.shape[:2]))
    return memory
