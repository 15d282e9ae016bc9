"""What every farm job shares: a validated render request turned into one render command line.

Paths become absolute and every keyframe gets an explicit @FRAME, so each chunk, on any
worker, warms up from the same keyframe and the chunks equal one sequential render.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from adamatte.errors import InputError
from adamatte.io.sequence import format_frame_range, parse_frame_range
from adamatte.io.source import FrameSource
from adamatte.keyframes import Keyframes
from adamatte.nodes.params import BY_NAME, to_cli_args
from adamatte.render import RenderRequest

FRAME_TOKEN = "{FRAMES}"  # replaced by each farm's own chunk-range token


@dataclass(frozen=True)
class FarmJob:
    name: str
    frames: list[int]
    chunk_size: int
    gpu: bool
    command: str  # the adamatte executable (or interpreter wrapper) on the workers
    args: list[str]  # render arguments, with FRAME_TOKEN where the chunk's range goes

    @property
    def frame_range(self) -> str:
        return format_frame_range(self.frames)


def build_job(request: RenderRequest, *, name: str = "", chunk_size: int = 10, gpu: bool = False, command: str = "adamatte") -> FarmJob:
    """Check `request` as a render would, and freeze it into a farm job."""
    if chunk_size < 1:
        raise InputError("--chunk-size must be at least 1")
    source = FrameSource(request.input, missing=request.missing, layer=request.layer or None,
                         colorspace=request.input_colorspace or None, start_frame=request.start_frame)
    frames = parse_frame_range(request.frames) if request.frames else list(source.frames)
    keyframes = Keyframes(request.trimap, frames[0], band=request.band)
    if keyframes.at_or_before(frames[0]) is None:
        raise InputError(f"no keyframe trimap at or before frame {frames[0]}", frame=frames[0])
    absolute = dataclasses.replace(
        request,
        input=os.path.abspath(request.input),
        output=os.path.abspath(request.output),
        trimap=[f"{os.path.abspath(path)}@{frame}" for frame, path in sorted(keyframes.paths.items())],
        weights=os.path.abspath(request.weights) if request.weights and os.path.isfile(request.weights) else request.weights,
        frames="", resume=False, progress="bar",
    )
    values = {f.name: getattr(absolute, f.name) for f in dataclasses.fields(absolute) if f.name in BY_NAME}
    args = ["render", absolute.input, "-o", absolute.output, *to_cli_args(values),
            "--frames", FRAME_TOKEN, "--progress", "json", "--resume"]
    return FarmJob(name or os.path.splitext(os.path.basename(absolute.output))[0].split(".")[0] or "adamatte",
                   frames, chunk_size, gpu, command, args)
