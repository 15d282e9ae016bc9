"""What every farm job shares: a validated render request turned into one render command line.

Paths become absolute and every keyframe gets an explicit @FRAME, so each chunk, on any
worker, warms up from the same keyframe and the chunks equal one sequential render.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from adamatte.errors import InputError
from adamatte.io.sequence import format_frame_range
from adamatte.params import to_cli_args
from adamatte.video.plan import RenderPlan, RenderRequest

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
    """Check `request` as a render would (without torch: the submit machine may have none), and
    freeze it into a farm job. Frame headers are left to the workers, which see the same files."""
    if chunk_size < 1:
        raise InputError("--chunk-size must be at least 1")
    plan = RenderPlan.from_request(request, check_headers=False)
    frames, keyframes = plan.write_frames, plan.keyframes
    plan.source.close()
    absolute = dataclasses.replace(
        request,
        input=os.path.abspath(request.input),
        output=os.path.abspath(request.output),
        trimap=[f"{os.path.abspath(path)}@{frame}" for frame, path in sorted(keyframes.paths.items())],
        weights=os.path.abspath(request.weights) if request.weights and os.path.isfile(request.weights) else request.weights,
        frames="", resume=False, progress="bar",
    )
    args = ["render", absolute.input, "-o", absolute.output, *to_cli_args(absolute.params()),
            "--frames", FRAME_TOKEN, "--progress", "json", "--resume"]
    return FarmJob(name or os.path.splitext(os.path.basename(absolute.output))[0].split(".")[0] or "adamatte",
                   frames, chunk_size, gpu, command, args)
