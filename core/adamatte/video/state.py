"""What a render leaves behind to resume from: two sidecars per finished frame.

    .adamatte/matte.1001.alpha.exr    the alpha as the next frame's temporal prior saw it (half),
                                      with the frame's fingerprint and settings in its header
    .adamatte/matte.1001.plate.png    the background plate after the frame (video.plate; with the keyframe memory)
    .adamatte/matte.1001.labels.png   the labels handed on to the next frame, 0/128/255 (written last;
                                      video.propagate.carried_labels)

A frame counts as finished when all its outputs and its sidecars exist with readable headers and
its fingerprint is the one this render would give it: a hash of the weights, every setting that
changes pixels, and the keyframe trimaps (their bytes) at or before it. --resume, and a farm chunk
whose predecessor has finished, continue propagation from the last finished frame's sidecars (the
keyframe memory is rebuilt from the keyframes themselves), so they reproduce one sequential render
exactly (a keyframe starts a fresh plate, so a chunk that warms up from one has the plate a
sequential render had); frames made with other settings are rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np

from adamatte.errors import InputError
from adamatte.io.hashing import sha256_of
from adamatte.io.image import read_image, read_info, read_matte, write_image
from adamatte.io.sink import FrameSink
from adamatte.matting.trimap import read_labels, write_labels
from adamatte.video.plate import BackgroundPlate


SIDECAR_EXTENSIONS = {"labels": ".png", "alpha": ".exr", "plate": ".png", "lock": ""}


def sidecar_path(output: FrameSink, frame: int, kind: str = "labels") -> str:
    """Where a finished frame's carried labels (kind 'labels'), alpha ('alpha') or background plate ('plate') are kept for --resume
    and chunked renders, and where a render's claim on the frame ('lock', video.lock) lives."""
    directory, name = os.path.split(output.path(frame))
    stem = os.path.splitext(name)[0]
    if output.pattern is None:  # one file for all frames (a .mov, a still): number the sidecars
        stem = f"{stem}.{frame}"
    return os.path.join(directory, ".adamatte", f"{stem}.{kind}" + SIDECAR_EXTENSIONS[kind])


def carried_alpha(alpha: np.ndarray) -> np.ndarray:
    """The alpha as the next frame sees it: rounded to half, as its sidecar stores it, so a resumed
    render and a sequential one carry the very same values."""
    return alpha.astype(np.float16).astype(np.float32)


# the render settings that change a frame's pixels (device does not: a retry may land on another machine)
PIXEL_SETTINGS = ("band", "propagation", "keyframe_memory", "temporal", "precision", "respect_trimap", "drawn_band", "allow_degenerate",
                  "refine", "refine_prior", "max_megapixels", "analysis_scale", "input_colorspace", "layer", "missing", "alpha_channel", "layout",
                  "compression", "write")


# Bumped whenever the same settings make different pixels, so that --resume re-renders frames from before:
# 2, the background plate (video.plate); 3, the temporal prior pulls only where it agrees with the network;
# 4, the plate's tighter colour match; 5, the band grows further into background (propagate.BACKGROUND_EXTRA);
# 6, frames wider than propagate.DECAY_MAX_WIDTH ask the memory about the decay on a grid; 7, a tight drawn band is kept
# whole and solved with mixed (--drawn-band auto, --refine auto); 8, a kept drawn trimap's classes stand as drawn;
# 9, frames above 0.6 MP keep a wider drawn band (matting.engine.TIGHT_BAND_PIXELS); 10, --precision auto runs the network
# in bf16 on CPUs with bf16 hardware; 11, --refine auto solves the network's adapted band with mixed, in KNN's band;
# 12, mixed's KNN links are its nonlocal pass alone; 13, the veto punches no hole inside solid foreground, the band
# solve iterates in float32, the memory searches approximately; 14, the band solve's conjugate gradients run in torch
# on the CPU too (refine.solve_cg); 15, what the veto's slack rule held off is solved, pulled toward background;
# 16, the carried alpha pulls the band solve wherever it was solid, agreeing with the network or not; 17, the band
# systems are built by compiled loops (matting.closed_form, refine._knn_rows), equal to ~1e-10; 18, it holds what was
# solid right up to its edge, 40x as hard, where the network still calls it foreground (matting.engine.held_solid).
METHOD = 18


