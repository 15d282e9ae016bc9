"""A render request, and the plan it becomes once checked against the files on disk.

    plan = RenderPlan.from_request(RenderRequest(input="plate.####.exr", output="matte.####.exr", trimap=["key.png"]))
    plan.write_frames, plan.chain, plan.keyframes, plan.sinks(metadata)

Torch-free on purpose: `adamatte farm export` validates a render on a submit machine that has
no torch, and the renderer, the still command and the demo build the same plan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from adamatte.errors import InputError, MissingFramesError
from adamatte.io.sequence import format_frame_range, parse_frame_range
from adamatte.io.sink import FrameSink
from adamatte.io.source import FrameSource
from adamatte.params import BY_NAME, check
from adamatte.video.keyframes import Keyframes

# what each extra output (--write) holds, beside the alpha
EXTRA_OUTPUT_LAYOUTS = {"trimap": dict(alpha_channel="Y"), "fg": dict(layout="rgba"), "rgba": dict(layout="rgba-premult")}


def _default(name: str):
    """A field whose default is the shared parameter definition's (adamatte.params)."""
    value = BY_NAME[name].default
    return field(default_factory=lambda: list(value)) if isinstance(value, (list, tuple)) else field(default=value)


@dataclass
class RenderRequest:
    """Everything a render needs; the fields and defaults are adamatte.params' (hosts fill it from knobs)."""

    input: str
    output: str
    trimap: list[str] = _default("trimap")
    band: int = _default("band")
    propagation: str = _default("propagation")
    keyframe_memory: bool = _default("keyframe_memory")
    temporal: float = _default("temporal")
    frames: str = _default("frames")
    weights: str = _default("weights")
    device: str = _default("device")
    precision: str = _default("precision")
    respect_trimap: bool = _default("respect_trimap")
    drawn_band: str = _default("drawn_band")
    allow_degenerate: bool = _default("allow_degenerate")
    refine: str = _default("refine")
    refine_prior: float = _default("refine_prior")
    max_megapixels: float = _default("max_megapixels")
    analysis_scale: float = _default("analysis_scale")
    input_colorspace: str = _default("input_colorspace")
    layer: str = _default("layer")
    missing: str = _default("missing")
    start_frame: int = _default("start_frame")
    write: str = _default("write")
    alpha_channel: str = _default("alpha_channel")
    layout: str = _default("layout")
    compression: str = _default("compression")
    resume: bool = _default("resume")
    on_error: str = _default("on_error")
    progress: str = _default("progress")

    def params(self) -> dict[str, Any]:
        """The request's shared parameters (everything but input and output), by name."""
        return {name: getattr(self, name) for name in BY_NAME if hasattr(self, name)}

    @property
    def solved(self) -> bool:
        """A band solve follows the network (--refine is not none): what input_trimap's `solved` asks."""
        return self.refine != "none"


def output_variant(spec: str, suffix: str) -> str:
    """matte.####.exr -> matte_trimap.####.exr: where the extra outputs go."""
    directory, name = os.path.split(spec)
    stem, ext = os.path.splitext(name)
    head, sep, token = stem.rpartition(".")
    if sep and ("#" in token or "%" in token or "@" in token or token.isdigit()):
        return os.path.join(directory, f"{head}_{suffix}.{token}{ext}")
    return os.path.join(directory, f"{stem}_{suffix}{ext}")


def frame_rate(info) -> float:
    """The plate's framesPerSecond (a rational), else 24."""
    value = info.attribute("framesPerSecond")
    if isinstance(value, (tuple, list)) and len(value) == 2 and value[1]:
        return value[0] / value[1]
    try:
        return float(value)
    except (TypeError, ValueError):
        return 24.0


def parse_outputs(text: str) -> list[str]:
    """--write's comma list -> the outputs in their fixed order, alpha first and always."""
    outputs = [o.strip() for o in text.split(",") if o.strip()]
    order = BY_NAME["write"].choices
    return ["alpha"] + [o for o in order[1:] if o in outputs]


@dataclass
class RenderPlan:
    """A request checked against the files: the plate, the frames to write, the keyframes, and the
    chain of frames propagation runs through (from the keyframe at or before the first frame)."""

    request: RenderRequest
    source: FrameSource
    write_frames: list[int]
    keyframes: Keyframes
    chain: list[int]
    outputs: list[str]

    @classmethod
    def from_request(cls, request: RenderRequest, *, check_headers: bool = True) -> "RenderPlan":
        """Validate `request` as a render does before its first frame; raises InputError (exit 2) or
        MissingFramesError (exit 3). `check_headers` reads every frame's header in the chain."""
        r = request
        check(r.params(), InputError)
        source = FrameSource(r.input, missing=r.missing, layer=r.layer or None, colorspace=r.input_colorspace or None,
                             start_frame=r.start_frame)
        write_frames = parse_frame_range(r.frames) if r.frames else list(source.frames)
        outside = sorted(set(write_frames) - set(source.frames))
        if outside:
            raise InputError(f"frames {format_frame_range(outside)} are outside the input ({format_frame_range(source.frames)})",
                             path=source.display_name)
        keyframes = Keyframes(r.trimap, write_frames[0], band=r.band, plate=source.info)
        if not keyframes.frames:
            raise InputError("a render needs a trimap on at least one keyframe (--trimap PATH or PATH@FRAME)")
        start = keyframes.at_or_before(write_frames[0])
        if start is None:
            raise InputError(f"no keyframe trimap at or before frame {write_frames[0]} (keyframes: "
                             f"{format_frame_range(keyframes.frames)})", frame=write_frames[0])
        chain = [f for f in source.frames if start <= f <= write_frames[-1]]
        if check_headers:
            missing = sorted(set(chain) & set(source.missing))
            if missing and r.missing == "error":
                raise MissingFramesError(f"missing frames {format_frame_range(missing)} (use --missing hold|black to render anyway)",
                                         path=source.display_name)
            source.check_headers(chain, skip_unreadable=True)
        return cls(r, source, write_frames, keyframes, chain, parse_outputs(r.write))

    def sinks(self, metadata: dict[str, str]) -> dict[str, FrameSink]:
        """One sink per output, 'alpha' first; none may overwrite the plate or a keyframe trimap."""
        r = self.request
        forbidden = self.source.input_paths() | {os.path.realpath(p) for p in self.keyframes.paths.values()}
        common = dict(compression=r.compression, metadata=metadata, forbidden_paths=forbidden, fps=frame_rate(self.source.info))
        sinks = {"alpha": FrameSink(r.output, self.write_frames, alpha_channel=r.alpha_channel, layout=r.layout, **common)}
        for name in self.outputs[1:]:
            sinks[name] = FrameSink(output_variant(r.output, name), self.write_frames, **EXTRA_OUTPUT_LAYOUTS[name], **common)
        return sinks
