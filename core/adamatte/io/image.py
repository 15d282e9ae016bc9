"""Reading and writing single images with OpenImageIO: channels by name, windows, metadata.

Pixel arrays are H×W×C float32. OIIO's Python `write_image` needs that 3-D shape even for
one channel; a 2-D array can crash it or write garbage, so every write goes through here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import OpenImageIO as oiio

from adamatte.errors import InputError
from adamatte.io.atomic import atomic_write
from adamatte.params import BY_NAME

# zlib level of PNG output (OpenImageIO's default is 6): a render's 1080p RGBA plate sidecar took 0.46 s a frame to write
# at 6 and 0.17 s at 1, 1.26x the size (benchmarks/journal/performance.md)
PNG_COMPRESSION_LEVEL = 1
# What each output extension stores, and whether the format keeps EXR-style windows.
OUTPUT_PIXEL_TYPES = {".exr": "half", ".png": "uint16", ".tif": "uint16", ".tiff": "uint16", ".dpx": "uint16", ".jpg": "uint8", ".jpeg": "uint8"}
# the shared --compression choices (htj2k and ht256 are left out: this OpenImageIO writes them as zip)
EXR_COMPRESSIONS = BY_NAME["compression"].choices

# Attributes that describe the old file's encoding rather than the picture; they are not carried over.
_NOT_CARRIED = {"compression", "planarconfig", "ICCProfile", "XResolution", "YResolution", "ResolutionUnit", "Orientation", "DateTime"}
_LEFT_OUT: set[str] = set()  # metadata names already warned about, so a sequence warns once
_NOT_CARRIED_PREFIXES = ("oiio:", "png:", "jpeg:", "tiff:", "dpx:", "openexr:", "Exif:", "GPS:", "IPTC:", "photoshop:")


@dataclass(frozen=True)
class ImageInfo:
    """What a file's header says. Windows are OIIO's: origin plus size; the display window is `full_*`."""

    path: str
    format_name: str
    x: int
    y: int
    width: int
    height: int
    full_x: int
    full_y: int
    full_width: int
    full_height: int
    channels: tuple[str, ...]
    pixel_type: str
    compression: str | None
    metadata: tuple[tuple[str, str, Any], ...] = field(default=(), repr=False)

    @property
    def data_window(self) -> tuple[int, int, int, int]:
        """(xmin, ymin, xmax, ymax), inclusive, as EXR and Nuke print it."""
        return (self.x, self.y, self.x + self.width - 1, self.y + self.height - 1)

    @property
    def display_window(self) -> tuple[int, int, int, int]:
        return (self.full_x, self.full_y, self.full_x + self.full_width - 1, self.full_y + self.full_height - 1)

    def attribute(self, name: str) -> Any:
        for key, _, value in self.metadata:
            if key == name:
                return value
        return None


def _info_from_spec(path: str, spec: oiio.ImageSpec, format_name: str) -> ImageInfo:
    formats = {str(f) for f in spec.channelformats} or {str(spec.format)}
    metadata = tuple((p.name, str(p.type), p.value) for p in spec.extra_attribs)
    compression = spec.get_string_attribute("compression") or None
    return ImageInfo(
        path=path, format_name=format_name,
        x=spec.x, y=spec.y, width=spec.width, height=spec.height,
        full_x=spec.full_x, full_y=spec.full_y, full_width=spec.full_width, full_height=spec.full_height,
        channels=tuple(spec.channelnames), pixel_type="/".join(sorted(formats)),
        compression=compression, metadata=metadata,
    )


def _error_text(source: Any) -> str:
    """OpenImageIO's last error (`source` is oiio, an ImageInput or an ImageOutput) as one printable line.
    Its text may span lines, or not be UTF-8 at all for a corrupt file's header fields."""
    try:
        text = source.geterror()
    except UnicodeDecodeError:
        return "error text not decodable"
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _open(path: str) -> oiio.ImageInput:
    if not os.path.exists(path):
        raise InputError("no such file", path=path)
    inp = oiio.ImageInput.open(path)
    if inp is None:
        raise InputError(f"cannot open image: unreadable, truncated or corrupt ({_error_text(oiio) or 'unknown format'})", path=path)
    return inp


def read_info(path: str) -> ImageInfo:
    """Read only the header of `path`."""
    inp = _open(path)
    try:
        return _info_from_spec(path, inp.spec(), inp.format_name())
    finally:
        inp.close()


def read_image(
    path: str, channels: list[str] | Callable[[ImageInfo], list[str]] | None = None
) -> tuple[np.ndarray, ImageInfo]:
    """`channels` (default: all) of `path` as H×W×C float32 (integer types scaled to 0-1), with the header.

    `channels` may be a function of the header (checking it, say), so the file is opened once.
    """
    inp = _open(path)
    try:
        spec = inp.spec()
        info = _info_from_spec(path, spec, inp.format_name())
        if callable(channels):
            channels = channels(info)
        first, last = 0, spec.nchannels
        if channels is not None:
            index = [list(spec.channelnames).index(c) for c in channels]
            if index == list(range(index[0], index[0] + len(index))):  # contiguous: let OIIO read only those
                first, last = index[0], index[0] + len(index)
        pixels = inp.read_image(0, 0, first, last, "float")
        if pixels is None:
            raise InputError(f"cannot read pixels, the file is truncated or corrupt ({_error_text(inp)})", path=path)
    finally:
        inp.close()
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if channels is not None and last - first != len(channels):
        pixels = np.ascontiguousarray(pixels[:, :, index])
    return pixels, info


