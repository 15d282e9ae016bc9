"""Frame I/O: sequences and video in, mattes out, colour managed, overlapped with compute.

Names are loaded from their modules on first use, so that code needing only `adamatte.io.image`
(training, scoring) does not pull in OpenColorIO, pyseq and PyAV.
"""

import importlib

_HOME = {
    "ImageInfo": "image", "read_image": "image", "read_info": "image", "read_matte": "image", "write_image": "image",
    "ReadAhead": "pipeline", "WriteBehind": "pipeline",
    "SequencePattern": "sequence", "format_frame_range": "sequence", "parse_frame_range": "sequence",
    "parse_pattern": "sequence", "resolve_pattern": "sequence",
    "FrameSink": "sink",
    "Frame": "source", "FrameSource": "source",
}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'adamatte.io' has no attribute {name!r}")
    return getattr(importlib.import_module(f"adamatte.io.{_HOME[name]}"), name)
