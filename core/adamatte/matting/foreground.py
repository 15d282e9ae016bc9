"""Foreground colour estimation: multi-level foreground estimation (Germer et al., 2020), in torch.

Given an image and its alpha, find foreground F and background B with I = αF + (1-α)B that
are smooth where alpha is smooth. Solved coarse to fine: at each level the previous
level's F and B are upsampled, then refined by a few sweeps of per-pixel 2×2 solves. The
sweeps run red-black (checkerboard) so they vectorise and also run on a GPU.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def _resize_nearest(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """C×H×W -> C×h×w, sampling source index floor(dst * src / dst) like pymatting."""
    ys = (torch.arange(h, device=x.device) * x.shape[1]) // h
    xs = (torch.arange(w, device=x.device) * x.shape[2]) // w
    return x[:, ys][:, :, xs]


def _neighbours(x: torch.Tensor) -> list[torch.Tensor]:
    """The left, right, up and down neighbours of every pixel of C×H×W, edges clamped."""
    left = torch.cat([x[:, :, :1], x[:, :, :-1]], dim=2)
    right = torch.cat([x[:, :, 1:], x[:, :, -1:]], dim=2)
    up = torch.cat([x[:, :1], x[:, :-1]], dim=1)
    down = torch.cat([x[:, 1:], x[:, -1:]], dim=1)
    return [left, right, up, down]


def _sweep(image, alpha, fg, bg, mask, regularization, gradient_weight):
    """One red or black half-sweep of the per-pixel solves, updating pixels where `mask` is set."""
    a0 = alpha
    a1 = 1.0 - a0
    a00, a01, a11 = a0 * a0, a0 * a1, a1 * a1
    b0, b1 = a0 * image, a1 * image
    for na, nf, nb in zip(_neighbours(alpha), _neighbours(fg), _neighbours(bg)):
        da = regularization + gradient_weight * (a0 - na).abs()
        a00 = a00 + da
        a11 = a11 + da
        b0 = b0 + da * nf
        b1 = b1 + da * nb
    inv_det = 1.0 / (a00 * a11 - a01 * a01)
    new_fg = (inv_det * (a11 * b0 - a01 * b1)).clamp(0.0, 1.0)
    new_bg = (inv_det * (a00 * b1 - a01 * b0)).clamp(0.0, 1.0)
    return torch.where(mask, new_fg, fg), torch.where(mask, new_bg, bg)


def estimate_foreground(
    image: np.ndarray | torch.Tensor,
    alpha: np.ndarray | torch.Tensor,
    *,
    regularization: float = 1e-5,
    small_iterations: int = 10,
    big_iterations: int = 2,
    small_size: int = 32,
    gradient_weight: float = 1.0,
    device: str | torch.device | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Un-premultiplied foreground and background colours of `image` under `alpha`.

    image: H×W×3 float in 0-1. alpha: H×W float in 0-1.
    Returns (foreground, background), each H×W×3 float32 in 0-1.
    The parameters are those of pymatting's estimate_foreground_ml.
    """
    device = torch.device(device) if device else torch.device("cpu")
    img = torch.as_tensor(np.asarray(image, np.float32) if not torch.is_tensor(image) else image, device=device).float().permute(2, 0, 1)
    alp = torch.as_tensor(np.asarray(alpha, np.float32) if not torch.is_tensor(alpha) else alpha, device=device).float()[None]
    _, h0, w0 = img.shape
    fg_mean = (img * (alp > 0.9)).sum((1, 2)) / ((alp > 0.9).sum() + 1e-5)
    bg_mean = (img * (alp < 0.1)).sum((1, 2)) / ((alp < 0.1).sum() + 1e-5)
    fg = fg_mean.view(3, 1, 1).clone()
    bg = bg_mean.view(3, 1, 1).clone()
    levels = max(int(math.ceil(math.log2(max(w0, h0)))), 1)
    for level in range(levels + 1):
        w, h = round(w0 ** (level / levels)), round(h0 ** (level / levels))
        image_l, alpha_l = _resize_nearest(img, h, w), _resize_nearest(alp, h, w)
        fg, bg = _resize_nearest(fg, h, w), _resize_nearest(bg, h, w)
        parity = (torch.arange(h, device=device)[:, None] + torch.arange(w, device=device)[None, :]) % 2 == 0
        iterations = small_iterations if (w <= small_size and h <= small_size) else big_iterations
        for _ in range(iterations):
            for mask in (parity, ~parity):
                fg, bg = _sweep(image_l, alpha_l, fg, bg, mask[None], regularization, gradient_weight)
    return fg.permute(1, 2, 0).contiguous().cpu().numpy(), bg.permute(1, 2, 0).contiguous().cpu().numpy()