def rgb_channel_names(info: ImageInfo, layer: str | None = None) -> list[str]:
    """Names of the R, G, B channels of `layer` (the default layer when None). Raises when absent."""
    prefix = f"{layer}." if layer else ""
    wanted = [prefix + c for c in ("R", "G", "B")]
    if all(name in info.channels for name in wanted):
        return wanted
    lower = {c.lower(): c for c in info.channels}
    long_names = [prefix + c for c in ("red", "green", "blue")]
    if all(name.lower() in lower for name in long_names):
        return [lower[name.lower()] for name in long_names]
    layers = sorted({c.rsplit(".", 1)[0] for c in info.channels if "." in c})
    hint = f"; layers in this file: {', '.join(layers)} (pick one with --layer)" if layers else ""
    what = f"layer {layer!r} has no R,G,B channels" if layer else "no R,G,B channels"
    raise InputError(f"{what} (channels: {', '.join(info.channels)}){hint}", path=info.path)


def matte_channel_name(info: ImageInfo) -> str:
    """The channel holding a matte or trimap: the only one, else A (when there is no colour), Y, or R."""
    if len(info.channels) == 1:
        return info.channels[0]
    for name in ("Y", "R", "A"):
        if name in info.channels:
            return name
    raise InputError(f"no matte channel (channels: {', '.join(info.channels)})", path=info.path)


def read_matte(path: str) -> np.ndarray:
    """A one-channel image such as a trimap or roto mask, as H×W float32 in 0-1."""
    pixels, info = read_image(path)
    channel = info.channels.index(matte_channel_name(info))
    return np.ascontiguousarray(pixels[:, :, channel])


def timecode_text(value: Any) -> str:
    """SMPTE timecode as HH:MM:SS:FF (';' before the frames when drop-frame), from OpenImageIO's
    smpte:TimeCode: two 32-bit words, the first BCD-coded time (SMPTE 12M), the second user bits."""
    word = int(value[0]) if isinstance(value, (tuple, list)) else int(value)

    def bcd(shift: int, tens_bits: int) -> int:
        return ((word >> (shift + 4)) & ((1 << tens_bits) - 1)) * 10 + ((word >> shift) & 0xF)

    drop = (word >> 6) & 1
    return f"{bcd(24, 2):02d}:{bcd(16, 3):02d}:{bcd(8, 3):02d}{';' if drop else ':'}{bcd(0, 2):02d}"


def carried_metadata(info: ImageInfo | None) -> list[tuple[str, str, Any]]:
    """The input's attributes that describe the picture (timecode, fps, owner, custom keys)."""
    if info is None:
        return []
    return [
        (name, type_name, value) for name, type_name, value in info.metadata
        if name not in _NOT_CARRIED and not name.startswith(_NOT_CARRIED_PREFIXES)
    ]


def write_image(
    path: str,
    pixels: np.ndarray,
    channels: list[str] | tuple[str, ...],
    *,
    like: ImageInfo | None = None,
    compression: str = "zip",
    metadata: dict[str, Any] | None = None,
    pixel_type: str | None = None,
) -> None:
    """Write H×W×C `pixels` atomically, named by `channels`.

    EXR output keeps `like`'s data and display windows and its picture metadata; `metadata`
    adds string-valued attributes. Integer formats are clamped to 0-1. The pixel type comes
    from the extension unless `pixel_type` is given.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)  # OIIO rejects strided arrays
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] != len(channels):
        raise ValueError(f"pixels of shape {pixels.shape} do not match channels {list(channels)}")
    ext = os.path.splitext(path)[1].lower()
    if ext not in OUTPUT_PIXEL_TYPES:
        raise InputError(f"unsupported output format {ext!r} (use one of {', '.join(OUTPUT_PIXEL_TYPES)})", path=path)
    pixel_type = pixel_type or OUTPUT_PIXEL_TYPES[ext]
    height, width = pixels.shape[:2]
    spec = oiio.ImageSpec(width, height, len(channels), pixel_type)
    spec.channelnames = tuple(channels)
    if "A" in channels:
        spec.alpha_channel = list(channels).index("A")
    if ext == ".exr":
        if compression not in EXR_COMPRESSIONS:
            raise InputError(f"unknown EXR compression {compression!r} (use one of {', '.join(EXR_COMPRESSIONS)})")
        spec.attribute("compression", compression)
        if like is not None:
            if (like.width, like.height) != (width, height):
                raise ValueError("pixels do not match the data window of the reference image")
            spec.x, spec.y = like.x, like.y
            spec.full_x, spec.full_y, spec.full_width, spec.full_height = like.full_x, like.full_y, like.full_width, like.full_height
    else:
        pixels = np.clip(pixels, 0.0, 1.0)
        if ext == ".png":
            spec.attribute("png:compressionLevel", PNG_COMPRESSION_LEVEL)
    for name, type_name, value in carried_metadata(like):
        try:
            spec.attribute(name, oiio.TypeDesc(type_name), value)
        except (TypeError, ValueError, RuntimeError):  # a corrupt or exotic header field OpenImageIO cannot write back
            if name not in _LEFT_OUT:
                _LEFT_OUT.add(name)
                print(f"adamatte: warning: {like.path}: metadata {name!r} ({type_name}) cannot be written; left out",
                      file=sys.stderr)
    for name, value in (metadata or {}).items():
        spec.attribute(name, str(value))
    with atomic_write(path) as tmp:
        out = oiio.ImageOutput.create(tmp)
        if out is None:
            raise InputError(f"cannot write this format: {_error_text(oiio)}", path=path)
        try:
            if not out.open(tmp, spec) or not out.write_image(pixels):
                raise InputError(f"cannot write image: {_error_text(out)}", path=path)
        finally:
            out.close()
