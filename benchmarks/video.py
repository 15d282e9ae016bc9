"""Video matting against per-frame closed-form matting, on a clip with exact ground truth.

A held-out alphamatting.com foreground (its colours estimated, never trained on) moves along a
smooth path over the real `bedroom` clip, 960x540, 30 frames: the composite has exact ground
truth alpha. Both methods start from the same first-frame trimap only:
  - adamatte render: the network, trimaps propagated along optical flow, with its default
    KNN refinement, with --refine closed-form, and with --refine none (the network alone);
  - closed-form (pymatting) per frame, its trimap propagated from the previous alpha by erode/dilate.
Prints MAD x1e3, dtSSD x1e2, drift (MAD of the last 5 frames / the first 5) and s/frame side by
side, and each render's end-to-end time against its engine run alone, in a plain loop over the
same preloaded frames (target <= 1.15x).

    python benchmarks/video.py [--weights lite] [--frames 30] [--skip-closed-form]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import cv2
import numpy as np

from adamatte.io import read_image, read_matte, write_image
from adamatte.matting.foreground import estimate_foreground
from adamatte.scoring.evaluate_video import clip_means, score_sequence
from adamatte.video.progress import Progress
from adamatte.video.propagate import measure_motion, propagate_trimap
from adamatte.video.render import Renderer, RenderRequest, read_labels, sidecar_path

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
W, H = 960, 540


def band_trimap(alpha: np.ndarray, radius: int = 10) -> np.ndarray:
    """Trimap from an alpha: eroded sure-foreground and sure-background, the rest unknown."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    fg = cv2.erode((alpha > 0.95).astype(np.uint8), kernel, iterations=1)
    bg = cv2.erode((alpha < 0.05).astype(np.uint8), kernel, iterations=1)
    trimap = np.full(alpha.shape, 0.5, np.float32)
    trimap[fg == 1], trimap[bg == 1] = 1.0, 0.0
    return trimap


