"""Keyframe trimaps: where the user's trimaps (or masks / roto) come from, frame by frame.

Accepted: `PATH` (the first frame of the range), `PATH@1050` (that frame; repeatable), and a
sequence pattern (`trimap.####.png`: every frame that exists is a keyframe). A binary mask or
soft roto (no unknown region) becomes a trimap with an unknown band of `band` pixels
(matting.trimap.as_trimap). A trimap may be the size of the plate's data window (its pixels) or of
its display window (the format, as Nuke's Roto draws it), which is cropped to the data window
(and, for overscan, extended by its edge pixels).
"""

from __future__ import annotations

import os
import re

import numpy as np

from adamatte.errors import InputError
from adamatte.io.image import ImageInfo, read_matte
from adamatte.io.sequence import find_frames, parse_pattern
from adamatte.matting.trimap import as_trimap

_AT_FRAME = re.compile(r"^(.*)@(-?\d+)$")


class Keyframes:
    """frame -> trimap file, from the user's --trimap specs, checked against the plate size."""

    def __init__(self, specs: list[str], first_frame: int, *, band: int = 12, plate: ImageInfo | None = None):
        """plate: the plate's header, whose display window a trimap may match instead of its data window."""
        self.band = band
        self.plate = plate
        self.paths: dict[int, str] = {}
        for spec in specs:
            match = _AT_FRAME.match(spec)
            if match and not os.path.exists(spec):
                self._add(int(match.group(2)), match.group(1))
                continue
            pattern = parse_pattern(spec)
            if pattern is not None:
                frames = find_frames(pattern)
                if not frames:
                    raise InputError("no trimap files match this pattern", path=spec)
                for frame in frames:
                    self._add(frame, pattern.path(frame))
            else:
                self._add(first_frame, spec)

    def _add(self, frame: int, path: str) -> None:
        if not os.path.isfile(path):
            raise InputError("no such trimap file", path=path, frame=frame)
        if frame in self.paths and self.paths[frame] != path:
            raise InputError(f"two trimaps for frame {frame}: {self.paths[frame]} and {path}", frame=frame)
        self.paths[frame] = path

    @property
    def frames(self) -> list[int]:
        return sorted(self.paths)

    def __contains__(self, frame: int) -> bool:
        return frame in self.paths

    def at_or_before(self, frame: int) -> int | None:
        earlier = [f for f in self.paths if f <= frame]
        return max(earlier) if earlier else None

    def load(self, frame: int, shape: tuple[int, int]) -> np.ndarray:
        """The keyframe's trimap as H×W float32 {0, 0.5, 1}."""
        path = self.paths[frame]
        values = read_matte(path)
        display = (self.plate.full_height, self.plate.full_width) if self.plate is not None else None
        if values.shape != shape and values.shape == display:  # display-window size: take the data window out of it
            (x0, y0, x1, y1), (fx0, fy0, fx1, fy1) = self.plate.data_window, self.plate.display_window
            pad = max(fx0 - x0, fy0 - y0, x1 - fx1, y1 - fy1, 0)
            padded = np.pad(values, pad, mode="edge") if pad else values
            values = padded[y0 - fy0 + pad: y1 - fy0 + pad + 1, x0 - fx0 + pad: x1 - fx0 + pad + 1]
        if values.shape != shape:
            also = f" (data window) or {display[1]}x{display[0]} (display window)" if display else ""
            raise InputError(f"trimap is {values.shape[1]}x{values.shape[0]} but the plate is {shape[1]}x{shape[0]}{also}",
                             path=path, frame=frame)
        return as_trimap(values, self.band)
