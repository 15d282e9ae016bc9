"""Drift guard: notices when a propagated matte goes wrong, and says where to add a keyframe."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from adamatte.matting.trimap import FOREGROUND, UNKNOWN


@dataclass(frozen=True)
class DriftWarning:
    frame: int
    reason: str

    def __str__(self) -> str:
        return f"frame {self.frame}: {self.reason}; consider a keyframe trimap there (--trimap PATH@{self.frame})"


class DriftGuard:
    """Watches the adapted trimap's foreground area and unknown band from frame to frame.

    Warns when the foreground area jumps by more than `area_jump` (relative, and by at least
    0.5% of the frame), or the unknown band shrinks below 1/`band_factor` or grows beyond
    `band_factor` times its recent median. Keyframes reset the history.
    """

    def __init__(self, area_jump: float = 0.3, band_factor: float = 3.0, history: int = 5):
        self.area_jump = area_jump
        self.band_factor = band_factor
        self.previous_fg: float | None = None
        self.bands: deque[float] = deque(maxlen=history)

    def observe(self, frame: int, labels: np.ndarray, keyframe: bool) -> DriftWarning | None:
        fg = float((labels == FOREGROUND).mean())
        band = float((labels == UNKNOWN).mean())
        warning = None
        if keyframe:
            self.bands.clear()
        elif self.previous_fg is not None:
            change = fg - self.previous_fg
            if abs(change) > 0.005 and abs(change) > self.area_jump * max(self.previous_fg, 1e-3):
                warning = DriftWarning(frame, f"foreground area jumped {100 * change / max(self.previous_fg, 1e-3):+.0f}% "
                                              f"({100 * self.previous_fg:.1f}% -> {100 * fg:.1f}% of the frame)")
            elif self.bands:
                usual = float(np.median(self.bands))
                if usual > 1e-4 and band < usual / self.band_factor:
                    warning = DriftWarning(frame, f"the unknown band collapsed ({100 * usual:.2f}% -> {100 * band:.2f}% of the frame)")
                elif usual > 1e-4 and band > usual * self.band_factor:
                    warning = DriftWarning(frame, f"the unknown band exploded ({100 * usual:.2f}% -> {100 * band:.2f}% of the frame)")
        self.previous_fg = fg
        self.bands.append(band)
        return warning