def make_clip(folder: str, frames: int, item: str) -> dict[int, np.ndarray]:
    """Writes plate.####.png and the first frame's trimap key.png; returns the exact alpha per frame."""
    image = read_image(os.path.join(SHARED, "alphamatting_train", "input", f"{item}.png"))[0][..., :3]
    alpha = read_matte(os.path.join(SHARED, "alphamatting_train", "alpha", f"{item}.png"))
    fg, _ = estimate_foreground(image, alpha)
    scale = 0.8 * H / fg.shape[0]
    fg = cv2.resize(fg, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(alpha, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    fh, fw = alpha.shape
    backgrounds = sorted(os.listdir(os.path.join(SHARED, "video", "bedroom", "frames")))
    truth = {}
    for i in range(frames):
        bg = cv2.resize(read_image(os.path.join(SHARED, "video", "bedroom", "frames", backgrounds[i]))[0][..., :3], (W, H))
        x = int(40 + (W - fw - 80) * (0.5 - 0.5 * np.cos(np.pi * i / max(frames - 1, 1))))  # eases across the frame
        y = int((H - fh) / 2 + 20 * np.sin(2 * np.pi * i / frames))
        a = np.zeros((H, W), np.float32)
        f = np.zeros((H, W, 3), np.float32)
        a[y:y + fh, x:x + fw], f[y:y + fh, x:x + fw] = alpha, fg
        plate = a[..., None] * f + (1 - a[..., None]) * bg
        write_image(os.path.join(folder, f"plate.{1001 + i}.png"), plate, ["R", "G", "B"], pixel_type="uint8")
        truth[1001 + i] = a
    write_image(os.path.join(folder, "key.png"), band_trimap(truth[1001]), ["Y"], pixel_type="uint8")
    return truth


def render_clip(folder: str, refine: str, weights: str) -> tuple[Renderer, float]:
    """Renders make_clip's plates from its key.png into out-REFINE/; the renderer and its seconds."""
    request = RenderRequest(input=os.path.join(folder, "plate.####.png"),
                            output=os.path.join(folder, f"out-{refine}", "matte.####.exr"),
                            trimap=[os.path.join(folder, "key.png") + "@1001"], weights=weights, refine=refine,
                            progress="none")
    renderer = Renderer(request)
    return renderer, renderer.run(Progress("none")).seconds


def drift(rows: list[dict]) -> float:
    first, last = np.mean([r["mad"] for r in rows[:5]]), np.mean([r["mad"] for r in rows[-5:]])
    return float(last / max(first, 1e-9))


def closed_form(folder: str, truth: dict[int, np.ndarray]) -> tuple[dict[int, np.ndarray], float]:
    from pymatting import estimate_alpha_cf

    out, trimap, seconds = {}, band_trimap(truth[1001]), 0.0
    for frame in sorted(truth):
        image = read_image(os.path.join(folder, f"plate.{frame}.png"))[0][..., :3].astype(np.float64)
        t0 = time.perf_counter()
        out[frame] = np.clip(estimate_alpha_cf(image, trimap.astype(np.float64)), 0, 1).astype(np.float32)
        seconds += time.perf_counter() - t0
        trimap = band_trimap(out[frame])
    return out, seconds / len(truth)


def engine_inputs(renderer: Renderer, frames: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """What the render's engine was given on each frame: (plate, input trimap), the
    plates preloaded and each propagated trimap rebuilt from the previous frame's sidecar
    exactly as the render built it."""
    sink, plates = renderer.sinks["alpha"], {f: renderer.source.read(f).rgb for f in frames}
    inputs = []
    for f in frames:
        if f in renderer.keyframes:
            trimap = renderer.keyframes.load(f, plates[f].shape[:2])
        else:
            trimap = propagate_trimap(read_labels(sidecar_path(sink, f - 1)), measure_motion(plates[f - 1], plates[f]))
        inputs.append((plates[f], trimap))
    return inputs


def engine_alone(renderer: Renderer, frames: list[int]) -> float:
    """Seconds the render's engine takes on the same frames and the same input trimaps with
    nothing else running (the inputs are rebuilt untimed)."""
    inputs = engine_inputs(renderer, frames)
    t0 = time.perf_counter()
    for image, trimap in inputs:
        renderer.engine.matte(image, trimap)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="", help="weights file or bundled name (default: the bundled default)")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--item", default="GT07", help="a held-out alphamatting.com item to use as the foreground")
    parser.add_argument("--skip-closed-form", action="store_true")
    args = parser.parse_args()
    if not os.path.isdir(SHARED):
        raise SystemExit(f"this benchmark needs the shared data at {SHARED}")
    with tempfile.TemporaryDirectory() as tmp:
        truth = make_clip(tmp, args.frames, args.item)
        results = []
        for name, refine in (("adamatte", "knn"), ("--refine c-f", "closed-form"), ("--refine none", "none")):  # the default first
            renderer, seconds = render_clip(tmp, refine, args.weights)
            alone = engine_alone(renderer, sorted(truth))
            rows = score_sequence({f: read_matte(os.path.join(tmp, f"out-{refine}", f"matte.{f}.exr")) for f in truth}, truth)
            results.append((name, clip_means(rows), drift(rows), seconds / len(truth), (seconds, alone)))
        if not args.skip_closed_form:
            cf, cf_seconds = closed_form(tmp, truth)
            cf_rows = score_sequence(cf, truth)
            results.append(("closed-form", clip_means(cf_rows), drift(cf_rows), cf_seconds, None))
    print(f"moving ground-truth clip: {args.item} over bedroom, {W}x{H}, {args.frames} frames, first-frame trimap only")
    print(f"{'method':<16}{'MAD e3':>9}{'dtSSD e2':>10}{'drift':>8}{'s/frame':>9}")
    for name, means, d, s, _ in results:
        print(f"{name:<16}{means['mad']:9.2f}{means['dtssd']:10.3f}{d:8.2f}{s:9.2f}")
    if not args.skip_closed_form:
        (_, ours_m, *_), (_, cf_m, *_) = results[0], results[-1]
        print(f"ratios adamatte/closed-form: MAD {ours_m['mad'] / cf_m['mad']:.2f}, dtSSD {ours_m['dtssd'] / cf_m['dtssd']:.2f} (< 1: adamatte better)")
    for name, *_, times in results:
        if times is not None:  # the engine: the network, plus the refinement where it runs
            total, alone = times
            print(f"{name}: render end-to-end {total:.1f} s vs the engine alone on the same frames {alone:.1f} s: "
                  f"{total / alone:.2f}x (target <= 1.15x)")


if __name__ == "__main__":
    main()
