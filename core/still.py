"""`adamatte matte`: one image and its trimap to an alpha file (and the adapted trimap)."""

from __future__ import annotations

import os

import numpy as np

from adamatte.engine import MatteResult, MattingEngine
from adamatte.errors import InputError
from adamatte.io.image import read_matte, write_image
from adamatte.io.sequence import resolve_pattern
from adamatte.io.sink import FrameSink
from adamatte.io.source import FrameSource


def open_image(path: str, **source_options) -> FrameSource:
    """A FrameSource over exactly the one file `path`, even when it is a member of a sequence."""
    pattern = resolve_pattern(path)
    if pattern.is_still:
        return FrameSource(path, **source_options)
    name = os.path.basename(path)
    frame = int(name[len(pattern.head): len(name) - len(pattern.tail)])
    return FrameSource(path, frames=[frame], **source_options)


def write_trimap(path: str, labels: np.ndarray) -> None:
    """Labels {0,1,2} as a 0/128/255 trimap: 8-bit for PNG/JPEG/TIFF, half for EXR."""
    values = np.choose(labels, [0.0, 128.0 / 255.0, 1.0]).astype(np.float32)
    ext = os.path.splitext(path)[1].lower()
    write_image(path, values, ["Y"], pixel_type=None if ext == ".exr" else "uint8")


def matte_file(
    engine: MattingEngine,
    image_path: str,
    trimap_path: str,
    output_path: str,
    *,
    trimap_out: str | None = None,
    colorspace: str | None = None,
    layer: str | None = None,
) -> MatteResult:
    source = open_image(image_path, colorspace=colorspace, layer=layer)
    frame = source.read(source.frames[0])
    trimap = read_matte(trimap_path)
    if trimap.shape != frame.rgb.shape[:2]:
        raise InputError(
            f"the trimap is {trimap.shape[1]}x{trimap.shape[0]} but the image is {frame.rgb.shape[1]}x{frame.rgb.shape[0]}",
            path=trimap_path,
        )
    if os.path.splitext(output_path)[1].lower() not in (".png", ".exr", ".tif", ".tiff"):
        raise InputError("the matte is written as .png (16-bit) or .exr (half)", path=output_path)
    sink = FrameSink(output_path, [frame.number], forbidden_paths=source.input_paths() | {os.path.realpath(trimap_path)},
                     metadata=_provenance(engine, trimap_path))
    result = engine.matte(frame.rgb, trimap)
    sink.write(frame.number, result.alpha, frame)
    if trimap_out:
        write_trimap(trimap_out, result.labels)
    return result


def _provenance(engine: MattingEngine, trimap_source: str) -> dict[str, str]:
    info = engine.weights_info
    return {
        "adamatte:weights": os.path.basename(info.path) if info else "in-memory",
        "adamatte:weights_hash": info.sha256 if info else "",
        "adamatte:trimap_source": trimap_source,
    }
