"""Matting metrics computed as the DIM / alphamatting.com MATLAB evaluation code does.

All functions take pred and gt as H×W float arrays in 0-1 and a trimap as H×W with the
unknown region marked 128 (uint8) or 0.5 (float); only that region is scored.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from adamatte.matting.morphology import dilate_disk


def unknown_mask(trimap: np.ndarray) -> np.ndarray:
    """H×W bool: where the trimap is unknown (128 of 255, or 0.5 of 1)."""
    t = np.asarray(trimap, np.float64)
    if t.max(initial=0) > 1.5:
        t = t / 255.0
    return np.abs(t - 0.5) < 0.25


def sad(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Sum of absolute differences over the unknown region, / 1000."""
    return float(np.abs(pred - gt)[unknown_mask(trimap)].sum() / 1000.0)


def mse(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Mean squared error over the unknown region (reported ×1e3 by `adamatte eval`)."""
    mask = unknown_mask(trimap)
    return float(((pred - gt) ** 2)[mask].sum() / max(mask.sum(), 1))


def _gauss(x: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-(x ** 2) / (2 * sigma ** 2)) / (sigma * np.sqrt(2 * np.pi))


def gaussian_gradient_kernel(sigma: float = 1.4, epsilon: float = 1e-2) -> np.ndarray:
    """The x-derivative-of-Gaussian kernel of the MATLAB `gaussgradient` (9×9 at σ=1.4), unit L2 norm."""
    half = int(np.ceil(sigma * np.sqrt(-2 * np.log(np.sqrt(2 * np.pi) * sigma * epsilon))))
    u = np.arange(-half, half + 1, dtype=np.float64)
    # hx(i, j) = gauss(row offset) * dgauss(column offset)
    hx = _gauss(u, sigma)[:, None] * (-u * _gauss(u, sigma) / sigma ** 2)[None, :]
    return hx / np.sqrt((hx ** 2).sum())


def _mat2gray(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x, np.float64)


def _gradient_magnitude(x: np.ndarray, sigma: float) -> np.ndarray:
    hx = gaussian_gradient_kernel(sigma)
    # imfilter(..., 'replicate', 'conv'): true convolution with edge replication
    gx = ndimage.convolve(x, hx, mode="nearest")
    gy = ndimage.convolve(x, hx.T, mode="nearest")
    return np.sqrt(gx ** 2 + gy ** 2)


def gradient_error(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray, sigma: float = 1.4) -> float:
    """Σ(|∇pred| − |∇gt|)² over the unknown region / 1000, each image min-max normalised first."""
    p = _gradient_magnitude(_mat2gray(np.asarray(pred, np.float64)), sigma)
    g = _gradient_magnitude(_mat2gray(np.asarray(gt, np.float64)), sigma)
    return float(((p - g) ** 2)[unknown_mask(trimap)].sum() / 1000.0)


_FOUR_CONNECTED = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])


def connectivity_error(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray, step: float = 0.1, theta: float = 0.15) -> float:
    """Connectivity error (Rhemann et al. 2009) over the unknown region / 1000.

    For each threshold, the largest 4-connected component of pred>=t & gt>=t (background
    excluded) is the reference; each pixel's level is the last threshold at which it was
    still connected to it.
    """
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    thresholds = np.arange(0, 1 + step / 2, step)
    level = np.full(pred.shape, -1.0)
    for previous, t in zip(thresholds, thresholds[1:]):
        labels, count = ndimage.label((pred >= t) & (gt >= t), structure=_FOUR_CONNECTED)
        omega = np.zeros(pred.shape, bool)
        if count:
            sizes = np.bincount(labels.ravel())[1:]
            omega = labels == (np.argmax(sizes) + 1)
        level[(level == -1) & ~omega] = previous
    level[level == -1] = 1.0
    pred_d, gt_d = pred - level, gt - level
    pred_phi = 1 - pred_d * (pred_d >= theta)
    gt_phi = 1 - gt_d * (gt_d >= theta)
    return float(np.abs(pred_phi - gt_phi)[unknown_mask(trimap)].sum() / 1000.0)


def all_metrics(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> dict[str, float]:
    """SAD, MSE, Grad and Conn of one matte, in the units `adamatte eval` prints (MSE ×1e3)."""
    return {
        "sad": sad(pred, gt, trimap),
        "mse": mse(pred, gt, trimap) * 1e3,
        "grad": gradient_error(pred, gt, trimap),
        "conn": connectivity_error(pred, gt, trimap),
    }


# Temporal metrics of a matte sequence (as in the video matting literature, e.g. RVM's evaluation).

def mad_e3(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean absolute difference over the whole frame, ×1e3."""
    return float(np.abs(pred - gt).mean() * 1e3)


def mse_e3(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean squared error over the whole frame, ×1e3."""
    return float(((pred - gt) ** 2).mean() * 1e3)


def leak_percent(pred: np.ndarray, gt: np.ndarray, reach: int = 16) -> float:
    """Predicted alpha mass farther than `reach` px from the true matte (gt > 0), as a percentage of the
    true matte's own alpha mass: background matted in. pred, gt: H×W 0-1."""
    near = dilate_disk(gt > 0, reach)
    return float(pred[~near].sum() / max(float(gt.sum()), 1e-6) * 100)


def dtssd_e2(pred: np.ndarray, pred_prev: np.ndarray, gt: np.ndarray, gt_prev: np.ndarray) -> float:
    """√(mean(((p_t − p_{t−1}) − (g_t − g_{t−1}))²)) ×1e2: flicker the ground truth does not have."""
    return float(np.sqrt((((pred - pred_prev) - (gt - gt_prev)) ** 2).mean()) * 1e2)


def messddt_e3(pred: np.ndarray, pred_prev: np.ndarray, gt: np.ndarray, gt_prev: np.ndarray) -> float:
    """Motion-aware error change (Erofeev et al. 2015), mean per pixel ×1e3.

    |(p_t − g_t)² − (p_{t−1} − g_{t−1})²| with frame t−1 first carried to frame t along the optical
    flow of the ground truth, so an error that merely moves with the object costs nothing.
    """

    h, w = gt.shape
    a, b = (np.clip(gt_prev, 0, 1) * 255).astype(np.uint8), (np.clip(gt, 0, 1) * 255).astype(np.uint8)
    if min(h, w) >= 16:  # DIS needs patches to fit
        backward = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(b, a, None)
    else:
        backward = np.zeros((h, w, 2), np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xs + backward[..., 0], ys + backward[..., 1]

    def carry(x: np.ndarray) -> np.ndarray:
        return cv2.remap(x.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    error_now = (pred - gt) ** 2
    error_before = (carry(pred_prev) - carry(gt_prev)) ** 2
    return float(np.abs(error_now - error_before).mean() * 1e3)
