"""Frame sources: an image sequence, a still or a video file, read into the working colour space."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from adamatte.errors import InputError, MissingFramesError
from adamatte.io.colour import ColourConverter, default_colorspace
from adamatte.io.image import ImageInfo, matte_channel_name, read_image, read_info, rgb_channel_names
from adamatte.io.sequence import (
    VIDEO_EXTENSIONS,
    SequencePattern,
    find_frames,
    format_frame_range,
    parse_frame_range,
    resolve_pattern,
)
from adamatte.io.video import VideoReader

MISSING_POLICIES = ("error", "hold", "black")


@dataclass
class Frame:
    """One plate frame. `rgb` is the network's view, `plate` the file's own RGB values."""

    number: int
    rgb: np.ndarray  # H×W×3 float32, working space, 0-1
    plate: np.ndarray  # H×W×3 float32, as stored (scene-linear for EXR)
    info: ImageInfo
    source_frame: int | None  # the frame actually read (differs when a missing frame is held); None when black


def _names_a_matte(channels: list[str]) -> bool:
    """A file with no colour is a matte when one of its channels is named like one (A, alpha, Y, mask, matte.A)."""
    return any(c.rsplit(".", 1)[-1].lower() in ("a", "alpha", "y", "mask", "matte") for c in channels)


class FrameSource:
    """Opens `spec` (any accepted sequence spelling, or a video file) and reads its frames.

    allow_matte: accept a file with no colour but a matte channel (adamatte info describes mattes).
    `frames` restricts the range (a list or a range string); by default the whole sequence,
    first to last frame on disk. Frames missing in that range are handled by `missing`:
    'error' (raise, naming them), 'hold' (repeat the previous frame) or 'black'.
    """

    def __init__(
        self,
        spec: str,
        *,
        frames: str | list[int] | None = None,
        missing: str = "error",
        layer: str | None = None,
        colorspace: str | None = None,
        start_frame: int = 1001,
        allow_matte: bool = False,
    ):
        if missing not in MISSING_POLICIES:
            raise InputError(f"--missing must be one of {', '.join(MISSING_POLICIES)}, not {missing!r}")
        self.spec = str(spec)
        self.layer = layer
        self.missing_policy = missing
        self.video: VideoReader | None = None
        self.pattern: SequencePattern | None = None
        if os.path.splitext(self.spec)[1].lower() in VIDEO_EXTENSIONS and os.path.isfile(self.spec):
            self.video = VideoReader(self.spec, start_frame)
            available = self.video.frames
            self.info = self.video.info
        else:
            self.pattern = resolve_pattern(self.spec)
            available = find_frames(self.pattern)
            if not available:
                raise InputError("empty sequence: no frames on disk", path=self.pattern.nuke)
        if not available:
            raise InputError("empty clip: no frames", path=self.spec)
        self.available = available
        if frames is None:
            self.frames = list(range(available[0], available[-1] + 1)) if not self.is_still else [available[0]]
        else:
            self.frames = parse_frame_range(frames) if isinstance(frames, str) else sorted(set(frames))
        present = set(available)
        self.missing = [f for f in self.frames if f not in present and not self.is_still]
        if self.video is None:  # the reference header is the first frame asked for, not the sequence's first
            first = next((f for f in self.frames if f in present), available[0])
            self.info = read_info(self.pattern.path(first))
        self.matte_channel: str | None = None  # set when allow_matte met a file with a matte but no colour
        try:
            self.rgb_channels = rgb_channel_names(self.info, layer)
        except InputError:
            if not allow_matte or not _names_a_matte(self.info.channels):
                raise
            self.rgb_channels, self.matte_channel = [], matte_channel_name(self.info)
        self.colorspace = colorspace or default_colorspace(os.path.splitext(self.info.path)[1] if self.video is None else ".mov")
        self.converter = ColourConverter(self.colorspace)

    @property
    def is_still(self) -> bool:
        return self.pattern is not None and self.pattern.is_still

    @property
    def display_name(self) -> str:
        return self.pattern.nuke if self.pattern is not None else self.spec

    def path(self, frame: int) -> str:
        """The file a frame comes from (the video file itself for a clip)."""
        return self.pattern.path(frame) if self.pattern is not None else self.spec

    def input_paths(self) -> set[str]:
        """Real paths of every file this source may read, to refuse writing over them."""
        return {os.path.realpath(self.path(f)) for f in (self.available if self.pattern is not None else [0])}

    def check_missing(self) -> None:
        """Raise MissingFramesError when the 'error' policy meets missing frames."""
        if self.missing and self.missing_policy == "error":
            raise MissingFramesError(
                f"missing frames {format_frame_range(self.missing)} (use --missing hold|black to render anyway)",
                path=self.display_name,
            )

    def check_headers(self, frames: list[int] | None = None, *, skip_unreadable: bool = False) -> None:
        """Fail early, naming the frame, when a frame's resolution or channels differ from the first.

        With `skip_unreadable`, a file whose header cannot be read is left for the render to
        meet at its turn (so the frames before it are still rendered).
        """
        if self.pattern is None or self.is_still:
            return
        for frame in frames if frames is not None else self.frames:
            if frame in self.missing:
                continue
            try:
                info = read_info(self.pattern.path(frame))
            except InputError as exc:
                if skip_unreadable:
                    continue
                exc.frame = frame
                raise
            try:
                self._validate(info, frame)
            except InputError as exc:
                exc.frame = frame
                raise

    def _validate(self, info: ImageInfo, frame: int) -> list[str]:
        """Check a frame's header against the first frame's; return its RGB channel names (none for a matte)."""
        if (info.data_window, info.display_window) != (self.info.data_window, self.info.display_window):
            raise InputError(
                f"resolution changes mid-sequence: data window {info.data_window} here, {self.info.data_window} on the first frame",
                path=info.path, frame=frame,
            )
        if self.matte_channel is not None:
            matte_channel_name(info)
            return []
        return rgb_channel_names(info, self.layer)

    def _held_frame(self, frame: int) -> int:
        earlier = [f for f in self.available if f < frame]
        return earlier[-1] if earlier else self.available[0]

    def read(self, frame: int) -> Frame:
        """Read `frame`, convert it to the working space, and apply the missing-frame policy."""
        if self.video is not None:
            plate = self.video.read(frame)
            return Frame(frame, self.converter(plate), plate, self.info, frame)
        wanted = self.available[0] if self.is_still else frame
        if frame in self.missing:
            self.check_missing()
            if self.missing_policy == "black":
                black = np.zeros((self.info.height, self.info.width, 3), np.float32)
                return Frame(frame, black, black, self.info, None)
            wanted = self._held_frame(frame)
        try:
            plate, info = read_image(self.pattern.path(wanted), lambda header: self._validate(header, wanted))
        except InputError as exc:
            exc.frame = wanted
            raise
        return Frame(frame, self.converter(plate), plate, info, wanted)

    def close(self) -> None:
        if self.video is not None:
            self.video.close()
