"""Trimap propagation: frame t's adapted trimap, carried to frame t+1 along optical flow.

The labels are pushed forward along DIS optical flow (OpenCV), so a moving foreground takes its
labels with it and the background it reveals is background, not a copy of where the
foreground was. The unknown band is then widened: by a base margin everywhere along the
boundary, and somewhat further where the flow is unsure of itself (forward and backward flow
disagree). Without usable flow, the fallback is a plain dilation of the unknown band.
"""

from __future__ import annotations

import cv2
import numpy as np

from adamatte.trimap import BACKGROUND, FOREGROUND, UNKNOWN, labels_to_trimap

FLOW_MAX_WIDTH = 960  # flow is computed at most this wide; trimaps need no finer motion


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


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def propagate_trimap(
    labels: np.ndarray,
    previous: np.ndarray | None,
    current: np.ndarray | None,
    *,
    flows: tuple[np.ndarray, np.ndarray] | None = None,
    margin: int = 4,
    max_extra: int = 8,
) -> np.ndarray:
    """Next frame's input trimap from this frame's adapted labels.

    labels: H×W uint8 {0 bg, 1 unknown, 2 fg} of frame t. previous, current: H×W×3 working-space
    images of frames t and t+1 (None: no flow, fixed dilation). flows: their optical_flow(),
    when already computed (the renderer does it on its read-ahead thread).
    Returns H×W float32 {0, 0.5, 1}.
    """
    h, w = labels.shape
    if flows is None and (previous is None or current is None):
        return _widen(labels, np.zeros((h, w), bool), margin, 2 * margin)
    forward, backward = flows if flows is not None else optical_flow(previous, current)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xs + backward[..., 0], ys + backward[..., 1]
    # forward-backward check: following backward then forward flow should return home
    there = cv2.remap(forward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    error = np.hypot(backward[..., 0] + there[..., 0], backward[..., 1] + there[..., 1])
    motion = np.hypot(backward[..., 0], backward[..., 1])
    unsure = error > 1.0 + 0.1 * motion
    votes = splat_labels(labels, forward)
    landed = votes.sum(axis=0) > 0.25
    pulled = cv2.remap(labels, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    # Where nothing of frame t landed and the flow is inconsistent, background has been revealed
    # behind a moving foreground: pulling labels back along the (static) background flow would
    # drag the foreground's old position along, so those pixels are background.
    revealed = ~landed & unsure
    warped = np.where(landed, votes.argmax(axis=0).astype(np.uint8), np.where(revealed, BACKGROUND, pulled))
    unsure &= landed
    extra = int(np.clip(np.ceil(np.percentile(motion, 99) + np.percentile(error[landed], 99) if landed.any() else 0), margin, max_extra))
    return _widen(warped, unsure, margin, extra)


def splat_labels(labels: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Frame t's labels pushed along forward flow into frame t+1: 3×H×W bilinear votes per class.

    labels: H×W uint8 {0, 1, 2}. forward: H×W×2 flow t→t+1 in pixels. Pixels that nothing
    lands on (revealed background, the frame edge) get no votes.
    """
    h, w = labels.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    tx, ty = (xs + forward[..., 0]).ravel(), (ys + forward[..., 1]).ravel()
    x0, y0 = np.floor(tx), np.floor(ty)
    offset = labels.ravel().astype(np.int64) * (h * w)
    votes = np.zeros(3 * h * w, np.float64)
    for dx in (0, 1):
        for dy in (0, 1):
            x, y = x0 + dx, y0 + dy
            weight = (1 - np.abs(tx - x)) * (1 - np.abs(ty - y))
            ok = (x >= 0) & (x < w) & (y >= 0) & (y < h) & (weight > 0)
            index = offset[ok] + y[ok].astype(np.int64) * w + x[ok].astype(np.int64)
            votes += np.bincount(index, weights=weight[ok], minlength=3 * h * w)
    return votes.reshape(3, h, w).astype(np.float32)


def _widen(labels: np.ndarray, unsure: np.ndarray, margin: int, extra: int) -> np.ndarray:
    """Unknown band = old unknown ∪ fg/bg boundary, grown by `margin`, and by `extra` where unsure."""
    unknown = (labels == UNKNOWN).astype(np.uint8)
    fg = (labels == FOREGROUND).astype(np.uint8)
    bg = (labels == BACKGROUND).astype(np.uint8)
    boundary = cv2.dilate(fg, _disk(1)) & cv2.dilate(bg, _disk(1))
    band = cv2.dilate(unknown | boundary, _disk(margin))
    if unsure.any():
        band |= cv2.dilate(band, _disk(extra)) & cv2.dilate(unsure.astype(np.uint8), _disk(2))
    out = labels.copy()
    out[band == 1] = UNKNOWN
    return labels_to_trimap(out)
