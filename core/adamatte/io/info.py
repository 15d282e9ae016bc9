"""What `adamatte info` reports about a plate: range, gaps, windows, channels, colour."""

from __future__ import annotations

from typing import Any

from adamatte.io.sequence import format_frame_range
from adamatte.io.source import FrameSource


def describe(source: FrameSource) -> dict[str, Any]:
    """A JSON-ready description of `source`; reads headers only."""
    info = source.info
    converter = source.converter
    return {
        "input": source.display_name,
        "kind": "video" if source.video is not None else ("still" if source.is_still else "sequence"),
        "first_frame": source.frames[0],
        "last_frame": source.frames[-1],
        "frame_count": len(source.frames),
        "frame_range": format_frame_range(source.frames),
        "missing": source.missing,
        "width": info.width,
        "height": info.height,
        "data_window": list(info.data_window),
        "display_window": list(info.display_window),
        "channels": list(info.channels),
        "rgb_channels": source.rgb_channels,
        "pixel_type": info.pixel_type,
        "compression": info.compression,
        "colorspace": converter.source,
        "working_space": converter.target,
        "metadata": {name: str(value) for name, _, value in info.metadata if not name.startswith("oiio:")},
    }


def format_description(d: dict[str, Any]) -> str:
    """`describe`'s result as the aligned text `adamatte info` prints."""
    missing = f"{format_frame_range(d['missing'])} ({len(d['missing'])} frames)" if d["missing"] else "none"
    dw, fw = d["data_window"], d["display_window"]
    rows = [
        ("input", d["input"]),
        ("kind", d["kind"]),
        ("frames", f"{d['frame_range']} ({d['frame_count']} frames)"),
        ("missing", missing),
        ("resolution", f"{d['width']}x{d['height']}"),
        ("data window", f"({dw[0]},{dw[1]}) - ({dw[2]},{dw[3]})"),
        ("display window", f"({fw[0]},{fw[1]}) - ({fw[2]},{fw[3]})" + ("  [overscan]" if dw != fw else "")),
        ("channels", ",".join(d["channels"]) + f"  (plate: {','.join(d['rgb_channels'])})"),
        ("pixel type", d["pixel_type"]),
        ("compression", d["compression"] or "-"),
        ("colour space", f"{d['colorspace']} -> {d['working_space']}"),
    ]
    rows += [(f"  {k}", v) for k, v in sorted(d["metadata"].items())]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
