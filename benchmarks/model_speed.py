"""Per-frame latency and peak memory of the matting engine, against closed-form matting.

For each model config (lite, paper) and frame size (960x540, 1920x1080, 3840x2160), runs the
engine in a fresh process (so peak memory is that frame's alone) on the CPU and, when
present, on CUDA in fp16; then times pymatting's closed-form matting on the same frame and
trimap and prints the ratio. Weights are random for lite and paper (the network's speed does
not depend on them); `bundled+mixed`, `bundled+knn` and `bundled+closed-form` are the bundled trained
weights with that refinement (mixed is the render default), whose solve costs what the band the
trained network draws costs.

    python benchmarks/model_speed.py [--sizes 960x540,1920x1080,3840x2160] [--configs lite,paper,bundled+mixed,bundled+knn,bundled+closed-form]
        [--closed-form-max 1920x1080] [--devices cpu,cuda]

--closed-form-max 0x0 skips closed-form (and pymatting) altogether. A config may end in @SCALE
for that --analysis-scale (bundled+knn@1: full scale); without it the engine's automatic one; and
in :PRECISION for that --precision on CUDA (paper:bf16; without it fp16; the CPU runs fp32).

--stages prints where one frame's time goes instead, for the bundled weights with the default KNN
refinement at 1920x1080 and 3840x2160 (or --sizes): read (OpenImageIO, a half-float EXR), colour
(OCIO to the working space), network, compose (labels and the veto), band, graph (the KNN
system), solve (conjugate gradients) and write (the half-float EXR matte), each in seconds.

    python benchmarks/model_speed.py --stages [--sizes 1920x1080,3840x2160]

--solvers times the default (mixed) system's conjugate-gradient solve on each size's band: scipy's
float32 CG (the CPU path until 2026-12-07) beside ours in torch (refine.solve_cg) on the CPU and,
when present, the GPU, with their difference.

    python benchmarks/model_speed.py --solvers [--sizes 1920x1080] [--devices cpu,cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import scipy.sparse

TARGETS = {("lite", "cpu", 1920 * 1080): 2.0, ("paper", "cuda", 1920 * 1080): 0.025}


def test_frame(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A real photo and trimap (alphamatting GT01) resized to the size, or a synthetic disk."""
    import cv2

    root = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "alphamatting_train")
    if os.path.isdir(root):
        from adamatte.io import read_image, read_matte

        image = read_image(os.path.join(root, "input", "GT01.png"))[0][..., :3]
        trimap = read_matte(os.path.join(root, "trimap1", "GT01.png"))
    else:
        yy, xx = np.mgrid[0:500, 0:800]
        d = np.hypot(yy - 250, xx - 400)
        image = np.stack([np.clip(1 - d / 400, 0, 1)] * 3, axis=2).astype(np.float32)
        trimap = np.where(d < 150, 1.0, np.where(d < 190, 0.5, 0.0)).astype(np.float32)
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    trimap = cv2.resize(trimap, (width, height), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(image, np.float32), trimap


def measure_one(config: str, width: int, height: int, device: str) -> dict:
    """Runs in a child process: one warm-up on a small frame, then the timed frame."""
    import torch

    from adamatte.matting.engine import MattingEngine
    from adamatte.model import AdaMatting, load_model_config

    torch.manual_seed(0)
    config, _, precision = config.partition(":")  # CONFIG:PRECISION (default: fp16 on CUDA; the CPU runs fp32)
    name, _, scale = config.partition("@")  # CONFIG@SCALE: that --analysis-scale (default: the automatic one)
    options = {"precision": precision or "fp16", "analysis_scale": float(scale or 0)}
    if name.startswith("bundled+"):
        engine = MattingEngine.from_weights(None, device=device, refine=name.split("+", 1)[1], **options)
    else:
        engine = MattingEngine(AdaMatting(load_model_config(name)), device=device, **options)
    small = test_frame(320, 192)
    engine.matte(*small)
    image, trimap = test_frame(width, height)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    runs = 3 if device == "cuda" or width * height <= 1e6 else 1
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        engine.matte(image, trimap)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tiled = width * height > engine.max_pixels
    return {"config": config, "device": device, "width": width, "height": height, "seconds": min(times), "peak_bytes": peak, "tiled": tiled}


STAGES = ("read", "colour", "network", "compose", "band", "graph", "solve", "write")


def measure_stages(width: int, height: int, device: str) -> dict:
    """Runs in a child process: one frame through every stage of a render, from an EXR on disk to one."""
    import tempfile

    from adamatte.io import FrameSink, FrameSource, write_image
    from adamatte.io.colour import convert
    from adamatte.io.image import read_image
    from adamatte.matting.engine import MattingEngine

    engine = MattingEngine.from_weights(None, device=device, precision="fp16", refine="knn")
    engine.matte(*test_frame(320, 192))  # warm-up
    image, trimap = test_frame(width, height)
    with tempfile.TemporaryDirectory() as tmp:
        plate = os.path.join(tmp, "plate.1001.exr")
        write_image(plate, convert(image, "srgb_tx", "lin_rec709_srgb"), ["R", "G", "B"])
        source = FrameSource(plate)
        t0 = time.perf_counter()
        pixels, _ = read_image(plate, channels=source.rgb_channels)
        t1 = time.perf_counter()
        rgb = source.converter(pixels)
        t2 = time.perf_counter()
        result = engine.matte(rgb, trimap)
        frame = source.read(1001)
        sink = FrameSink(os.path.join(tmp, "matte.1001.exr"), [1001])
        t3 = time.perf_counter()
        sink.write(1001, result.alpha, frame)
        t4 = time.perf_counter()
    seconds = {"read": t1 - t0, "colour": t2 - t1, **{k: result.timings.get(k, 0.0) for k in STAGES[2:7]}, "write": t4 - t3}
    return {"width": width, "height": height, "device": device, "seconds": seconds}


def print_stages(sizes: list[tuple[int, int]], devices: list[str]) -> None:
    print(f"{'device':<7}{'size':>11}" + "".join(f"{s:>9}" for s in STAGES) + f"{'total':>9}   (seconds, bundled weights, --refine knn)")
    for w, h in sizes:
        for device in devices:
            out = subprocess.run([sys.executable, __file__, "--one-stages", str(w), str(h), device],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
            print(f"{device:<7}{f'{w}x{h}':>11}" + "".join(f"{r[s]:9.3f}" for s in STAGES) + f"{sum(r.values()):9.3f}")


def print_solvers(width: int, height: int, devices: list[str]) -> None:
    """The refinement's conjugate gradients (torch, float32) on one frame's mixed system, against scipy's
    float32 CG (the CPU path until 2026-12-07), side by side."""
    import scipy.sparse.linalg
    import torch

    from adamatte.matting.refine import CG_MAXITER, CG_RTOL, mixed_system, solve_cg
    from adamatte.matting.trimap import trimap_to_labels

    image, trimap = test_frame(width, height)
    labels = trimap_to_labels(trimap)
    matrix, rhs = mixed_system(image, labels == 1, (labels == 2).astype(np.float64))
    matrix = (matrix + 1e-8 * scipy.sparse.identity(len(rhs), format="csr")).tocsr()
    guess = np.full(len(rhs), 0.5)

    def scipy_cg(m: scipy.sparse.csr_matrix, b: np.ndarray, g: np.ndarray) -> np.ndarray:
        single = m.astype(np.float32)
        jacobi = scipy.sparse.diags((1.0 / single.diagonal()).astype(np.float32))
        return scipy.sparse.linalg.cg(single, b.astype(np.float32), x0=g.astype(np.float32), rtol=CG_RTOL, maxiter=CG_MAXITER, M=jacobi)[0]

    print(f"mixed solve at {width}x{height}, {len(rhs)} band pixels, Jacobi CG to {CG_RTOL:g} from 0.5, {torch.get_num_threads()} torch threads")
    reference = None
    for name, device in [("scipy", "cpu"), ("torch", "cpu")] + [("torch", d) for d in devices if d != "cpu"]:
        solve = scipy_cg if name == "scipy" else (lambda m, b, g, d=device: solve_cg(m, b, g, d))
        if device == "cuda":
            solve(matrix, rhs, guess)  # warm-up: the CUDA context and kernels
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        x = solve(matrix, rhs, guess)
        seconds = time.perf_counter() - t0
        reference = x if reference is None else reference
        print(f"  {name:<6}{device:<6}{seconds:8.3f} s   mean |Δα| against scipy {np.abs(np.clip(x, 0, 1) - np.clip(reference, 0, 1)).mean():.2e}")


def closed_form_seconds(width: int, height: int) -> float:
    from pymatting import estimate_alpha_cf

    image, trimap = test_frame(width, height)
    t0 = time.perf_counter()
    estimate_alpha_cf(image.astype(np.float64), trimap.astype(np.float64))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="960x540,1920x1080,3840x2160")
    parser.add_argument("--configs", default="lite,paper,bundled+mixed,bundled+knn,bundled+closed-form")
    parser.add_argument("--closed-form-max", default="1920x1080", help="largest size to run closed-form on (it is slow)")
    parser.add_argument("--devices", help="comma list of cpu, cuda (default: cpu, and cuda when present)")
    parser.add_argument("--solvers", action="store_true", help="the band solve: scipy against ours in torch (CPU, and CUDA when present)")
    parser.add_argument("--stages", action="store_true", help="where one frame's time goes, stage by stage")
    parser.add_argument("--one", nargs=4, metavar=("CONFIG", "W", "H", "DEVICE"), help=argparse.SUPPRESS)
    parser.add_argument("--one-stages", nargs=3, metavar=("W", "H", "DEVICE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one[0], int(args.one[1]), int(args.one[2]), args.one[3])))
        return
    if args.one_stages:
        print(json.dumps(measure_stages(int(args.one_stages[0]), int(args.one_stages[1]), args.one_stages[2])))
        return

    import torch

    devices = args.devices.split(",") if args.devices else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if args.solvers:
        for size in args.sizes.split(","):
            print_solvers(*(int(v) for v in size.split("x")), devices)
        return
    if args.stages:
        sizes = args.sizes if args.sizes != parser.get_default("sizes") else "1920x1080,3840x2160"
        print_stages([tuple(int(v) for v in s.split("x")) for s in sizes.split(",")], devices)
        return
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    cf_max = np.prod([int(v) for v in args.closed_form_max.split("x")])
    print(f"adamatte engine speed; cpu cores={os.cpu_count()}, torch threads={torch.get_num_threads()}"
          + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"))
    print(f"{'config':<26}{'device':<7}{'size':>11}{'s/frame':>10}{'peak MB':>10}{'tiled':>7}  closed-form s   ratio   target")
    closed_form: dict[tuple[int, int], float] = {}
    for w, h in sizes:
        if w * h <= cf_max:
            closed_form[(w, h)] = closed_form_seconds(w, h)
        for config in args.configs.split(","):
            for device in devices:
                out = subprocess.run([sys.executable, __file__, "--one", config, str(w), str(h), device],
                                     capture_output=True, text=True, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                cf = closed_form.get((w, h))
                ratio = f"{cf / r['seconds']:6.1f}x" if cf else "     -"
                target = TARGETS.get((config, device, w * h))
                verdict = "" if target is None else (f"<= {target:g} s: " + ("met" if r["seconds"] <= target else "MISSED"))
                print(f"{config:<26}{device:<7}{f'{w}x{h}':>11}{r['seconds']:10.3f}{r['peak_bytes'] / 2**20:10.0f}"
                      f"{'yes' if r['tiled'] else 'no':>7}  {cf if cf else float('nan'):13.2f}  {ratio}   {verdict}")
    print("ratio = closed-form seconds / adamatte seconds on the same frame and trimap (higher: adamatte faster)")


if __name__ == "__main__":
    main()
