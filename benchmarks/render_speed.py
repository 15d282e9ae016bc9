"""Whole-process render speed of a 1080p shot against closed-form matting on one of its frames.

The plate is real footage: the `bedroom` clip's first frames, upscaled to 1920x1080 and written
as a scene-linear half-float EXR sequence; its first-frame trimap comes from a rough roto of the
two children (benchmarks/video.py's) with a 24 px band. Each row is one `adamatte render` process
over the frames, start-up, reading, colour and writing included, divided by the frame count;
closed-form is pymatting's `estimate_alpha_cf` on the first frame with the same trimap. All rows
in one run, so their ratios are comparable on a noisy machine.

    python benchmarks/render_speed.py [--frames 8] [--threads 0] [--baseline DIR [--rounds 2]] [--busy 1]

--baseline DIR adds the default row rendered by the adamatte of another checkout (say
`git worktree add /tmp/before HEAD~3`), alternating with this one's for --rounds rounds, so a
change's speed-up is measured side by side on this noisy machine; the mean |alpha difference|
between the two renders is printed with it.

--busy N runs every row beside N other processes that keep all cores busy with torch work of their own
(as a second render on a farm node, a training run or the host application would): what a render gets on
a machine that is not idle.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from video import ROTO, SHARED  # noqa: E402  (the roto polygons and data root of the video benchmark)

from adamatte.io.colour import convert  # noqa: E402
from adamatte.io.image import read_image, write_image  # noqa: E402
from adamatte.matting.trimap import mask_to_trimap  # noqa: E402

W, H = 1920, 1080
ROWS = (  # (row, extra render arguments, target s/frame)
    ("default", [], 2.0),
    ("--analysis-scale 0.7 (the network on a 1344x756 copy)", ["--analysis-scale", "0.7"], None),
    ("--refine none", ["--refine", "none"], 1.0),
)
# one busy neighbour: torch matrix products on every core, with the OpenMP runtime's defaults (its own environment)
BUSY = "import torch\nx = torch.rand(512, 512)\nwhile True:\n    x = torch.tanh(x @ x)\n"


def make_shot(folder: str, frames: int) -> tuple[str, str, np.ndarray, np.ndarray]:
    """plate.####.exr from 1001, and mask.png; returns their paths, frame 1001's sRGB pixels and trimap."""
    names = sorted(os.listdir(os.path.join(SHARED, "video", "bedroom", "frames")))[:frames]
    for i, name in enumerate(names):
        rgb = read_image(os.path.join(SHARED, "video", "bedroom", "frames", name))[0][..., :3]
        rgb = np.clip(cv2.resize(rgb, (W, H), interpolation=cv2.INTER_CUBIC), 0, 1)
        if i == 0:
            first = rgb
        write_image(os.path.join(folder, f"plate.{1001 + i}.exr"), convert(rgb, "srgb_tx", "lin_rec709_srgb"), ["R", "G", "B"])
    mask = np.zeros((H, W), np.uint8)
    for polygon in ROTO["bedroom"]:
        cv2.fillPoly(mask, [np.array(polygon, np.int32) * 2], 1)
    write_image(os.path.join(folder, "mask.png"), mask.astype(np.float32), ["Y"], pixel_type="uint8")
    return os.path.join(folder, "plate.####.exr"), os.path.join(folder, "mask.png"), first, mask_to_trimap(mask.astype(np.float32), 24)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="torch/OpenMP threads for every process (0: their default)")
    parser.add_argument("--baseline", default="", help="a checkout of another commit: time its default render beside this one's")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of baseline and this checkout (with --baseline)")
    parser.add_argument("--busy", type=int, default=0, help="other processes keeping every core busy beside each row (0: none)")
    args = parser.parse_args()
    if not os.path.isdir(SHARED):
        raise SystemExit(f"this benchmark needs the shared data at {SHARED}")
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(args.threads)} if args.threads else {}))
    neighbour_env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    with tempfile.TemporaryDirectory() as tmp, busy_neighbours(args.busy, neighbour_env):
        plate, mask, first, trimap = make_shot(tmp, args.frames)
        print(f"1920x1080 render of {args.frames} frames of real footage (bedroom, upscaled), first-frame trimap; "
              f"{os.cpu_count()} cores" + (f"; {args.busy} busy neighbour process(es) beside every row" if args.busy else ""))

        def timed(out: str, extra: list[str], checkout: str | None = None) -> float:
            """Seconds per frame of one whole `adamatte render` process (of `checkout`'s adamatte, or this one's)."""
            command = [sys.executable, "-m", "adamatte", "render", plate, "-o", out, "--trimap", f"{mask}@1001", "--band", "24",
                       "--progress", "none", *extra]
            here = env if checkout is None else dict(env, PYTHONPATH=os.path.join(os.path.abspath(checkout), "core"))
            t0 = time.perf_counter()
            subprocess.run(command, check=True, env=here, capture_output=True)
            return (time.perf_counter() - t0) / args.frames

        results = [(row, timed(os.path.join(tmp, f"row{i}", "matte.####.exr"), extra), target) for i, (row, extra, target) in enumerate(ROWS)]
        if args.baseline:
            compare(args, tmp, timed)
        from pymatting import estimate_alpha_cf

        t0 = time.perf_counter()
        estimate_alpha_cf(first.astype(np.float64), trimap.astype(np.float64))
        closed_form = time.perf_counter() - t0
    print(f"| render (whole process) | s/frame | closed-form / it (target >= 5x) | target s/frame |\n| --- | --- | --- | --- |")
    for row, seconds, target in results:
        verdict = "" if target is None else (f"<= {target:g}: " + ("met" if seconds <= target else "MISSED"))
        print(f"| {row} | {seconds:.2f} | {closed_form / seconds:.1f}x | {verdict} |")
    print(f"| pymatting closed-form, frame 1001 | {closed_form:.2f} | 1.0x | |")


@contextlib.contextmanager
def busy_neighbours(count: int, env: dict[str, str]) -> Iterator[None]:
    """`count` BUSY processes running until the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY], env=env) for _ in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def compare(args: argparse.Namespace, tmp: str, timed: Callable[..., float]) -> None:
    """The default render of the --baseline checkout against this one's, alternating; prints both and their ratio."""
    from adamatte.io.image import read_matte

    seconds = {"baseline": [], "this checkout": []}
    for _ in range(args.rounds):
        seconds["baseline"].append(timed(os.path.join(tmp, "baseline", "matte.####.exr"), [], args.baseline))
        seconds["this checkout"].append(timed(os.path.join(tmp, "this", "matte.####.exr"), []))
    change = np.mean([np.abs(read_matte(os.path.join(tmp, "baseline", f"matte.{f}.exr")) - read_matte(os.path.join(tmp, "this", f"matte.{f}.exr"))).mean()
                      for f in range(1001, 1001 + args.frames)])
    before, after = np.mean(seconds["baseline"]), np.mean(seconds["this checkout"])
    print(f"default render, {args.rounds} alternating rounds: baseline ({args.baseline}) "
          f"{' / '.join(f'{s:.2f}' for s in seconds['baseline'])} s/frame, this checkout "
          f"{' / '.join(f'{s:.2f}' for s in seconds['this checkout'])}: {before / after:.2f}x faster; "
          f"mean |alpha difference| {change:.5f}")


if __name__ == "__main__":
    main()
