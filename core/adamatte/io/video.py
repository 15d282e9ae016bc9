"""Video files with PyAV: decoding a clip to numbered frames, and writing ProRes 4444 with alpha."""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np

from adamatte.errors import InputError
from adamatte.io.atomic import ensure_writable_dir, temp_path_for
from adamatte.io.image import ImageInfo


def _open(path: str) -> av.container.InputContainer:
    try:
        container = av.open(path)
    except (av.FFmpegError, OSError) as exc:
        raise InputError(f"cannot open video: {exc}", path=path) from None
    if not container.streams.video:
        container.close()
        raise InputError("the file has no video stream", path=path)
    return container


class VideoReader:
    """Decodes one video file. Frame numbers start at `start_frame`; sequential reads are cheapest."""

    def __init__(self, path: str, start_frame: int = 1001):
        self.path = path
        self.start_frame = start_frame
        container = _open(path)
        try:
            stream = container.streams.video[0]
            count = stream.frames or sum(1 for p in container.demux(stream) if p.size)
            rate = stream.average_rate or stream.guessed_rate or Fraction(24)
            ctx = stream.codec_context
            self.info = ImageInfo(
                path=path, format_name=os.path.splitext(path)[1].lstrip(".").lower(),
                x=0, y=0, width=ctx.width, height=ctx.height,
                full_x=0, full_y=0, full_width=ctx.width, full_height=ctx.height,
                channels=("R", "G", "B"), pixel_type=str(ctx.pix_fmt), compression=ctx.name,
                metadata=(("framesPerSecond", "rational", (rate.numerator, rate.denominator)),),
            )
        finally:
            container.close()
        self.frames = list(range(start_frame, start_frame + count))
        self._container = None
        self._decoder = None
        self._next = start_frame

    def _restart(self) -> None:
        self.close()
        self._container = _open(self.path)
        self._decoder = self._container.decode(video=0)
        self._next = self.start_frame

    def read(self, frame: int) -> np.ndarray:
        """Frame `frame` as H×W×3 float32 in 0-1, as encoded (normally sRGB)."""
        if frame not in self.frames:
            raise InputError("frame is outside the clip", path=self.path, frame=frame)
        if self._decoder is None or frame < self._next:
            self._restart()
        try:
            while True:
                decoded = next(self._decoder)
                self._next += 1
                if self._next - 1 == frame:
                    return decoded.to_ndarray(format="rgb48le").astype(np.float32) / 65535.0
        except StopIteration:
            raise InputError("the clip ended before this frame", path=self.path, frame=frame) from None
        except av.FFmpegError as exc:
            raise InputError(f"cannot decode: {exc}", path=self.path, frame=frame) from None

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = self._decoder = None


class ProResWriter:
    """Writes RGBA frames to a ProRes 4444 .mov (yuva444p10le); the file appears only when closed."""

    def __init__(self, path: str, width: int, height: int, fps: Fraction | float = 24, timecode: str | None = None):
        """timecode: HH:MM:SS:FF of the first frame, written as the movie's timecode track."""
        self.path = path
        ensure_writable_dir(os.path.dirname(os.path.abspath(path)))
        self._tmp = temp_path_for(path)
        self._container = av.open(self._tmp, "w", format="mov")
        self._stream = self._container.add_stream("prores_ks", rate=Fraction(fps).limit_denominator(1001))
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuva444p10le"
        self._stream.options = {"profile": "4444"}
        if timecode:
            self._stream.metadata["timecode"] = timecode  # the mov muxer makes a tmcd track of it

    def write(self, rgba: np.ndarray) -> None:
        """rgba: H×W×4 float in 0-1, display-encoded RGB and straight alpha."""
        data = (np.clip(rgba, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(data), format="rgba64le")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self, *, discard: bool = False) -> None:
        """Finish the file; with `discard` (or on error) nothing is left under the final name."""
        try:
            if not discard:
                for packet in self._stream.encode():
                    self._container.mux(packet)
            self._container.close()
            if not discard:
                os.replace(self._tmp, self.path)
        finally:
            if os.path.exists(self._tmp):
                os.remove(self._tmp)
