"""Shared test helpers: real files written with OpenImageIO, never mocks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def write_exr(
    path: str | os.PathLike,
    pixels: np.ndarray,
    channels: tuple[str, ...] = ("R", "G", "B"),
    *,
    pixel_type: str = "half",
    origin: tuple[int, int] = (0, 0),
    display: tuple[int, int, int, int] | None = None,
    attributes: dict | None = None,
) -> None:
    """Write an EXR with raw OIIO. display = (x, y, width, height) of the display window."""
    h, w, c = pixels.shape
    spec = oiio.ImageSpec(w, h, c, pixel_type)
    spec.channelnames = channels
    spec.x, spec.y = origin
    if display:
        spec.full_x, spec.full_y, spec.full_width, spec.full_height = display
    for name, value in (attributes or {}).items():
        if isinstance(value, tuple):
            spec.attribute(name, oiio.TypeDesc(value[0]), value[1])
        else:
            spec.attribute(name, value)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), out.geterror()
    assert out.write_image(np.ascontiguousarray(pixels)), out.geterror()
    out.close()


def write_sequence(directory: Path, frames, size=(48, 32), name="shot", pad=4, channels=("R", "G", "B")) -> list[Path]:
    """A plate of distinct frames: frame f has value (f % 100) / 100 in R, a gradient in G."""
    directory.mkdir(parents=True, exist_ok=True)
    w, h = size
    paths = []
    for f in frames:
        px = np.zeros((h, w, len(channels)), np.float32)
        px[..., 0] = (f % 100) / 100.0
        if len(channels) > 1:
            px[..., 1] = np.linspace(0, 1, w)[None, :]
        p = directory / f"{name}.{f:0{pad}d}.exr"
        write_exr(p, px, channels)
        paths.append(p)
    return paths


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    """shot.1001-1010.exr in tmp_path/plate; returns the folder."""
    write_sequence(tmp_path / "plate", range(1001, 1011))
    return tmp_path / "plate"


def needs_shared(*parts: str) -> Path:
    """The path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path
