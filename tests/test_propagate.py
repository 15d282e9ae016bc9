"""Trimap propagation along real optical flow, on a textured square moving over a textured background."""

import cv2
import numpy as np

from adamatte.video.propagate import (BACKGROUND_EXTRA, DECAY_MAX_WIDTH, NOTHING, _on_grid, measure_motion, optical_flow,
                                       propagate_trimap, splat_labels)
from adamatte.matting.trimap import BACKGROUND, FOREGROUND, trimap_to_labels

from synthetic import textured

H, W, SIZE, STEP = 120, 200, 48, 12


def smooth_texture(h: int, w: int, seed: int, base: tuple[float, float, float]) -> np.ndarray:
    """Blurred noise: detail at every place, but no repeating blocks for the flow to confuse."""
    return cv2.GaussianBlur(textured(h, w, seed, base), (0, 0), 1.5)


def frame(x: int) -> tuple[np.ndarray, np.ndarray]:
    """(image, labels) with the square's left edge at column x."""
    image = smooth_texture(H, W, 1, (0.2, 0.4, 0.8))
    image[36:36 + SIZE, x:x + SIZE] = smooth_texture(SIZE, SIZE, 2, (0.9, 0.5, 0.1))
    labels = np.zeros((H, W), np.uint8)
    labels[36:36 + SIZE, x:x + SIZE] = FOREGROUND
    return image, labels


def test_foreground_moves_with_the_flow_and_leaves_background_behind():
    (first, labels), (second, truth) = frame(40), frame(40 + STEP)
    out = trimap_to_labels(propagate_trimap(labels, measure_motion(first, second)))
    inner = np.zeros_like(truth, bool)
    inner[36 + 6:36 + SIZE - 6, 40 + STEP + 6:40 + STEP + SIZE - 6] = True
    assert np.mean(out[inner] == FOREGROUND) > 0.9, "the square's interior is foreground at its new place"
    assert not np.any(out[inner] == BACKGROUND)
    revealed = np.zeros_like(truth, bool)
    revealed[36 + 6:36 + SIZE - 6, 40:40 + STEP - 6] = True  # where the square was, clear of the unknown margin
    assert not np.any(out[revealed] == FOREGROUND), "revealed background must not keep the old foreground"
    far = np.ones_like(truth, bool)
    far[36 - 20:36 + SIZE + 20, 40 - 20:40 + STEP + SIZE + 20] = False
    assert np.all(out[far] == BACKGROUND)


def test_splat_pushes_labels_and_foreground_wins_collisions():
    labels = np.zeros((8, 8), np.uint8)
    labels[3, 3] = FOREGROUND
    flow = np.zeros((8, 8, 2), np.float32)
    flow[..., 0] = 1.4  # everything moves 1.4 px right: to the nearest pixel, one
    out = splat_labels(labels, flow)
    assert out[3, 4] == FOREGROUND and out[3, 3] == BACKGROUND
    assert np.all(out[:, 0] == NOTHING), "nothing lands on the first column: no pixel moved there"
    flow[3, 4, 0] = 0.0  # the background pixel beside it stays: both land on (3, 4)
    assert splat_labels(labels, flow)[3, 4] == FOREGROUND


def test_splat_fills_one_pixel_holes_of_a_stretching_flow():
    labels = np.full((6, 9), FOREGROUND, np.uint8)
    flow = np.zeros((6, 9, 2), np.float32)
    flow[:, 5:, 0] = 1.0  # the right part moves one pixel: column 5 is left empty between two halves
    out = splat_labels(labels, flow)
    assert np.all(out[:, 5] == FOREGROUND)


