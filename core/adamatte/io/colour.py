"""Colour management with OpenColorIO: plates into the network's working space.

The network sees display-referred sRGB-encoded Rec.709 in 0-1, as the photos it learned from.
EXR plates are scene-linear, so they are encoded and their highlights rolled off (not clipped)
on the way in; display-encoded plates (PNG, JPEG, video) are only limited to 0-1. Alpha is data: nothing here ever touches it.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import PyOpenColorIO as OCIO

from adamatte.errors import InputError

BUILTIN_CONFIG = "ocio://default"
WORKING_SPACE = "srgb_tx"  # alias of "sRGB Encoded Rec.709 (sRGB)" in OCIO's and ACES' v2 configs
SCENE_LINEAR_DEFAULT = "lin_rec709_srgb"  # alias of "Linear Rec.709 (sRGB)"
DISPLAY_DEFAULT = "srgb_tx"
HIGHLIGHT_KNEE = 0.9  # encoded value where the roll-off toward 1.0 begins


@functools.lru_cache(maxsize=None)
def load_config(path: str | None = None) -> OCIO.Config:
    """`path`, else $OCIO, else OCIO's built-in default config (nothing is downloaded)."""
    source = path or os.environ.get("OCIO") or BUILTIN_CONFIG
    try:
        return OCIO.Config.CreateFromFile(source)
    except OCIO.Exception as exc:
        raise InputError(f"cannot load OCIO config: {exc}", path=source) from None


def default_colorspace(extension: str) -> str:
    """Scene-linear Rec.709 for EXR, sRGB for integer images and video."""
    return SCENE_LINEAR_DEFAULT if extension.lower() == ".exr" else DISPLAY_DEFAULT


def canonical_name(name: str, config: OCIO.Config | None = None) -> str:
    """The config's own name for colour space `name` (an alias or role is accepted)."""
    config = config or load_config()
    space = config.getColorSpace(name)
    if space is None:
        known = ", ".join(cs.getName() for cs in config.getColorSpaces())
        raise InputError(f"unknown colour space {name!r} in OCIO config {config.getName()!r}; known: {known}")
    return space.getName()


def compress_highlights(rgb: np.ndarray, knee: float = HIGHLIGHT_KNEE) -> np.ndarray:
    """Roll encoded values above `knee` smoothly toward 1 (slope 1 at the knee); negatives go to 0.

    Reinhard-style, knee + s*t/(1+t): values far above 1 stay distinct, unlike with tanh.
    rgb: H×W×3 float32, any range; modified in place and returned, now in [0, 1).
    """
    span = 1.0 - knee
    excess = rgb - knee  # branch-free: three times faster than masking 1080p
    np.maximum(excess, 0.0, out=excess)
    excess *= 1.0 / span
    np.divide(excess, excess + 1.0, out=excess)
    excess *= span
    np.clip(rgb, 0.0, knee, out=rgb)
    rgb += excess
    return rgb


def convert(rgb: np.ndarray, source: str, target: str) -> np.ndarray:
    """A plain OCIO conversion of H×W×3 float32 from `source` to `target` (no range handling)."""
    config = load_config()
    processor = config.getProcessor(canonical_name(source, config), canonical_name(target, config))
    out = np.ascontiguousarray(rgb, dtype=np.float32).copy()
    processor.getDefaultCPUProcessor().applyRGB(out)
    return out


class ColourConverter:
    """Converts plates from `source` into the working space; reusable across frames and threads."""

    def __init__(self, source: str, config: OCIO.Config | None = None):
        config = config or load_config()
        self.source = canonical_name(source, config)
        self.target = canonical_name(WORKING_SPACE, config)
        processor = config.getProcessor(self.source, self.target).getOptimizedProcessor(OCIO.OPTIMIZATION_VERY_GOOD)
        self._processor = processor.getDefaultCPUProcessor()
        # Display-encoded sources already live in 0-1: a shoulder would only dull their top end.
        self.rolls_off_highlights = config.getColorSpace(self.source).getEncoding() not in ("sdr-video", "data")
        # A per-channel transform (the usual linear -> sRGB curve) is baked into a table over every
        # half-float value: exact for half plates and ~6x faster than applying OCIO per pixel.
        self._half_table = None
        if self.source != self.target and not processor.hasChannelCrosstalk():
            self._half_table = self._finish(self._apply(half_float_ramp()))[:, 0].copy()

    def _apply(self, rgb: np.ndarray) -> np.ndarray:
        out = np.ascontiguousarray(rgb, dtype=np.float32).copy()
        if self.source != self.target:
            self._processor.applyRGB(out)
        return out

    def _finish(self, rgb: np.ndarray) -> np.ndarray:
        if self.rolls_off_highlights:
            return compress_highlights(rgb)
        return np.clip(rgb, 0.0, 1.0, out=rgb)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """rgb: H×W×3 float in `source`. Returns H×W×3 float32 working-space values in [0, 1).

        With the table, float32 values are first rounded to half (error < 5e-4 after encoding,
        below what the network resolves); NaN and infinities come out as 0 and ~1.
        """
        if self._half_table is not None:
            with np.errstate(over="ignore"):
                half = np.ascontiguousarray(rgb, dtype=np.float16)
            return self._half_table[half.view(np.uint16)]
        return self._finish(self._apply(rgb))


def half_float_ramp() -> np.ndarray:
    """Every half-float bit pattern as a 65536×3 float32 ramp (NaN -> 0, ±inf -> ±65504), in bit order."""
    values = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    values = np.nan_to_num(values, nan=0.0, posinf=65504.0, neginf=-65504.0)
    return np.repeat(values[:, None], 3, axis=1)
