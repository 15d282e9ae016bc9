"""Frame sinks: where mattes go, one file per frame (EXR/PNG/TIFF) or one ProRes 4444 movie."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

import numpy as np

from adamatte import __version__
from adamatte.errors import InputError
from adamatte.io.atomic import ensure_writable_dir
from adamatte.io.image import OUTPUT_PIXEL_TYPES, ImageInfo, timecode_text, write_image
from adamatte.io.sequence import SequencePattern, parse_pattern
from adamatte.io.source import Frame
from adamatte.io.video import ProResWriter
from adamatte.params import BY_NAME

LAYOUTS = BY_NAME["layout"].choices
LOSSY = (".jpg", ".jpeg")  # a matte's soft edges and its 0/1 need more than 8 lossy bits


def _rgba_channels(alpha_channel: str) -> list[str]:
    return ["R", "G", "B", alpha_channel]


def display_canvas(pixels: np.ndarray, info: ImageInfo | None) -> np.ndarray:
    """H×W×C data-window pixels placed in the display window (zeros where there is no data; overscan
    beyond it is cut), as a movie shows the format."""
    if info is None or info.data_window == info.display_window:
        return pixels
    (x0, y0, x1, y1), (fx0, fy0, fx1, fy1) = info.data_window, info.display_window
    canvas = np.zeros((info.full_height, info.full_width, pixels.shape[2]), pixels.dtype)
    ix0, iy0, ix1, iy1 = max(x0, fx0), max(y0, fy0), min(x1, fx1), min(y1, fy1)
    if ix1 >= ix0 and iy1 >= iy0:
        canvas[iy0 - fy0: iy1 - fy0 + 1, ix0 - fx0: ix1 - fx0 + 1] = pixels[iy0 - y0: iy1 - y0 + 1, ix0 - x0: ix1 - x0 + 1]
    return canvas


class FrameSink:
    """Writes one matte per frame, atomically, keeping each input frame's windows and metadata.

    `layout` is 'alpha' (one channel named `alpha_channel`), 'rgba' (the source RGB plus the
    matte) or 'rgba-premult' (source RGB multiplied by the matte). `metadata` adds string
    attributes; `adamatte:version` is always added.
    """

    def __init__(
        self,
        spec: str,
        frames: list[int],
        *,
        alpha_channel: str = "A",
        layout: str = "alpha",
        compression: str = "zip",
        metadata: dict[str, Any] | None = None,
        forbidden_paths: set[str] = frozenset(),
        fps: Fraction | float = 24,
    ):
        if layout not in LAYOUTS:
            raise InputError(f"output layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
        self.spec = str(spec)
        self.frames = list(frames)
        self.alpha_channel = alpha_channel
        self.layout = layout
        self.compression = compression
        self.metadata = {"adamatte:version": __version__, **(metadata or {})}
        ext = os.path.splitext(self.spec)[1].lower()
        self.movie: ProResWriter | None = None
        self._movie_fps = fps
        self.pattern: SequencePattern | None = parse_pattern(self.spec)
        if ext == ".mov":
            if self.pattern is not None:
                raise InputError("a .mov output is one file: drop the frame token", path=self.spec)
        elif ext in LOSSY:
            raise InputError(f"{ext} would make a lossy 8-bit matte; write .exr (half float), .png or .tif (16-bit) instead",
                             path=self.spec)
        elif ext not in OUTPUT_PIXEL_TYPES:
            raise InputError(f"unsupported output format {ext or '(none)'!r}; use .exr, .png, .tif or .mov", path=self.spec)
        elif self.pattern is None and len(self.frames) > 1:
            raise InputError(
                f"the output names one file but {len(self.frames)} frames are rendered; add a frame token, e.g. matte.####{ext}",
                path=self.spec,
            )
        ensure_writable_dir(os.path.dirname(os.path.abspath(self.spec)))
        clashes = [f for f in self.frames if os.path.realpath(self.path(f)) in forbidden_paths]
        if clashes:
            raise InputError("refusing to overwrite the input with the output", path=self.path(clashes[0]), frame=clashes[0])

    def path(self, frame: int) -> str:
        if self.pattern is not None:
            return self.pattern.path(frame)
        return os.path.abspath(self.spec)

    def channels(self) -> list[str]:
        return [self.alpha_channel] if self.layout == "alpha" else _rgba_channels(self.alpha_channel)

    def pixels(self, alpha: np.ndarray, source: Frame) -> np.ndarray:
        """The H×W×C array to write for `alpha` (H×W, 0-1) over `source`."""
        alpha = alpha[:, :, None].astype(np.float32, copy=False)
        if self.layout == "alpha":
            return alpha
        rgb = source.plate * alpha if self.layout == "rgba-premult" else source.plate
        return np.concatenate([rgb, alpha], axis=2)

    def write(self, frame: int, alpha: np.ndarray, source: Frame, metadata: dict[str, Any] | None = None) -> None:
        """Write frame `frame`'s matte; the file appears complete or not at all."""
        if os.path.splitext(self.spec)[1].lower() == ".mov":
            rgba = display_canvas(np.concatenate([source.rgb, alpha[:, :, None]], axis=2), source.info)
            if self.movie is None:
                code = source.info.attribute("smpte:TimeCode") if source.info is not None else None
                self.movie = ProResWriter(self.path(frame), rgba.shape[1], rgba.shape[0], self._movie_fps,
                                          timecode=timecode_text(code) if code is not None else None)
            self.movie.write(rgba)
            return
        write_image(
            self.path(frame), self.pixels(alpha, source), self.channels(),
            like=source.info, compression=self.compression, metadata={**self.metadata, **(metadata or {})},
        )

    def close(self, *, discard: bool = False) -> None:
        if self.movie is not None:
            self.movie.close(discard=discard)
            self.movie = None
