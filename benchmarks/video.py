"""Video matting on clips with exact ground truth and on real footage, every row in one run.

Clips with ground truth (alphamatting.com foregrounds, colours estimated, composited; never the
weights' validation items for the distractor, which is built from training foregrounds only):
  - gt07: the held-out GT07 moves along a smooth path over the real `bedroom` clip, 960x540;
  - distractor: the training foreground GT14 sways in front of the real `judo` footage (people in
    the background) while a second training foreground, GT20, enters after the first frame and
    passes behind it, crossing its band. The truth is GT14's alpha alone.
Every render starts from a first-frame trimap only. Rows: the default render (keyframe memory and
temporal prior), --no-keyframe-memory, --temporal 0, neither (propagation alone: the default before
them), the network alone (--refine none), and per-frame closed-form (pymatting, its trimap
propagated from the previous alpha by erode/dilate). Columns: MAD x1e3, dtSSD x1e2, drift (MAD of
the last 5 frames / the first 5), leak % (alpha farther than 16 px from the true matte, as a share
of its mass; mean, last frame, worst frame) and s/frame.

Real footage without ground truth, each from a first-frame mask: `judo` (its bundled mask,
--band 10 as in the demo), `bedroom` and `cutie` (rough roto polygons, below, --band 14). The foreground area per frame
against the keyframe's, and the drift warnings raised, for the default, --no-keyframe-memory and
neither; --sheet writes their contact sheets.

    python benchmarks/video.py [--weights lite] [--clips gt07,distractor,judo,bedroom,cutie] [--skip-closed-form] [--sheet DIR]
                               [--rows default,no-memory,no-temporal,neither,network]
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
from adamatte.matting.morphology import disk
from adamatte.scoring.evaluate_video import clip_means, score_sequence
from adamatte.demo import build_plate, clip_dir, contact_sheet
from adamatte.video.plan import RenderRequest
from adamatte.video.progress import Progress
from adamatte.video.render import Renderer

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
W, H = 960, 540


def band_trimap(alpha: np.ndarray, radius: int = 10) -> np.ndarray:
    """Trimap from an alpha: eroded sure-foreground and sure-background, the rest unknown."""
    kernel = disk(radius)
    fg = cv2.erode((alpha > 0.95).astype(np.uint8), kernel, iterations=1)
    bg = cv2.erode((alpha < 0.05).astype(np.uint8), kernel, iterations=1)
    trimap = np.full(alpha.shape, 0.5, np.float32)
    trimap[fg == 1], trimap[bg == 1] = 1.0, 0.0
    return trimap


def _foreground(item: str, height: int) -> tuple[np.ndarray, np.ndarray]:
    """An alphamatting.com item's estimated clean foreground and alpha, scaled to `height` px."""
    image = read_image(os.path.join(SHARED, "alphamatting_train", "input", f"{item}.png"))[0][..., :3]
    alpha = read_matte(os.path.join(SHARED, "alphamatting_train", "alpha", f"{item}.png"))
    fg, _ = estimate_foreground(image, alpha)
    scale = height / fg.shape[0]
    return (cv2.resize(fg, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA),
            cv2.resize(alpha, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))


def _place(fg: np.ndarray, alpha: np.ndarray, x: int, y: int, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """fg and alpha pasted into a frame of `size` (W, H) at (x, y), clipped at its edges."""
    w, h = size
    a, f = np.zeros((h, w), np.float32), np.zeros((h, w, 3), np.float32)
    fh, fw = alpha.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + fw, w), min(y + fh, h)
    if x1 > x0 and y1 > y0:
        a[y0:y1, x0:x1] = alpha[y0 - y:y1 - y, x0 - x:x1 - x]
        f[y0:y1, x0:x1] = fg[y0 - y:y1 - y, x0 - x:x1 - x]
    return f, a


def _write_clip(folder: str, plates: list[np.ndarray], truth: list[np.ndarray]) -> dict[int, np.ndarray]:
    for i, plate in enumerate(plates):
        write_image(os.path.join(folder, f"plate.{1001 + i}.png"), plate, ["R", "G", "B"], pixel_type="uint8")
    write_image(os.path.join(folder, "key.png"), band_trimap(truth[0]), ["Y"], pixel_type="uint8")
    return {1001 + i: a for i, a in enumerate(truth)}


def make_gt07_clip(folder: str, frames: int, item: str = "GT07") -> dict[int, np.ndarray]:
    """`item` eases across the bedroom clip (960x540); writes plate.####.png and key.png, returns the truth."""
    fg, alpha = _foreground(item, int(0.8 * H))
    fh, fw = alpha.shape
    backgrounds = sorted(os.listdir(os.path.join(SHARED, "video", "bedroom", "frames")))
    plates, truth = [], []
    for i in range(frames):
        bg = cv2.resize(read_image(os.path.join(SHARED, "video", "bedroom", "frames", backgrounds[i]))[0][..., :3], (W, H))
        x = int(40 + (W - fw - 80) * (0.5 - 0.5 * np.cos(np.pi * i / max(frames - 1, 1))))  # eases across the frame
        y = int((H - fh) / 2 + 20 * np.sin(2 * np.pi * i / frames))
        f, a = _place(fg, alpha, x, y, (W, H))
        plates.append(a[..., None] * f + (1 - a[..., None]) * bg)
        truth.append(a)
    return _write_clip(folder, plates, truth)


