"""Trimap propagation: frame t's adapted trimap, carried to frame t+1 along optical flow.

The labels are pushed forward along DIS optical flow (OpenCV), so a moving foreground takes its
labels with it and the background it reveals is background, not a copy of where the
foreground was. Two rules keep background from being promoted (docs/rendering.md):
- a pixel whose motion, by a consistent flow, comes from frame t's background may be background
  or unknown in frame t+1, never known foreground;
- known foreground within `OUTER_REACH` px of known background whose colour changed along the flow
  (it was uncovered: the flow followed the background, not the foreground that left) and that does
  not look like the keyframes' subject (video.memory) decays to unknown, so the network decides it afresh.
The unknown band is then widened: by a base margin everywhere along the boundary (with a memory and
a band solve, `BACKGROUND_EXTRA` px more into the background, where the faintest hair is lost), and somewhat
further where the flow is unsure of itself (forward and backward flow disagree); but not around an
unknown region the network left wide (deeper than `WIDE_BAND` margins), which would otherwise grow
by the margin every frame into the background. Foreground farther than `OUTER_REACH` from the
background is never made unknown, so the subject cannot erode from within.
Without usable flow, the fallback is a plain dilation of the unknown band.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numba
import numpy as np

from adamatte.matting.morphology import dilate, disk
from adamatte.matting.trimap import BACKGROUND, FOREGROUND, SOLID, UNKNOWN, labels_to_trimap
from adamatte.video.keyframes import Keyframes
from adamatte.video.memory import KeyframeMemory, PixelFeatures

FLOW_MAX_WIDTH = 960  # flow is computed at most this wide; trimaps need no finer motion
OUTER_REACH = 48  # px from known background within which foreground may turn unknown (and must keep looking like the subject)
DECAY_BELOW = 0.5  # subject probability under which changed foreground decays to unknown
STILL_DECAY_BELOW = 0.2  # ... and under which unchanged foreground does (a ghost that has settled)
BAND_MARGIN = 8  # px the render widens a propagated band by: the network narrows a band each frame, and a soft fringe lost once is lost
SMALL_FRAME = 640  # px, the longer side under which the margin is halved (on a proxy, 8 px is much of the subject)
CHANGED_ABOVE = 0.08  # mean |Δ| of working-space colour (5×5 mean) along the flow that counts as changed
# The decay asks the keyframe memory about at most this many pixels across a frame: a wider frame is asked on a
# grid, each pixel taking its cell's answer (the memory's features are colour and its 9×9 surround, smooth at that
# scale). At 1080p the ring was 95-136k searches a frame; on the grid the memory's searches took 3.2 s of 8 frames
# instead of 5.3 (benchmarks/journal/performance.md).
DECAY_MAX_WIDTH = 960
# An unknown region deeper than this many margins (from its nearest known pixel) is a band the network did
# not narrow; growing it by the margin every frame makes it swallow the background (judo's wall, 48,800 ->
# 68,300 px over 1012-1016), so neither it nor its edge grows. 1.5: gt07 better on every metric, the
# distractor (thin bands) unchanged; 1.0 and 2.5 measured worse on gt07 (benchmarks/journal/model.md).
WIDE_BAND = 1.5
# px the band grows further into known background than into foreground, with a keyframe memory to police it. The
# network's adapted trimap calls the faintest hair background and the solve clears it, so a band grown by the margin
# alone from what is left of a soft edge loses a little of it every frame: on the distractor clip the hair within 3 px
# of known background went from 7 to 199 pixels by frame 1023. 4: distractor MAD 2.31 -> 2.10, drift 1.73 -> 1.49,
# gt07 unchanged; 8 and a 12 px margin on both sides measured worse. Without the memory's veto the wider band lets
# background in (gt07 --no-keyframe-memory 6.35 -> 11.39), and without the solve the network's own alpha over it
# leaks (gt07 --refine none 10.95 -> 13.91), so it is widened only with both (benchmarks/journal/model.md).
BACKGROUND_EXTRA = 4


def carried_labels(labels: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """What frame t hands on to frame t+1: its adapted labels (H×W uint8 {0, 1, 2}) with the band pixels
    that its final matte (H×W 0-1, after the veto and the refinement) made solid as foreground and those
    it cleared as background. The network narrows a propagated band's foreground a little every frame;
    carried as it is, a subject erodes into a wide band of guesswork over a shot, while the solve's
    matte keeps it whole. Returns H×W uint8."""
    out = labels.copy()
    band = labels == UNKNOWN
    out[band & (alpha >= SOLID)] = FOREGROUND
    out[band & (alpha <= 1.0 - SOLID)] = BACKGROUND
    return out


def _grey(image: np.ndarray, scale: float) -> np.ndarray:
    grey = cv2.cvtColor((np.clip(image, 0, 1) * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    if scale != 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return grey


def optical_flow(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward (first→second) and backward (second→first) DIS flow, H×W×2 in full-resolution pixels."""
    h, w = first.shape[:2]
    if min(h, w) < 16:  # too small for DIS patches: no measurable motion
        zero = np.zeros((h, w, 2), np.float32)
        return zero, zero
    scale = min(1.0, FLOW_MAX_WIDTH / w)
    a, b = _grey(first, scale), _grey(second, scale)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    forward, backward = dis.calc(a, b, None), dis.calc(b, a, None)
    if scale != 1.0:
        forward = cv2.resize(forward, (w, h), interpolation=cv2.INTER_LINEAR) / scale
        backward = cv2.resize(backward, (w, h), interpolation=cv2.INTER_LINEAR) / scale
    return forward, backward


