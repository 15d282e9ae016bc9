"""`adamatte demo`: the bundled judo clip, rendered with the bundled weights, and a contact sheet."""

from __future__ import annotations

import os
from importlib import resources

import cv2
import numpy as np

from adamatte.io.colour import convert
from adamatte.io.image import read_image, read_matte, write_image
from adamatte.matting.trimap import read_labels
from adamatte.video.memory import keyframe_memory, pixel_features, subject_centre
from adamatte.video.plan import RenderPlan, RenderRequest
from adamatte.video.progress import Progress
from adamatte.video.propagate import input_trimap, measure_motion
from adamatte.video.render import RenderSummary, render
from adamatte.video.state import sidecar_path

FIRST_FRAME = 1001
BAND = 10


def clip_dir() -> str:
    return str(resources.files("adamatte") / "demo" / "judo")


def build_plate(folder: str) -> str:
    """The bundled JPEG frames as a scene-linear half EXR plate; returns its pattern."""
    frames = sorted(f for f in os.listdir(os.path.join(clip_dir(), "frames")) if f.endswith(".jpg"))
    pattern = os.path.join(folder, "judo.####.exr")
    for i, name in enumerate(frames):
        target = os.path.join(folder, f"judo.{FIRST_FRAME + i}.exr")
        if not os.path.isfile(target):
            rgb = read_image(os.path.join(clip_dir(), "frames", name))[0][..., :3]
            write_image(target, convert(rgb, "srgb_tx", "lin_rec709_srgb"), ["R", "G", "B"])
    return pattern


def _checker(h: int, w: int, size: int = 16) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    board = np.where(((yy // size) + (xx // size)) % 2 == 0, 0.75, 0.45).astype(np.float32)
    return np.stack([board] * 3, axis=2)


def _grey(x: np.ndarray) -> np.ndarray:
    return np.stack([x] * 3, axis=2)


def contact_sheet(request: RenderRequest, sheet: str, frames: list[int] | None = None, width: int = 320) -> None:
    """Plate | trimap in | adapted trimap | alpha | composite over a checkerboard, one row per frame,
    for a finished render of `request` (frames None: its first, a third in, two thirds in and last).
    The input trimaps are rebuilt exactly as the render built them, keyframe memory included."""
    plan = RenderPlan.from_request(request, check_headers=False)
    sinks = plan.sinks({})
    sink = sinks["alpha"]
    # the adapted trimap when the render wrote it; else the labels it handed on (the sidecar)
    adapted_path, adapted_title = ((sinks["trimap"].path, "adapted trimap") if "trimap" in sinks else
                                   (lambda f: sidecar_path(sink, f), "labels handed on"))
    done = plan.write_frames
    frames = frames or sorted({done[0], done[len(done) // 3], done[2 * len(done) // 3], done[-1]})
    rows = []
    for frame in frames:
        rgb = plan.source.read(frame).rgb
        before = [f for f in plan.chain if f < frame]
        prev_labels, motion, memory, features = None, None, None, None
        if frame not in plan.keyframes:  # from the previous frame's sidecars, as the render did
            prev_labels = read_labels(sidecar_path(sink, before[-1]))
            motion = measure_motion(plan.source.read(before[-1]).rgb, rgb)
            if request.keyframe_memory:
                memory = keyframe_memory(plan.keyframes, lambda f: plan.source.read(f).rgb, frame,
                                         lambda f, *_: read_matte(sidecar_path(sink, f, "alpha")))
                prev_alpha = read_matte(sidecar_path(sink, before[-1], "alpha"))
                features = pixel_features(rgb, subject_centre(prev_alpha, motion.forward))
        trimap_in = input_trimap(frame, rgb, plan.keyframes, prev_labels, motion, memory, features, solved=request.solved)
        adapted = read_matte(adapted_path(frame))
        alpha = read_matte(sink.path(frame))
        comp = rgb * alpha[..., None] + _checker(*alpha.shape) * (1 - alpha[..., None])
        tiles = [rgb, _grey(trimap_in), _grey(adapted), _grey(alpha), comp]
        h = int(round(rgb.shape[0] * width / rgb.shape[1]))
        tiles = [cv2.resize(t, (width, h), interpolation=cv2.INTER_AREA) for t in tiles]
        rows.append((frame, np.concatenate(tiles, axis=1)))
    plan.source.close()
    header = np.zeros((28, rows[0][1].shape[1], 3), np.float32)
    image = (np.clip(np.concatenate([header, *(r for _, r in rows)], axis=0), 0, 1) * 255).astype(np.uint8)
    for i, title in enumerate(("plate", "trimap in", adapted_title, "alpha", "over checkerboard")):
        cv2.putText(image, title, (8 + i * width, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1)
    y = 28
    for frame, row in rows:
        cv2.putText(image, str(frame), (8, y + 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 60), 2)
        y += row.shape[0]
    write_image(sheet, image.astype(np.float32) / 255.0, ["R", "G", "B"], pixel_type="uint8")


def run_demo(output_dir: str = "adamatte-demo", *, weights: str | None = None, device: str = "auto",
             progress: str = "bar") -> tuple[RenderSummary, str]:
    """Build the plate, render it from the first-frame mask, and draw the contact sheet."""
    plate = build_plate(os.path.join(output_dir, "plate"))
    mask = os.path.join(clip_dir(), "mask.png")
    output = os.path.join(output_dir, "matte", "judo_matte.####.exr")
    request = RenderRequest(input=plate, output=output, trimap=[f"{mask}@{FIRST_FRAME}"], band=BAND, write="alpha,trimap",
                            weights=weights or "", device=device, progress=progress, resume=True)
    summary = render(request, progress=Progress(progress))
    sheet = os.path.join(output_dir, "contact_sheet.png")
    contact_sheet(request, sheet)
    return summary, sheet