def _splat_reference(labels: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """splat_labels as whole-frame numpy: push to the rounded target, the highest label winning, then
    fill the holes between two landed neighbours from the 3×3 maximum of what landed."""
    h, w = labels.shape
    ys, xs = (g.astype(np.float32) for g in np.ogrid[0:h, 0:w])
    with np.errstate(invalid="ignore"):
        tx, ty = np.rint(xs + forward[..., 0]).astype(np.int64), np.rint(ys + forward[..., 1]).astype(np.int64)
    inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
    out = np.full(h * w, NOTHING, np.uint8)
    for label in (0, 1, 2):
        out[(ty * w + tx)[inside & (labels == label)]] = label
    out = out.reshape(h, w)
    hole = out == NOTHING
    padded = np.pad(~hole, 1)
    pinhole = hole & ((padded[1:-1, :-2] & padded[1:-1, 2:]) | (padded[:-2, 1:-1] & padded[2:, 1:-1]))
    landed = np.pad(np.where(hole, -1, out.astype(np.int16)), 1, constant_values=-1)
    around = np.max([landed[1 + dy:h + 1 + dy, 1 + dx:w + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)
    out[pinhole] = around[pinhole]
    return out


def test_splat_is_its_whole_frame_definition_on_rough_and_stretching_flows():
    rng = np.random.default_rng(3)
    h, w = 90, 130
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    labels = np.zeros((h, w), np.uint8)
    labels[20:70, 30:100] = FOREGROUND
    labels[15:20, 30:100] = 1
    flows = [rng.normal(0, 3, (h, w, 2)), np.dstack([xx * 0.3, yy * 0.2]), np.dstack([np.sin(yy / 9) * 4, np.cos(xx / 7) * 3 + yy * 0.15])]
    ties = np.round(rng.normal(0, 2, (h, w, 2))) + 0.5  # rounding half to even, as numpy's rint
    flows.append(ties)
    for k, flow in enumerate(flows):
        flow = flow.astype(np.float32)
        flow[5, 7] = np.nan  # goes nowhere
        for lab in (labels, rng.integers(0, 3, (h, w)).astype(np.uint8)):
            out = splat_labels(lab, flow)
            assert np.array_equal(out, _splat_reference(lab, flow)), k
    assert (splat_labels(labels, flows[1].astype(np.float32)) == NOTHING).any() and (out != NOTHING).any()


def test_flow_between_identical_frames_keeps_the_labels():
    image, labels = frame(60)
    forward, backward = optical_flow(image, image)
    assert np.abs(forward).max() < 0.5 and np.abs(backward).max() < 0.5
    out = trimap_to_labels(propagate_trimap(labels, measure_motion(image, image)))
    assert np.all(out[44:76, 68:100] == FOREGROUND) and out[5, 5] == BACKGROUND


def test_a_thin_band_grows_by_the_margin_but_a_wide_one_does_not():
    """The network narrows a thin band each frame, so propagation widens it again, further into the background
    (where the network drops the faintest hair); a band it left wide (the judo demo's wall) would swallow the
    background a margin at a time, so it keeps its size."""
    labels = np.zeros((H, W), np.uint8)
    labels[40:80, 20:60] = FOREGROUND
    labels[38:82, 18:62][(labels[38:82, 18:62] == BACKGROUND)] = 1  # a 2 px band around the left square
    labels[30:90, 120:180] = 1  # a wide unknown region on the right: 30 px deep
    out = trimap_to_labels(propagate_trimap(labels, None, margin=4, background_extra=BACKGROUND_EXTRA))
    into_background = 4 + BACKGROUND_EXTRA
    assert into_background > 4
    assert np.all(out[38 - into_background:38, 40] == 1) and np.all(out[60, 18 - into_background:18] == 1)
    assert out[37 - into_background, 40] == BACKGROUND and out[60, 17 - into_background] == BACKGROUND
    assert np.all(out[40:44, 40] == 1) and out[44, 40] == FOREGROUND, "into the foreground by the margin alone"
    grown = (out == 1) & (labels != 1)
    assert not grown[:, 100:].any(), "the wide region did not grow"
    assert np.all(out[30:90, 120:180] == 1), "nor shrink"


def test_a_frame_wider_than_the_decay_grid_asks_the_memory_once_per_cell():
    rng = np.random.default_rng(3)
    values = rng.random((540, 2 * DECAY_MAX_WIDTH)).astype(np.float32)
    mask = rng.random(values.shape) < 0.3
    asked = []

    def subject(where: np.ndarray) -> np.ndarray:
        asked.append(int(where.sum()))
        return values[where]

    out = _on_grid(subject, mask)
    ys, xs = np.nonzero(mask)
    assert np.array_equal(out, values[ys // 2 * 2, xs // 2 * 2]), "each pixel takes the answer at its 2×2 cell's corner"
    assert asked[0] <= values.size // 4
    values = values[:, :DECAY_MAX_WIDTH]
    small = mask[:, :DECAY_MAX_WIDTH]
    assert np.array_equal(_on_grid(subject, small), values[small]), "a frame no wider asks every pixel"