def make_distractor_clip(folder: str, frames: int) -> dict[int, np.ndarray]:
    """GT14 sways in front of the judo footage (854x480, played back and forth) while GT20 enters from
    the right after frame 1 and passes behind it; the truth is GT14's alpha alone."""
    names = sorted(os.listdir(os.path.join(SHARED, "video", "judo", "frames")))
    order = names + names[-2:0:-1]  # back and forth
    first = read_image(os.path.join(SHARED, "video", "judo", "frames", names[0]))[0]
    size = (first.shape[1], first.shape[0])
    subject, subject_alpha = _foreground("GT14", int(0.75 * size[1]))
    other, other_alpha = _foreground("GT20", int(0.45 * size[1]))
    plates, truth = [], []
    for i in range(frames):
        bg = read_image(os.path.join(SHARED, "video", "judo", "frames", order[i % len(order)]))[0][..., :3]
        sx = int(size[0] * 0.3 + 30 * np.sin(2 * np.pi * i / 16))  # sways
        f1, a1 = _place(subject, subject_alpha, sx, size[1] - subject_alpha.shape[0], size)
        ox = size[0] + 10 - int((i - 1) * (size[0] * 0.9) / max(frames - 2, 1)) if i >= 1 else 10 * size[0]
        f2, a2 = _place(other, other_alpha, ox, int(size[1] * 0.3), size)
        behind = a2[..., None] * f2 + (1 - a2[..., None]) * bg
        plates.append(a1[..., None] * f1 + (1 - a1[..., None]) * behind)
        truth.append(a1)
    return _write_clip(folder, plates, truth)


METHODS = (  # (row, output folder tag, render settings)
    ("default (memory, temporal prior)", "default", {}),
    ("--no-keyframe-memory", "no-memory", {"keyframe_memory": False}),
    ("--temporal 0", "no-temporal", {"temporal": 0.0}),
    ("neither (propagation alone)", "neither", {"keyframe_memory": False, "temporal": 0.0}),
    ("--refine none", "network", {"refine": "none"}),
)
FOOTAGE_ROWS = (METHODS[0], METHODS[1], METHODS[3])

# rough first-frame roto polygons (x, y px) for the footage that ships without masks
ROTO = {
    "bedroom": [[(380, 5), (410, 0), (440, 20), (455, 45), (440, 80), (440, 110), (470, 160), (515, 205), (510, 222), (480, 200),
                 (445, 160), (450, 260), (440, 280), (430, 350), (415, 365), (400, 330), (395, 300), (385, 395), (365, 395),
                 (365, 300), (345, 260), (350, 240), (330, 245), (312, 180), (345, 120), (360, 100), (365, 40)],  # the girl
                [(240, 135), (285, 145), (292, 190), (270, 205), (275, 260), (265, 290), (270, 330), (278, 385), (265, 400),
                 (150, 400), (175, 370), (185, 330), (175, 320), (185, 230), (210, 205), (235, 195), (230, 160)]],  # the boy
    "cutie": [[(262, 98), (290, 105), (300, 130), (298, 180), (290, 200), (330, 215), (350, 245), (358, 300), (355, 340),
               (340, 360), (350, 480), (160, 480), (158, 330), (165, 260), (190, 220), (240, 200), (238, 170), (232, 140),
               (240, 110)]],  # the man in the coat
}


def render_clip(folder: str, name: str, settings: dict, weights: str, trimap: str = "key.png@1001") -> tuple[Renderer, float, list[str]]:
    """Renders the plates in FOLDER into out-NAME/ with SETTINGS; the renderer, its seconds and its warnings."""
    path, _, frame = trimap.rpartition("@")
    request = RenderRequest(input=os.path.join(folder, "plate.####.png"), output=os.path.join(folder, f"out-{name}", "matte.####.exr"),
                            trimap=[os.path.join(folder, path) + "@" + frame], weights=weights, progress="none", **settings)
    renderer = Renderer(request)
    summary = renderer.run(Progress("none"))
    return renderer, summary.seconds, summary.warnings


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


