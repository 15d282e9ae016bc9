"""Trimap conventions: user trimaps in, 3-class labels out.

A trimap is H×W with background 0, unknown 0.5 and foreground 1 (or 0/128/255 in 8 bits).
Labels are uint8 H×W: 0 background, 1 unknown, 2 foreground (the T-decoder's classes).
"""

from __future__ import annotations

import numpy as np

BACKGROUND, UNKNOWN, FOREGROUND = 0, 1, 2


def normalize_trimap(trimap: np.ndarray) -> np.ndarray:
    """Snap a trimap to float32 {0, 0.5, 1}.

    trimap: H×W (or H×W×1) in 0-255 (uint8 or values above 1.5) or in 0-1. Values below a
    quarter count as background, above three quarters as foreground, the rest as unknown.
    """
    t = np.asarray(trimap)
    if t.ndim == 3:
        t = t[..., 0]
    t = t.astype(np.float32)
    if trimap.dtype == np.uint8 or t.max(initial=0.0) > 1.5:
        t = t / 255.0
    out = np.full(t.shape, 0.5, np.float32)
    out[t < 0.25] = 0.0
    out[t > 0.75] = 1.0
    return out


def trimap_to_labels(trimap: np.ndarray) -> np.ndarray:
    """Normalised trimap (H×W, {0, 0.5, 1}) -> uint8 labels {0, 1, 2}."""
    labels = np.full(trimap.shape, UNKNOWN, np.uint8)
    labels[trimap == 0.0] = BACKGROUND
    labels[trimap == 1.0] = FOREGROUND
    return labels


def labels_to_trimap(labels: np.ndarray) -> np.ndarray:
    """uint8 labels {0, 1, 2} (H×W) -> float32 trimap {0, 0.5, 1}."""
    return (labels.astype(np.float32) * 0.5).astype(np.float32)
