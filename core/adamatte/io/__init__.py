"""Frame I/O: sequences and video in, mattes out, colour managed, overlapped with compute."""

from adamatte.io.image import ImageInfo, read_image, read_info, read_matte, write_image
from adamatte.io.pipeline import ReadAhead, WriteBehind
from adamatte.io.sequence import SequencePattern, format_frame_range, parse_frame_range, parse_pattern, resolve_pattern
from adamatte.io.sink import FrameSink
from adamatte.io.source import Frame, FrameSource

__all__ = [
    "Frame", "FrameSink", "FrameSource", "ImageInfo", "ReadAhead", "SequencePattern", "WriteBehind",
    "format_frame_range", "parse_frame_range", "parse_pattern", "read_image", "read_info", "read_matte",
    "resolve_pattern", "write_image",
]