class Fingerprints:
    """What made each frame's pixels: the weights' hash, the PIXEL_SETTINGS of `request` and the
    keyframe trimaps (file hashes) at or before the frame, hashed into a frame's fingerprint."""

    def __init__(self, request: Any, weights_hash: str, keyframe_paths: dict[int, str]):
        self.settings = {name: getattr(request, name) for name in PIXEL_SETTINGS} | {"weights": weights_hash, "method": METHOD}
        self.keyframes = {frame: sha256_of(path) for frame, path in sorted(keyframe_paths.items())}

    def settings_of(self, frame: int) -> dict[str, Any]:
        return self.settings | {"keyframes": {str(f): h for f, h in self.keyframes.items() if f <= frame}}

    def of(self, frame: int) -> str:
        return hashlib.sha256(json.dumps(self.settings_of(frame), sort_keys=True).encode()).hexdigest()[:32]


def write_state(sinks: dict[str, FrameSink], frame: int, labels: np.ndarray, alpha: np.ndarray, fingerprints: Fingerprints,
                plate: np.ndarray | None = None) -> None:
    """The frame's sidecars; the labels last, since their presence marks the frame complete.
    plate: BackgroundPlate.to_image() after the frame (H×W×4 uint8), or None (no keyframe memory)."""
    metadata = {"adamatte:fingerprint": fingerprints.of(frame), "adamatte:settings": json.dumps(fingerprints.settings_of(frame))}
    write_image(sidecar_path(sinks["alpha"], frame, "alpha"), carried_alpha(alpha), ["Y"], metadata=metadata)
    if plate is not None:
        write_image(sidecar_path(sinks["alpha"], frame, "plate"), plate.astype(np.float32) / 255.0, ["R", "G", "B", "A"],
                    pixel_type="uint8")
    write_labels(sidecar_path(sinks["alpha"], frame), labels)


def finished_with(sinks: dict[str, FrameSink], frame: int) -> dict[str, Any] | None:
    """The settings a finished frame was made with ({} for a frame from before fingerprints), or None
    when it is not finished: an output or sidecar is missing or has an unreadable header."""
    paths = [sink.path(frame) for sink in sinks.values()] + [sidecar_path(sinks["alpha"], frame, k) for k in ("labels", "alpha")]
    try:
        if not all(os.path.isfile(p) for p in paths):
            return None
        infos = [read_info(p) for p in paths]
    except InputError:
        return None
    stored = infos[-1].attribute("adamatte:settings")
    try:
        return json.loads(stored) if stored else {}
    except ValueError:
        return {}


def is_finished(sinks: dict[str, FrameSink], frame: int, fingerprints: Fingerprints) -> bool:
    """Every output of `frame` and its sidecars exist with readable headers, made with these settings."""
    return finished_with(sinks, frame) == fingerprints.settings_of(frame)


def changed_settings(stored: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """The names of what differs between the settings a frame was made with and those wanted."""
    if not stored:
        return ["made before fingerprints"]
    return sorted("an older adamatte's method" if k == "method" else k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))


def resume_point(sinks: dict[str, FrameSink], chain: list[int], write_frames: list[int], fingerprints: Fingerprints
                 ) -> tuple[list[int], np.ndarray | None, np.ndarray | None, BackgroundPlate, int | None, dict[int, list[str]]]:
    """For --resume: (frames still to run, labels and carried alpha of the last finished frame, the background
    plate after it (empty without one), that frame, {frame: what changed} for the finished frames of the
    range that were made with other settings).

    Besides the range's own finished frames, the frame just before the range counts, so a
    farm chunk whose predecessor has finished skips the warm-up from the keyframe.
    """
    done = None
    before = [f for f in chain if f < write_frames[0]]
    if before and is_finished(sinks, before[-1], fingerprints):  # an earlier chunk finished the frame before ours: start warm
        done = before[-1]
    made_with = {frame: finished_with(sinks, frame) for frame in write_frames}
    stale = {frame: changed_settings(stored, fingerprints.settings_of(frame)) for frame, stored in made_with.items()
             if stored is not None and stored != fingerprints.settings_of(frame)}
    for frame in write_frames:
        if made_with[frame] is None or frame in stale:
            break
        done = frame
    if done is None:
        return chain, None, None, BackgroundPlate(), None, stale
    sink = sinks["alpha"]
    plate_path = sidecar_path(sink, done, "plate")
    plate = BackgroundPlate.from_image(read_image(plate_path)[0]) if os.path.isfile(plate_path) else BackgroundPlate()
    return ([f for f in chain if f > done], read_labels(sidecar_path(sink, done)), read_matte(sidecar_path(sink, done, "alpha")),
            plate, done, stale)
