"""The one definition of adamatte's render parameters, and the one check of their values.

The CLI builds its options from this, the Nuke node its knobs and the Blender node its
properties, so a parameter is added, renamed or re-documented here and nowhere else; every
choice and range is checked by `check` here, for all of them. Pure standard library on
purpose: a host's interpreter imports it without torch or numpy (the Blender extension
carries a copy of this one file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    name: str  # Python identifier; the CLI flag is --name-with-dashes
    kind: str  # 'str', 'path', 'paths' (repeatable), 'int', 'float', 'bool', 'choice', 'multi' or 'frames'
    default: Any
    help: str
    label: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    group: str = "render"

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


PARAMS: tuple[Param, ...] = (
    Param("trimap", "paths", (), "Keyframe trimap: PATH (first frame of the range), PATH@FRAME, or a sequence pattern "
          "(every frame present is a keyframe). Repeatable. A mask or roto becomes a trimap with --band. Its size is the "
          "plate's data window, or its display window (cropped to the data window).",
          label="Keyframe trimaps", group="trimap"),
    Param("band", "int", 12, "Width in pixels of the unknown band made around a binary mask or roto.", minimum=1, maximum=200,
          label="Band width", group="trimap"),
    Param("propagation", "choice", "flow", "How trimaps travel between keyframes: along optical flow, or (fallback) by "
          "dilation alone.", choices=("flow", "dilate"), group="trimap"),
    Param("keyframe_memory", "bool", True, "Remember what the keyframes say the subject and its background look like: "
          "foreground that appears where the flow says background was is kept only if it looks like the subject, and "
          "propagated foreground near the edge that stops looking like it is re-decided (stops background creeping in). "
          "Off: propagation alone, which lets a look-alike background drift into the matte (docs/rendering.md).",
          label="Keyframe memory", group="trimap"),
    Param("temporal", "float", 0.05, "With --refine: how strongly the band solve keeps to the previous frame's matte, "
          "carried along the optical flow where the flow is sure (less flicker). 0: each frame on its own.",
          minimum=0.0, maximum=1.0, label="Temporal smoothing", group="trimap"),
    Param("frames", "frames", "", "Frames to render, e.g. 1001-1100, 1001-1100x2 or 1001,1005. Empty: the whole input.",
          label="Frame range", group="input"),
    Param("input_colorspace", "str", "", "OCIO colour space of the plate. Empty: scene-linear Rec.709 for EXR, sRGB for other images and video.",
          label="Input colour space", group="input"),
    Param("layer", "str", "", "EXR layer holding the plate's R,G,B (e.g. 'beauty'). Empty: the default layer.", group="input"),
    Param("missing", "choice", "error", "What to do with frames missing from the input sequence.",
          choices=("error", "hold", "black"), label="Missing frames", group="input"),
    Param("start_frame", "int", 1001, "Frame number given to a video file's first frame.", minimum=-100000, maximum=10000000,
          group="input"),
    Param("weights", "path", "", "Weights: a .safetensors file (with its .json beside it) or a bundled name. Empty: the bundled default.",
          group="engine"),
    Param("device", "choice", "auto", "Where the network runs; auto picks CUDA when present.", choices=("auto", "cpu", "cuda"),
          group="engine"),
    Param("precision", "choice", "auto", "The network's arithmetic. auto: fp16 on CUDA; on a CPU bf16 where it computes bf16 in hardware (AMX, AVX-512 BF16), "
          "else fp32. auto can differ between farm machines: pin fp32 for renders bit-identical across mixed hardware.",
          choices=("auto", "fp32", "fp16", "bf16"), group="engine"),
    Param("respect_trimap", "bool", False, "Keep the user's trimap where it says foreground or background, instead of "
          "letting the network's adapted trimap correct it.", label="Respect trimap", group="engine"),
    Param("drawn_band", "choice", "auto", "With --refine, the unknown band of a trimap you drew (a still, a keyframe): "
          "keep it as drawn (its whole band solved, its foreground and background final), or adapt it (the network narrows it "
          "where it is sure). auto keeps a tight band, one typically at most 16 px across (more on frames above 0.6 MP: "
          "about 30 px at 1080p), and adapts a wider one: on our "
          "held-out tight trimaps, kept, the default measures SAD 0.75x (photos) and 0.58x (1-3 MP composites) closed-form's, "
          "adapted 0.98x and 0.91x (KNN then); keeping a wide band loses (docs/MODEL_CARD.md). Propagated bands are always adapted.",
          choices=("auto", "keep", "adapt"), label="Drawn band", group="engine"),
    Param("allow_degenerate", "bool", False, "Render a trimap that is wholly one class (all unknown, foreground or "
          "background), which is refused by default: it gives haze or a solid matte.", label="Allow degenerate trimaps",
          group="engine"),
    Param("refine", "choice", "auto", "After the network, solve classical matting where the adapted trimap is unknown or "
          "the network is unsure, with the rest as constraints: mixed (closed-form's local links plus KNN's colour links; "
          "it measures best on our held-out photos and video, docs/MODEL_CARD.md), KNN matting (about 1.2x faster on a "
          "1080p render, softer edges), or closed-form (Levin). auto, the default: mixed. 'none' is the network alone, "
          "several times faster.",
          choices=("none", "auto", "knn", "closed-form", "mixed"), group="engine"),
    Param("refine_prior", "float", 0.0, "With --refine: how strongly the solve keeps to the network's alpha (0: not at all).",
          minimum=0.0, maximum=10.0, label="Refine prior", group="engine"),
    Param("max_megapixels", "float", 0.0, "Frames whose region around the trimap's band is larger than this are matted "
          "in overlapping tiles. 0: 2.5 on the CPU, 9 on CUDA.",
          minimum=0.0, maximum=1000.0, label="Max megapixels", group="engine"),
    Param("analysis_scale", "float", 0.0, "Scale at which the network analyses a frame: it adapts the trimap on a copy "
          "this much smaller, and the refinement solves the edges at full resolution: faster, softer. 0: automatic, full "
          "scale through 4K (9 megapixels), smaller above. 1: always full scale. 0.7 costs ~17% in SAD (docs/MODEL_CARD.md).",
          minimum=0.0, maximum=1.0, label="Analysis scale", group="engine"),
    Param("write", "multi", "alpha", "Outputs, comma separated: alpha (always), trimap (the adapted trimap), fg (clean "
          "un-premultiplied foreground), rgba (premultiplied plate with the new alpha).",
          choices=("alpha", "trimap", "fg", "rgba"), label="Outputs", group="output"),
    Param("alpha_channel", "str", "A", "Name of the matte channel in the output, e.g. A or matte.A.", group="output"),
    Param("layout", "choice", "alpha", "Output channels: the matte alone, or the plate's RGB with it, straight or premultiplied.",
          choices=("alpha", "rgba", "rgba-premult"), label="Output layout", group="output"),
    Param("compression", "choice", "zip", "EXR compression of the output.",
          choices=("none", "rle", "zips", "zip", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab"), group="output"),
    Param("resume", "bool", False, "Skip frames already rendered (and valid) and continue propagation from the last one.",
          group="run"),
    Param("on_error", "choice", "stop", "A corrupt input frame stops the render (earlier frames are kept), or is skipped.",
          choices=("stop", "skip"), label="On a bad frame", group="run"),
    Param("progress", "choice", "bar", "Progress display: a bar on the terminal, JSON lines on stdout (for hosts and "
          "farms), or none.", choices=("bar", "json", "none"), group="run"),
)

BY_NAME = {p.name: p for p in PARAMS}


def problem(name: str, value: Any) -> str | None:
    """Why `value` is not allowed for the parameter `name`, in one line; None when it is."""
    p = BY_NAME[name]
    if p.kind == "choice" and value not in p.choices:
        return f"{p.flag} must be one of {', '.join(p.choices)}, not {value!r}"
    if p.kind == "multi":
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
        unknown = sorted({v for v in items if v} - set(p.choices))
        if unknown:
            return f"{p.flag} takes {', '.join(p.choices)}; not {', '.join(unknown)}"
    if p.kind in ("int", "float") and value is not None:
        if (p.minimum is not None and value < p.minimum) or (p.maximum is not None and value > p.maximum):
            return f"{p.flag} must be between {p.minimum} and {p.maximum}, not {value}"
    return None


def check(values: dict[str, Any], error: type[Exception] = ValueError) -> None:
    """Raise `error` with the first problem among `values` (param name -> value); the core passes InputError."""
    for name, value in values.items():
        message = problem(name, value)
        if message:
            raise error(message)


def to_cli_args(values: dict[str, Any]) -> list[str]:
    """CLI arguments for `values` (param name -> value), leaving out values equal to the default."""
    args: list[str] = []
    for name, value in values.items():
        param = BY_NAME[name]
        if value == param.default or value is None:
            continue
        if param.kind == "bool":
            args.append(param.flag if value else "--no-" + param.flag[2:])
        elif param.kind == "paths":
            for item in value:
                args += [param.flag, str(item)]
        elif param.kind == "multi" and not isinstance(value, str):
            args += [param.flag, ",".join(value)]
        else:
            args += [param.flag, str(value)]
    return args
