"""What `adamatte info` reports about a plate or a matte: range, gaps, windows, channels, colour."""

from __future__ import annotations

from typing import Any

from adamatte.io.image import timecode_text
from adamatte.io.sequence import format_frame_range
from adamatte.io.source import FrameSource


def window_relation(data: list[int], display: list[int]) -> str:
    """How the data window (x0, y0, x1, y1) sits against the display window: '', 'crop' (inside it),
    'overscan' (beyond it all round) or 'offset' (partly outside)."""
    if data == display:
        return ""
    if data[0] >= display[0] and data[1] >= display[1] and data[2] <= display[2] and data[3] <= display[3]:
        return "crop"
    if data[0] <= display[0] and data[1] <= display[1] and data[2] >= display[2] and data[3] >= display[3]:
        return "overscan"
    return "offset"


def describe(source: FrameSource) -> dict[str, Any]:
    """A JSON-ready description of `source`; reads headers only."""
    info = source.info
    converter = source.converter
    kind = "video" if source.video is not None else ("still" if source.is_still else "sequence")
    metadata = {name: (timecode_text(value) if name == "smpte:TimeCode" else str(value))
                for name, _, value in info.metadata if not name.startswith("oiio:")}
    return {
        "input": source.display_name,
        "kind": kind if source.matte_channel is None else f"matte {kind}",
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
        "matte_channel": source.matte_channel,
        "pixel_type": info.pixel_type,
        "compression": info.compression,
        "colorspace": converter.source if source.matte_channel is None else None,
        "working_space": converter.target if source.matte_channel is None else None,
        "window": window_relation(list(info.data_window), list(info.display_window)),
        "metadata": metadata,
    }


WINDOW_WORDS = {"crop": "crop: the data window lies inside the display window",
                "overscan": "overscan: the data window reaches beyond the display window",
                "offset": "the data window lies partly outside the display window"}


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
        ("display window", f"({fw[0]},{fw[1]}) - ({fw[2]},{fw[3]})" + (f"  [{WINDOW_WORDS[d['window']]}]" if d["window"] else "")),
        ("channels", ",".join(d["channels"]) + (f"  (matte: {d['matte_channel']})" if d["matte_channel"]
                                                else f"  (plate: {','.join(d['rgb_channels'])})")),
        ("pixel type", d["pixel_type"]),
        ("compression", d["compression"] or "-"),
        ("colour space", f"{d['colorspace']} -> {d['working_space']}" if d["colorspace"] else "- (a matte carries no colour)"),
    ]
    rows += [(f"  {k}", v) for k, v in sorted(d["metadata"].items())]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