@dataclass(frozen=True)
class Motion:
    """The motion from frame t to t+1 and how far to trust it; needs no labels, so the renderer
    measures it on its read-ahead thread while the network works on the frame before."""

    forward: np.ndarray  # H×W×2 flow t -> t+1, full-resolution pixels
    backward: np.ndarray  # H×W×2 flow t+1 -> t
    unsure: np.ndarray  # H×W bool, in frame t+1: forward and backward flow disagree
    unsure_before: np.ndarray  # H×W bool, the same check from frame t's side
    spread: float  # px: 99th percentile of motion plus of disagreement
    changed: np.ndarray  # H×W bool, in frame t+1: its colour differs from frame t's along the flow (a disocclusion)


def measure_motion(previous: np.ndarray, current: np.ndarray) -> Motion:
    """Flow between two H×W×3 working-space frames (t, t+1), with its forward-backward check."""
    forward, backward = optical_flow(previous, current)
    h, w = forward.shape[:2]
    ys, xs = (g.astype(np.float32) for g in np.ogrid[0:h, 0:w])

    def round_trip(flow: np.ndarray, back: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Following `flow` then `back` should return home: (error, motion, unsure) per pixel."""
        there = cv2.remap(back, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        error = np.hypot(flow[..., 0] + there[..., 0], flow[..., 1] + there[..., 1])
        motion = np.hypot(flow[..., 0], flow[..., 1])
        return error, motion, error > 1.0 + 0.1 * motion

    error, motion, unsure = round_trip(backward, forward)
    unsure_before = round_trip(forward, backward)[2]
    spread = float(np.percentile(motion, 99) + np.percentile(error, 99))
    # what frame t showed at each pixel of t+1, along the flow: where it differs, something was uncovered
    before = cv2.remap(np.clip(previous, 0, 1).astype(np.float32), xs + backward[..., 0], ys + backward[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    change = np.abs(before - np.clip(current, 0, 1))
    difference = cv2.blur((change[..., 0] + change[..., 1] + change[..., 2]) / 3, (5, 5))  # the mean, 3x faster than .mean(axis=2)
    return Motion(forward, backward, unsure, unsure_before, spread, difference > CHANGED_ABOVE)


def propagate_trimap(labels: np.ndarray, motion: Motion | None, *, subject: Callable[[np.ndarray], np.ndarray] | None = None,
                     margin: int = 4, max_extra: int = 8, background_extra: int = 0) -> np.ndarray:
    """Next frame's input trimap from this frame's adapted labels.

    labels: H×W uint8 {0 bg, 1 unknown, 2 fg} of frame t. motion: measure_motion(frame t,
    frame t+1), or None for no flow (a fixed dilation). subject(mask) -> the subject probability
    (0-1) of frame t+1's pixels in the H×W bool mask (video.memory); None: no decay.
    background_extra: px the band grows beyond `margin` into known background (BACKGROUND_EXTRA with a memory).
    Returns H×W float32 {0, 0.5, 1}.
    """
    h, w = labels.shape
    if motion is None:
        return _widen(labels, np.zeros((h, w), bool), margin, 2 * margin, _near_background(labels), background_extra)
    # foreground near the outline whose own flow fails the check (its edge, smeared by the flow's
    # smoothness) lands as unknown: carried as foreground it would trail behind the object, frame after frame
    near_background = _near_background(labels)
    carried = np.where(motion.unsure_before & (labels == FOREGROUND) & near_background, UNKNOWN, labels).astype(np.uint8)
    pushed = splat_labels(carried, motion.forward)
    landed = pushed != NOTHING
    # Where nothing of frame t landed and the flow is inconsistent, background has been revealed
    # behind a moving foreground: pulling labels back along the (static) background flow would
    # drag the foreground's old position along, so those pixels are background. Elsewhere
    # (the frame's edge, a stretched region) the labels are pulled back along the flow.
    ys, xs = (g.astype(np.float32) for g in np.ogrid[0:h, 0:w])
    pulled = cv2.remap(labels, xs + motion.backward[..., 0], ys + motion.backward[..., 1], cv2.INTER_NEAREST,
                       borderMode=cv2.BORDER_REPLICATE)
    warped = np.where(landed, pushed, np.where(motion.unsure, BACKGROUND, pulled)).astype(np.uint8)
    # no promotion: where the consistent backward flow says frame t's background came here, a
    # foreground splat (a conflict of the two flows) is not to be trusted as known
    from_background = ~motion.unsure & (pulled == BACKGROUND)
    warped[from_background & (warped == FOREGROUND)] = UNKNOWN
    extra = int(np.clip(np.ceil(motion.spread), margin, max_extra))
    near_background = _near_background(warped)  # the decay turns no pixel into background: the widening's too
    return _widen(_decay(warped, near_background, motion.changed, subject), motion.unsure & landed, margin, extra, near_background,
                  background_extra)


def _decay(labels: np.ndarray, near_background: np.ndarray, changed: np.ndarray,
           subject: Callable[[np.ndarray], np.ndarray] | None) -> np.ndarray:
    """Known foreground near the background (`near_background`, H×W bool) becomes unknown where its
    colour changed along the flow and (with a memory) it is not clearly the subject, or, with a
    memory, where it is clearly the background."""
    ring = (labels == FOREGROUND) & near_background
    if subject is None:
        decays = ring & changed
    else:
        p = _on_grid(subject, ring)
        decays = np.zeros(labels.shape, bool)
        decays[ring] = np.where(changed[ring], p < DECAY_BELOW, p < STILL_DECAY_BELOW)
    return np.where(decays, UNKNOWN, labels).astype(np.uint8)


def _on_grid(subject: Callable[[np.ndarray], np.ndarray], mask: np.ndarray) -> np.ndarray:
    """subject(mask) (one value per True pixel of the H×W bool mask, row-major), asked on a grid of cells
    no more than DECAY_MAX_WIDTH across: a cell is asked at its top-left pixel when any of its pixels is in mask."""
    h, w = mask.shape
    step = math.ceil(w / DECAY_MAX_WIDTH)
    if step == 1:
        return subject(mask)
    rows, cols = -(-h // step), -(-w // step)
    padded = np.zeros((rows * step, cols * step), bool)
    padded[:h, :w] = mask
    cells = padded.reshape(rows, step, cols, step).any(axis=(1, 3))
    probes = np.zeros((h, w), bool)
    probes[::step, ::step] = cells
    answers = np.zeros((rows, cols), np.float32)
    answers[cells] = subject(probes)
    ys, xs = np.nonzero(mask)
    return answers[ys // step, xs // step]


def _near_background(labels: np.ndarray) -> np.ndarray:
    """Pixels within OUTER_REACH px of known background (H×W uint8 {0, 1, 2} -> H×W bool). The rules
    that turn foreground to unknown, and the band's widening, act only there: elsewhere they would
    open pockets inside the subject that grow frame after frame, eating it from within."""
    return cv2.distanceTransform((labels != BACKGROUND).astype(np.uint8), cv2.DIST_L2, 5) <= OUTER_REACH


NOTHING = 255  # splat_labels' value where no pixel of frame t landed


def splat_labels(labels: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Frame t's labels pushed along forward flow into frame t+1, each to its nearest pixel.

    labels: H×W uint8 {0, 1, 2}. forward: H×W×2 flow t→t+1 in pixels. Where several land on
    one pixel the highest label wins (foreground is in front); one-pixel holes (the rounding
    of a stretching flow) take their neighbours' label; elsewhere where nothing landed
    (revealed background, the frame's edge) the result is NOTHING.
    """
    out = np.full(labels.shape, NOTHING, np.uint8)
    _splat(np.ascontiguousarray(labels, dtype=np.uint8), np.ascontiguousarray(forward, dtype=np.float32), out)
    return _fill_pinholes(out)


@numba.njit(cache=True)
def _splat(labels: np.ndarray, forward: np.ndarray, out: np.ndarray) -> None:
    """splat_labels' push, in place into `out` (H×W uint8, NOTHING where nothing lands): each pixel to
    x + flow rounded half to even, in float32 (as numpy's rint of the float32 sum); the highest label wins.
    A pixel-by-pixel loop: numpy's full-frame index arrays took 0.06 s a 1080p frame."""
    h, w = labels.shape
    for y in range(h):
        for x in range(w):
            tx = np.rint(np.float32(x) + forward[y, x, 0])
            ty = np.rint(np.float32(y) + forward[y, x, 1])
            if 0 <= tx < w and 0 <= ty < h:  # false for NaN too
                label, cell = labels[y, x], out[int(ty), int(tx)]
                if label <= FOREGROUND and (cell == NOTHING or label > cell):
                    out[int(ty), int(tx)] = label


@numba.njit(cache=True)
def _fill_pinholes(out: np.ndarray) -> np.ndarray:
    """The NOTHING pixels of `out` (H×W uint8) whose two horizontal or two vertical neighbours both
    landed take the highest label landed in their 3×3 neighbourhood; returns a new array."""
    h, w = out.shape
    filled = out.copy()
    for y in range(h):
        for x in range(w):
            if out[y, x] != NOTHING:
                continue
            across = 0 < x < w - 1 and out[y, x - 1] != NOTHING and out[y, x + 1] != NOTHING
            along = 0 < y < h - 1 and out[y - 1, x] != NOTHING and out[y + 1, x] != NOTHING
            if across or along:
                best = 0
                for v in range(max(y - 1, 0), min(y + 2, h)):
                    for u in range(max(x - 1, 0), min(x + 2, w)):
                        if out[v, u] != NOTHING and out[v, u] > best:
                            best = out[v, u]
                filled[y, x] = best
    return filled


def _widen(labels: np.ndarray, unsure: np.ndarray, margin: int, extra: int, near_background: np.ndarray,
           background_extra: int) -> np.ndarray:
    """Unknown band = old unknown ∪ fg/bg boundary, grown by `margin` (`background_extra` more into background),
    and by `extra` where unsure;
    foreground grows unknown only where `near_background` (H×W bool, _near_background). An unknown
    region deeper than WIDE_BAND margins does not grow by the margin, and nor does the band near it."""
    unknown = (labels == UNKNOWN).astype(np.uint8)
    fg = (labels == FOREGROUND).astype(np.uint8)
    bg = (labels == BACKGROUND).astype(np.uint8)
    boundary = dilate(fg, disk(1)) & dilate(bg, disk(1))
    edge = unknown | boundary
    band = dilate(edge, disk(margin))
    if background_extra:
        band |= dilate(edge, disk(margin + background_extra)) & bg
    depth = cv2.distanceTransform(unknown, cv2.DIST_L2, 5)
    deep = (depth > WIDE_BAND * margin).astype(np.uint8)
    if deep.any():  # the network left this band wide: it needs no margin against narrowing
        reach = 2 * (math.ceil(WIDE_BAND * margin) + margin + background_extra) + 1  # a square: no corner of the growth's disk slips out
        wide = dilate(deep, np.ones((reach, reach), np.uint8)) > 0
        band[wide & (unknown == 0) & (boundary == 0)] = 0
    if unsure.any():
        band |= dilate(band, disk(extra)) & dilate(unsure, disk(2))
    band &= unknown | near_background  # pockets deep inside the subject keep their size
    out = labels.copy()
    out[band == 1] = UNKNOWN
    return labels_to_trimap(out)


def input_trimap(frame: int, image: np.ndarray, keyframes: Keyframes, prev_labels: np.ndarray | None,
                 motion: Motion | None, memory: KeyframeMemory | None = None, features: PixelFeatures | None = None,
                 *, solved: bool = True) -> np.ndarray:
    """The trimap the network is given on `frame` (H×W float32 {0, 0.5, 1}): the user's on a keyframe,
    else the previous frame's adapted labels (H×W uint8) carried along `motion` (or dilated without it),
    with near-band foreground that `memory` no longer takes for the subject decayed to unknown.

    image: H×W×3 working-space frame. features: its pixel_features (needed with a memory). solved: a band
    solve follows the network (--refine); with it and a memory the band reaches BACKGROUND_EXTRA px further
    into the background. The
    render, the demo's contact sheet and the benchmarks all call this, so what they show is what the
    network saw.
    """
    if frame in keyframes:
        return keyframes.load(frame, image.shape[:2])
    if prev_labels is None:
        raise ValueError(f"frame {frame} is no keyframe and has no previous labels to propagate")
    subject = None
    if memory:
        if features is None:
            raise ValueError(f"frame {frame}: the keyframe memory needs the frame's pixel features")
        subject = lambda mask: memory.subject_value(features, mask)  # noqa: E731
    margin = BAND_MARGIN if max(image.shape[:2]) >= SMALL_FRAME else BAND_MARGIN // 2
    extra = BACKGROUND_EXTRA if memory and solved else 0
    return propagate_trimap(prev_labels, motion, subject=subject, margin=margin, background_extra=extra)
