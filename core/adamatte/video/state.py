"""What a render leaves behind to resume from: two sidecars per finished frame.

    .adamatte/matte.1001.alpha.exr    the alpha as the next frame's temporal prior saw it (half)
    .adamatte/matte.1001.labels.png   the adapted labels, 0/128/255 (written last)

A frame counts as finished when all its outputs and its sidecars exist with readable headers.
--resume, and a farm chunk whose predecessor has finished, continue propagation from the last
finished frame's sidecars (the keyframe memory is rebuilt from the keyframes themselves), so
they reproduce one sequential render exactly.
"""

from __future__ import annotations

import os

import numpy as np

from adamatte.errors import InputError
from adamatte.io.image import read_info, read_matte, write_image
from adamatte.io.sink import FrameSink
from adamatte.matting.trimap import read_labels, write_labels


def sidecar_path(output: FrameSink, frame: int, kind: str = "labels") -> str:
    """Where a finished frame's adapted labels (kind 'labels') or alpha ('alpha') are kept for --resume
    and chunked renders."""
    directory, name = os.path.split(output.path(frame))
    stem = os.path.splitext(name)[0]
    if output.pattern is None:  # one file for all frames (a .mov, a still): number the sidecars
        stem = f"{stem}.{frame}"
    return os.path.join(directory, ".adamatte", f"{stem}.{kind}" + (".png" if kind == "labels" else ".exr"))


def carried_alpha(alpha: np.ndarray) -> np.ndarray:
    """The alpha as the next frame sees it: rounded to half, as its sidecar stores it, so a resumed
    render and a sequential one carry the very same values."""
    return alpha.astype(np.float16).astype(np.float32)


def write_state(sinks: dict[str, FrameSink], frame: int, labels: np.ndarray, alpha: np.ndarray) -> None:
    """The frame's sidecars; the labels last, since their presence marks the frame complete."""
    write_image(sidecar_path(sinks["alpha"], frame, "alpha"), carried_alpha(alpha), ["Y"])
    write_labels(sidecar_path(sinks["alpha"], frame), labels)


def is_finished(sinks: dict[str, FrameSink], frame: int) -> bool:
    """Every output of `frame` and its sidecar exist with a readable header."""
    paths = [sink.path(frame) for sink in sinks.values()] + [sidecar_path(sinks["alpha"], frame, k) for k in ("alpha", "labels")]
    try:
        return all(os.path.isfile(p) and read_info(p) for p in paths)
    except InputError:
        return False


def resume_point(sinks: dict[str, FrameSink], chain: list[int], write_frames: list[int]
                 ) -> tuple[list[int], np.ndarray | None, np.ndarray | None, int | None]:
    """(frames still to run, labels and carried alpha of the last finished frame, that frame) for --resume.

    Besides the range's own finished frames, the frame just before the range counts, so a
    farm chunk whose predecessor has finished skips the warm-up from the keyframe.
    """
    done = None
    before = [f for f in chain if f < write_frames[0]]
    if before and is_finished(sinks, before[-1]):  # an earlier chunk finished the frame before ours: start warm
        done = before[-1]
    for frame in write_frames:
        if not is_finished(sinks, frame):
            break
        done = frame
    if done is None:
        return chain, None, None, None
    sink = sinks["alpha"]
    return [f for f in chain if f > done], read_labels(sidecar_path(sink, done)), read_matte(sidecar_path(sink, done, "alpha")), done
