"""The background plate: what the shot's background looked like wherever a matte has cleared it.

A compositor's clean plate, built as the render goes. Every finished frame records the colour of
the pixels its matte cleared (alpha under `CLEAR_BELOW`); pixels the subject covers keep the colour
last seen there. The plate follows the camera: from frame to frame it is moved by one similarity
transform fitted (RANSAC) to the backward flow where the plate has seen background, so the
subject's own motion never drags it.

A pixel of a later frame that shows the plate's colour there (mean CIE Lab distance over its 3×3
surround at most `MATCH`) is background the shot has already shown: a painting on the wall, a
bicycle behind a player's head. With I = αF + (1-α)B, an unchanged B means α ≈ 0, so the veto
(video.temporal) clears it, unless the previous frame's matte firmly arrives there. Background
never cleared (hidden behind the subject since the keyframe) has no plate and is left alone.

The plate is kept as 8-bit working-space colour, so the sidecar that a resumed or chunked render
continues from (video.state, a PNG) holds exactly what a sequential render held.
"""

from __future__ import annotations

import cv2
import numpy as np

from adamatte.matting.morphology import box_around
from adamatte.video.memory import lab_colour
from adamatte.video.propagate import Motion

# final alpha under which a pixel records the background's colour; 0.15, not 0.02: the haze a band
# solve leaves over uncovered background (judo's bicycle, 0.02-0.15) would otherwise never be recorded
CLEAR_BELOW = 0.15
# Lab distance (3×3 mean) at or under which a pixel shows the plate. A soft edge over a seen background
# differs from it by α·|F - B|, so a tight match spares real fringes: a loose one (a pull toward 0
# fading out by 8) cost the distractor clip's hair (MAD 2.41 -> 2.80); 2 kept more of it than 3
# (2.38 -> 2.31) with the demo's haze as clean, 1.5 no more (2.32; benchmarks/journal/model.md).
MATCH = 2.0
STILL = 0.25  # px: a fitted camera motion that moves no corner of the frame farther than this is none
FIT_GRID = 8  # px between the flow samples the camera motion is fitted to


class BackgroundPlate:
    """plate.follow(motion); shown = plate.shows(lab_colour(image)); ...matte...; plate.observe(image, alpha)

    colour: H×W×3 uint8 working-space background last seen at each pixel; seen: H×W bool, where
    any matte cleared it. Both None until the first frame is observed.
    """

    def __init__(self, colour: np.ndarray | None = None, seen: np.ndarray | None = None):
        self.colour, self.seen = colour, seen

    def __bool__(self) -> bool:
        return self.colour is not None

    def observe(self, image: np.ndarray, alpha: np.ndarray) -> None:
        """Record the background of a finished frame: its H×W×3 working-space image (0-1) and final alpha (H×W 0-1)."""
        if self.colour is None or self.colour.shape[:2] != alpha.shape:
            self.colour, self.seen = np.zeros((*alpha.shape, 3), np.uint8), np.zeros(alpha.shape, bool)
        clear = alpha < CLEAR_BELOW
        # the whole frame to 8 bits, then copied where clear: half the time of indexing by the mask at 1080p
        np.copyto(self.colour, _eight_bit(image), where=clear[..., None])
        self.seen |= clear

    def follow(self, motion: Motion | None) -> None:
        """Move the plate from frame t to t+1 with the camera (the background's flow, fitted)."""
        if self.colour is None or motion is None:
            return
        h, w = self.seen.shape
        ys, xs = np.mgrid[FIT_GRID // 2:h:FIT_GRID, FIT_GRID // 2:w:FIT_GRID]
        usable = self.seen[ys, xs] & ~motion.unsure[ys, xs]
        if usable.sum() < 16:
            return
        here = np.stack([xs[usable], ys[usable]], 1).astype(np.float32)  # pixels of frame t+1 ...
        there = here + motion.backward[ys[usable], xs[usable]]  # ... and where they were in frame t
        matrix, _ = cv2.estimateAffinePartial2D(here, there, method=cv2.RANSAC, ransacReprojThreshold=1.0)
        if matrix is None:
            return
        corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64)
        if np.abs(corners @ matrix.T - corners[:, :2]).max() <= STILL:
            return
        inverse = cv2.WARP_INVERSE_MAP  # matrix maps frame t+1's pixels to frame t's
        self.colour = cv2.warpAffine(self.colour, matrix, (w, h), flags=cv2.INTER_LINEAR | inverse, borderMode=cv2.BORDER_REPLICATE)
        self.seen = cv2.warpAffine(self.seen.astype(np.uint8), matrix, (w, h), flags=cv2.INTER_NEAREST | inverse,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0

    def shows(self, lab: np.ndarray, where: np.ndarray | None = None) -> np.ndarray | None:
        """H×W bool: the pixels of a frame, given as its H×W×3 CIE Lab (memory.lab_colour; the render has it in
        its pixel_features), that show the plate's background (None before any frame was observed).
        where: H×W bool, the pixels asked about (None: all); the others are False, and the work is done on the
        box around them (the veto asks about the subject and its band: at 1080p 65 ms a frame for the whole frame)."""
        if self.colour is None:
            return None
        out = np.zeros(self.seen.shape, bool)
        box = (slice(None), slice(None)) if where is None else box_around(where, np.ones((3, 3), np.uint8))  # the 3×3 mean's reach
        if box is None:
            return out
        d = lab[box] - lab_colour(self.colour[box].astype(np.float32) / 255.0)
        # channel by channel: np.linalg.norm's reduction over a last axis of 3 took 0.14 s a 1080p frame, this 0.015
        distance = np.sqrt(np.square(d[..., 0]) + np.square(d[..., 1]) + np.square(d[..., 2]))
        out[box] = self.seen[box] & (cv2.blur(distance, (3, 3)) <= MATCH)
        return out if where is None else out & where

    def to_image(self) -> np.ndarray:
        """H×W×4 uint8: the colour, and 255 where seen (the sidecar video.state keeps)."""
        return np.dstack([self.colour, self.seen.astype(np.uint8) * 255])

    @classmethod
    def from_image(cls, pixels: np.ndarray) -> "BackgroundPlate":
        """The plate back from its sidecar: to_image's H×W×4, read as float 0-1."""
        pixels = _eight_bit(pixels)
        return cls(np.ascontiguousarray(pixels[..., :3]), pixels[..., 3] > 127)


def _eight_bit(values: np.ndarray) -> np.ndarray:
    """Values in 0-1 (clipped) -> uint8 0-255, rounded: how the plate keeps a colour, and how its sidecar reads back."""
    return np.rint(np.clip(values, 0, 1) * 255).astype(np.uint8)
