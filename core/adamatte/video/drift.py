"""Drift guard: notices when a propagated matte goes wrong, and says where to add a keyframe."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
import scipy.ndimage

from adamatte.matting.trimap import BACKGROUND, FOREGROUND, SOLID, UNKNOWN


@dataclass(frozen=True)
class DriftWarning:
    frame: int
    reason: str

    def __str__(self) -> str:
        return f"frame {self.frame}: {self.reason}; consider a keyframe trimap there (--trimap PATH@{self.frame})"


class DriftGuard:
    """Watches each propagated frame for foreground the motion does not explain.

    Warns when
    - foreground appeared where the flow says background came from: the keyframe memory vetoed
      it (more than `appeared` of the frame was held off as background; the renderer counts only what
      the network called foreground, not band pixels cleared), or it was kept because
      it looked like the subject (more than `appeared` of the frame and `growth` of the subject);
    - a piece of the matte broke away from the subject: a detached piece (alpha ≥ 0.5) of at least
      `piece` of the subject's area, not a sliver (5 px thick somewhere), that lies on the previous
      frame's subject. What the subject uncovers as it moves (a balloon its hands hid) is taken for
      it when the flow fails on motion blur, and it then breaks away as the subject moves on. The
      subject is as many of the largest pieces as the keyframe had pieces of at least `part` of its
      largest (each still that large): two children matted together who meet and part again are not news;
    - the matte fades: its solid area (alpha ≥ trimap.SOLID) falls under `faded` of the keyframe's (of the first
      frame watched, in a resumed render). A subject the flow loses in motion blur, or that a wide propagated
      band swallows, goes translucent a little every frame with no jump to warn of. Warns when it first falls
      under, and again only after it came back over;
    - the foreground area jumps by more than `area_jump` (relative, and by at least 0.5% of the frame);
    - the unknown band shrinks below 1/`band_factor` or grows beyond `band_factor` times its
      recent median.
    A condition that holds over consecutive frames warns once, on its first frame (one keyframe
    there is the fix); it warns again after a frame without it. Keyframes reset the history.
    """

    def __init__(self, area_jump: float = 0.3, band_factor: float = 3.0, history: int = 5, appeared: float = 0.003,
                 growth: float = 0.1, piece: float = 0.004, faded: float = 0.6, part: float = 0.1):
        self.area_jump = area_jump
        self.band_factor = band_factor
        self.appeared = appeared
        self.growth = growth
        self.piece = piece
        self.part = part
        self.parts = 1  # how many pieces the subject had on the keyframe (of at least `part` of its largest)
        self.faded = faded
        self.reference: tuple[int, int] | None = None  # (frame, solid px) of the keyframe the fading is measured against
        self.fading = False  # the solid area is under `faded` of the reference's, and that was warned of
        self.previous_subject: np.ndarray | None = None  # H×W bool: the previous frame's subject (its `parts` largest solid pieces)
        self.previous_fg: float | None = None
        self.bands: deque[float] = deque(maxlen=history)
        self.firing: str | None = None  # the kind of warning the previous frame raised

    def observe(self, frame: int, labels: np.ndarray, keyframe: bool, *, seen: np.ndarray | None = None,
                vetoed: np.ndarray | None = None, alpha: np.ndarray | None = None) -> DriftWarning | None:
        """labels: the frame's adapted labels (H×W uint8). seen: where the previous frame's matte reached it
        along the flow (H×W bool). vetoed: what the keyframe memory forced to background (H×W bool).
        alpha: the frame's matte (H×W 0-1; None: pieces are not watched)."""
        fg = float((labels == FOREGROUND).mean())
        band = float((labels == UNKNOWN).mean())
        warning, kind = None, None
        new = float(((labels != BACKGROUND) & ~seen).mean()) if seen is not None else 0.0
        held_off = float(vetoed.mean()) if vetoed is not None else 0.0
        broken = self._broken_away(alpha, keyframe) if alpha is not None else None
        faded = self._faded(frame, alpha, keyframe) if alpha is not None else None
        if keyframe:
            self.bands.clear()
        elif held_off > self.appeared:
            kind, warning = "held off", DriftWarning(frame, f"foreground appeared where the flow says background was ({100 * held_off:.2f}% of the "
                                          "frame, unlike the keyframes' subject: held off as background)")
        elif new > self.appeared and new > self.growth * max(fg, 1e-3):
            kind, warning = "grew", DriftWarning(frame, f"foreground grew where the motion does not explain it (+{100 * new:.2f}% of the frame, "
                                          "kept: it looks like the subject)")
        elif broken is not None:
            kind, warning = "broke away", DriftWarning(frame, broken)
        elif faded is not None:
            self.fading = True
            kind, warning = "faded", DriftWarning(frame, faded)
        elif self.previous_fg is not None:
            change = fg - self.previous_fg
            if abs(change) > 0.005 and abs(change) > self.area_jump * max(self.previous_fg, 1e-3):
                kind, warning = "jump", DriftWarning(frame, f"foreground area jumped {100 * change / max(self.previous_fg, 1e-3):+.0f}% "
                                              f"({100 * self.previous_fg:.1f}% -> {100 * fg:.1f}% of the frame)")
            elif self.bands:
                usual = float(np.median(self.bands))
                if usual > 1e-4 and band < usual / self.band_factor:
                    kind, warning = "collapsed", DriftWarning(frame, f"the unknown band collapsed ({100 * usual:.2f}% -> {100 * band:.2f}% of the frame)")
                elif usual > 1e-4 and band > usual * self.band_factor:
                    kind, warning = "exploded", DriftWarning(frame, f"the unknown band exploded ({100 * usual:.2f}% -> {100 * band:.2f}% of the frame)")
        self.previous_fg = fg
        self.bands.append(band)
        repeated, self.firing = kind is not None and kind == self.firing, kind
        return None if repeated else warning

    def _faded(self, frame: int, alpha: np.ndarray, keyframe: bool) -> str | None:
        """The warning's reason when the matte's solid area has newly fallen under `faded` of the reference's."""
        solid = int((alpha >= SOLID).sum())
        if keyframe or self.reference is None:
            self.reference, self.fading = (frame, solid), False
            return None
        key, key_solid = self.reference
        share = solid / max(key_solid, 1)
        if share >= self.faded:
            self.fading = False
            return None
        if self.fading:
            return None
        return (f"the matte's solid area fell to {100 * share:.0f}% of frame {key}'s; unless the subject shrank or left the "
                "frame, it is fading into the band")

    def _broken_away(self, alpha: np.ndarray, keyframe: bool) -> str | None:
        """The warning's reason when a detached piece of the matte lies on the previous frame's subject."""
        solid = (alpha >= 0.5).astype(np.uint8)
        count, pieces, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        if not len(areas):
            self.previous_subject = None
            return None
        large = areas >= self.part * areas.max()  # pieces large enough to be a part of the subject
        if keyframe or self.previous_subject is None:
            self.parts = int(large.sum())
        largest = 1 + np.argsort(-areas, kind="stable")
        # while parts touch they are one piece: a small one must not take the free place
        subject = [i for i in largest[:self.parts] if large[i - 1]]
        previous, self.previous_subject = self.previous_subject, np.isin(pieces, subject)
        if keyframe or previous is None or previous.shape != alpha.shape:
            return None
        on_previous = np.bincount(pieces[previous], minlength=count)
        candidates = [i for i in largest if i not in subject
                      if areas[i - 1] >= max(self.piece * areas.max(), 16) and on_previous[i] > areas[i - 1] / 2]
        if not candidates:  # most frames: no distance transform of the whole frame
            return None
        # a seam through the matte cuts off slivers (a line of pixels along an edge): not objects
        depth = scipy.ndimage.maximum(cv2.distanceTransform(solid, cv2.DIST_L2, 3), pieces, np.arange(count))
        broken = [stats[i] for i in candidates if depth[i] >= 2.5]
        if not broken:
            return None
        where = ", ".join(f"{area} px at x {x}-{x + w}, y {y}-{y + h}" for x, y, w, h, area in broken[:3])
        what = "a piece of the matte" if len(broken) == 1 else f"{len(broken)} pieces of the matte"
        return f"{what} broke away from the subject ({where}); if not the subject, something behind it was taken for it"