def score_clip(name: str, folder: str, truth: dict[int, np.ndarray], weights: str, closed: bool, methods=METHODS) -> list[tuple]:
    """Every row of `methods` (and per-frame closed-form) on one clip: (row, means, drift, leak stats, s/frame)."""
    results = []
    for row, tag, settings in methods:
        _, seconds, _ = render_clip(folder, tag, settings, weights)
        rows = score_sequence({f: read_matte(os.path.join(folder, f"out-{tag}", f"matte.{f}.exr")) for f in truth}, truth)
        leaks = [r["leak"] for r in rows]
        results.append((row, clip_means(rows), drift(rows), (np.mean(leaks), leaks[-1], max(leaks)), seconds / len(truth)))
    if closed:
        cf, cf_seconds = closed_form(folder, truth)
        rows = score_sequence(cf, truth)
        leaks = [r["leak"] for r in rows]
        results.append(("per-frame closed-form", clip_means(rows), drift(rows), (np.mean(leaks), leaks[-1], max(leaks)), cf_seconds))
    print(f"\n{name}: {len(truth)} frames, first-frame trimap only")
    print("| method | MAD e3 | dtSSD e2 | drift | leak % mean / last / worst | s/frame |\n| --- | --- | --- | --- | --- | --- |")
    for row, means, d, (lm, ll, lw), s in results:
        print(f"| {row} | {means['mad']:.2f} | {means['dtssd']:.2f} | {d:.2f} | {lm:.2f} / {ll:.2f} / {lw:.2f} | {s:.2f} |")
    base = next((r for r in results if r[0] == METHODS[3][0]), None)  # neither: propagation alone
    compared = {m[0] for m in METHODS[:3]}  # the default and each of its parts left out
    for row, means, *_, s in (r for r in results if base is not None and r[0] in compared):
        print(f"{row} / propagation alone: MAD {means['mad'] / base[1]['mad']:.2f}, dtSSD {means['dtssd'] / base[1]['dtssd']:.2f}, "
              f"s/frame {s / base[4]:.2f}")
    return results


def footage(name: str, folder: str, frames: int, weights: str, sheet_dir: str | None, rows=FOOTAGE_ROWS) -> None:
    """Real footage from its first-frame mask: foreground area per frame / the keyframe's, and warnings."""
    mask = os.path.join(folder, "mask.png")
    if name == "judo":
        plate, first = build_plate(os.path.join(folder, "plate")), 1001
        mask = os.path.join(clip_dir(), "mask.png")
    elif name == "bedroom":
        plate, first = os.path.join(SHARED, "video", "bedroom", "frames", "#####.jpg"), 0
    else:
        plate, first = os.path.join(SHARED, "video", "cutie_example.mp4"), 1001  # a movie's frames count from 1001
    if name in ROTO:
        size = (H, W) if name == "bedroom" else (480, 640)
        roto = np.zeros(size, np.uint8)
        for polygon in ROTO[name]:
            cv2.fillPoly(roto, [np.array(polygon, np.int32)], 1)
        write_image(mask, roto.astype(np.float32), ["Y"], pixel_type="uint8")
    print(f"\n{name} (real footage, no ground truth, {frames} frames): adapted foreground area / the keyframe's; drift warnings")
    for row, tag, settings in rows:
        request = RenderRequest(input=plate, output=os.path.join(folder, f"out-{tag}", f"{name}.####.exr"), trimap=[f"{mask}@{first}"],
                                band=10 if name == "judo" else 14, write="alpha,trimap", frames=f"{first}-{first + frames - 1}", weights=weights,
                                progress="none", **settings)
        renderer = Renderer(request)
        summary = renderer.run(Progress("none"))
        areas = [float((read_matte(renderer.sinks["trimap"].path(f)) == 1.0).mean()) for f in renderer.write_frames]  # the adapted trimap
        print(f"{row}: " + " ".join(f"{a / areas[0]:.2f}" for a in areas[::max(len(areas) // 12, 1)]) +
              f"; {len(summary.warnings)} warnings; {summary.seconds / len(areas):.2f} s/frame")
        for warning in summary.warnings:
            print(f"    {warning}")
        if sheet_dir:
            path = os.path.join(sheet_dir, f"{name}_{tag}.png")
            contact_sheet(request, path, width=240)
            print(f"    contact sheet: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="", help="weights file or bundled name (default: the bundled default)")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--clips", default="gt07,distractor,judo,bedroom,cutie", help="comma list of gt07, distractor, judo, bedroom, cutie")
    parser.add_argument("--skip-closed-form", action="store_true")
    parser.add_argument("--sheet", default="", help="folder for the footage's contact sheets")
    parser.add_argument("--rows", default="", help="comma list of the rows to run, by tag: "
                        + ", ".join(tag for _, tag, _ in METHODS) + " (default: all; the footage runs default, no-memory and neither of them); `--rows default` compares weights quickly")
    args = parser.parse_args()
    tags = args.rows.split(",") if args.rows else [tag for _, tag, _ in METHODS]
    unknown = set(tags) - {tag for _, tag, _ in METHODS}
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    methods = tuple(m for m in METHODS if m[1] in tags)
    if not os.path.isdir(SHARED):
        raise SystemExit(f"this benchmark needs the shared data at {SHARED}")
    clips = args.clips.split(",")
    for name, make in (("gt07", make_gt07_clip), ("distractor", make_distractor_clip)):
        if name in clips:
            with tempfile.TemporaryDirectory() as tmp:
                score_clip(name, tmp, make(tmp, args.frames), args.weights, not args.skip_closed_form, methods)
    for name in ("judo", "bedroom", "cutie"):
        if name in clips:
            with tempfile.TemporaryDirectory() as tmp:
                footage(name, tmp, 16 if name == "judo" else args.frames, args.weights, args.sheet or None,
                        tuple(m for m in FOOTAGE_ROWS if m[1] in tags))


if __name__ == "__main__":
    main()
