"""What a render leaves behind to resume from: one sidecar of adapted labels per finished frame.

    .adamatte/matte.1001.labels.png   beside matte.1001.exr

A frame counts as finished when all its outputs and its sidecar exist with readable headers
(the sidecar is written last). --resume, and a farm chunk whose predecessor has finished,
continue propagation from the last finished frame's sidecar, so they reproduce one
sequential render exactly.
"""

from __future__ import annotations

import os

import numpy as np

from adamatte.errors import InputError
from adamatte.io.image import read_info
from adamatte.io.sink import FrameSink
from adamatte.matting.trimap import read_labels


def sidecar_path(output: FrameSink, frame: int) -> str:
    """Where the adapted trimap of a finished frame is kept for --resume and chunked renders."""
    directory, name = os.path.split(output.path(frame))
    stem = os.path.splitext(name)[0]
    if output.pattern is None:  # one file for all frames (a .mov, a still): number the sidecars
        stem = f"{stem}.{frame}"
    return os.path.join(directory, ".adamatte", stem + ".labels.png")


def is_finished(sinks: dict[str, FrameSink], frame: int) -> bool:
    """Every output of `frame` and its sidecar exist with a readable header."""
    paths = [sink.path(frame) for sink in sinks.values()] + [sidecar_path(sinks["alpha"], frame)]
    try:
        return all(os.path.isfile(p) and read_info(p) for p in paths)
    except InputError:
        return False


def resume_point(sinks: dict[str, FrameSink], chain: list[int], write_frames: list[int]) -> tuple[list[int], np.ndarray | None, int | None]:
    """(frames still to run, labels of the last finished frame, that frame) for --resume.

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
        return chain, None, None
    return [f for f in chain if f > done], read_labels(sidecar_path(sinks["alpha"], done)), done
