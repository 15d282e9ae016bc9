"""`adamatte matte`: one image and its trimap to an alpha file (and the adapted trimap)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from adamatte.errors import InputError
from adamatte.io.image import read_matte
from adamatte.io.sequence import resolve_pattern
from adamatte.io.sink import FrameSink
from adamatte.io.source import FrameSource
from adamatte.matting.engine import MatteResult, MattingEngine
from adamatte.matting.trimap import normalize_trimap, refuse_degenerate, write_labels
from adamatte.model.weights import weights_metadata


def open_image(path: str, **source_options) -> FrameSource:
    """A FrameSource over exactly the one file `path`, even when it is a member of a sequence."""
    pattern = resolve_pattern(path)
    if pattern.is_still:
        return FrameSource(path, **source_options)
    name = os.path.basename(path)
    frame = int(name[len(pattern.head): len(name) - len(pattern.tail)])
    return FrameSource(path, frames=[frame], **source_options)


def matte_file(
    engine: MattingEngine,
    image_path: str,
    trimap_path: str,
    output_path: str,
    *,
    trimap_out: str | None = None,
    colorspace: str | None = None,
    layer: str | None = None,
    allow_degenerate: bool = False,
    warn: Callable[[str], None] = lambda message: print(f"adamatte: warning: {message}", file=sys.stderr),
) -> MatteResult:
    """Matte the image at `image_path` with the trimap at `trimap_path` into `output_path` (.png/.exr/.tif),
    keeping the image's windows and metadata; `trimap_out` also gets the adapted trimap (0/128/255).
    A trimap that is wholly one class is refused unless `allow_degenerate`; lesser problems go to `warn`."""
    source = open_image(image_path, colorspace=colorspace, layer=layer)
    frame = source.read(source.frames[0])
    trimap = read_matte(trimap_path)
    if trimap.shape != frame.rgb.shape[:2]:
        raise InputError(
            f"the trimap is {trimap.shape[1]}x{trimap.shape[0]} but the image is {frame.rgb.shape[1]}x{frame.rgb.shape[0]}",
            path=trimap_path,
        )
    reason = refuse_degenerate(normalize_trimap(trimap), allow=allow_degenerate, path=trimap_path)
    if reason is not None:
        warn(f"{trimap_path}: {reason}")
    if os.path.splitext(output_path)[1].lower() not in (".png", ".exr", ".tif", ".tiff"):
        raise InputError("the matte is written as .png (16-bit) or .exr (half)", path=output_path)
    sink = FrameSink(output_path, [frame.number], forbidden_paths=source.input_paths() | {os.path.realpath(trimap_path)},
                     metadata={**weights_metadata(engine.weights_info), "adamatte:trimap_source": trimap_path})
    result = engine.matte(frame.rgb, trimap)
    sink.write(frame.number, result.alpha, frame)
    if trimap_out:
        write_labels(trimap_out, result.labels)
    return result
