"""Frame I/O throughput: adamatte.io against raw OpenImageIO, in one run, and read/write overlap.

Reads and writes a 1920x1080 RGBA half EXR sequence (zip) both ways and prints the ratio
(target: adamatte.io >= 0.8x raw OIIO). Then runs a dummy compute step of fixed duration
between read and write, serially and through ReadAhead/WriteBehind, and prints how close the
pipelined time comes to max(I/O, compute).

    python benchmarks/io_throughput.py [--frames 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import OpenImageIO as oiio

from adamatte.io import FrameSink, FrameSource, ReadAhead, WriteBehind

W, H = 1920, 1080


def make_plate(directory: str, frames: list[int]) -> None:
    rng = np.random.default_rng(0)
    base = rng.random((H, W, 4), dtype=np.float32)
    spec = oiio.ImageSpec(W, H, 4, "half")
    spec.channelnames = ("R", "G", "B", "A")
    spec.attribute("compression", "zip")
    for f in frames:
        out = oiio.ImageOutput.create(f"{directory}/plate.{f:04d}.exr")
        out.open(f"{directory}/plate.{f:04d}.exr", spec)
        out.write_image(np.roll(base, f, axis=1))
        out.close()


def raw_oiio(src_dir: str, dst_dir: str, frames: list[int]) -> None:
    """What a hand-written OIIO loop does: read RGBA float, write RGBA half zip."""
    for f in frames:
        inp = oiio.ImageInput.open(f"{src_dir}/plate.{f:04d}.exr")
        spec = inp.spec()
        px = inp.read_image(0, 0, 0, spec.nchannels, "float")
        inp.close()
        out_spec = oiio.ImageSpec(spec.width, spec.height, 4, "half")
        out_spec.channelnames = ("R", "G", "B", "A")
        out_spec.attribute("compression", "zip")
        out = oiio.ImageOutput.create(f"{dst_dir}/raw.{f:04d}.exr")
        out.open(f"{dst_dir}/raw.{f:04d}.exr", out_spec)
        out.write_image(px)
        out.close()


def through_adamatte(src_dir: str, dst_dir: str, frames: list[int], compute_s: float = 0.0, pipelined: bool = True) -> None:
    """Read through FrameSource (colour-converted), write RGBA through FrameSink (atomic, metadata)."""
    source = FrameSource(f"{src_dir}/plate.####.exr")
    sink = FrameSink(f"{dst_dir}/ours.####.exr", frames, layout="rgba")

    def step(frame):
        if compute_s:
            time.sleep(compute_s)  # stands in for the network, which releases the GIL too
        return frame.rgb[..., 0]

    if pipelined:
        with WriteBehind() as writer:
            for f, frame in ReadAhead(source.read, frames):
                writer.submit(sink.write, f, step(frame), frame)
    else:
        for f in frames:
            frame = source.read(f)
            sink.write(f, step(frame), frame)


def best_of(repeats: int, fn, *args, **kwargs) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frames = list(range(1001, 1001 + args.frames))
    with tempfile.TemporaryDirectory() as src, tempfile.TemporaryDirectory() as dst:
        make_plate(src, frames)
        raw_t, ours_t = [], []
        for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
            raw_t.append(best_of(1, raw_oiio, src, dst, frames))
            ours_t.append(best_of(1, through_adamatte, src, dst, frames))
        raw, ours = min(raw_t), min(ours_t)
        n = len(frames)
        print(f"1920x1080 RGBA half EXR, {n} frames, read + write, best of {args.repeats}, cores={os.cpu_count()}")
        print(f"  raw OIIO (serial)         {n / raw:6.2f} frames/s")
        print(f"  adamatte.io (pipelined)   {n / ours:6.2f} frames/s")
        print(f"  throughput ratio adamatte/raw = {raw / ours:.2f}  (target >= 0.80)")

        io_per_frame = ours / n
        compute = io_per_frame
        serial = best_of(1, through_adamatte, src, dst, frames, compute_s=compute, pipelined=False)
        overlapped = best_of(1, through_adamatte, src, dst, frames, compute_s=compute, pipelined=True)
        ideal = max(ours, compute * n)
        print(f"\nprefetch overlap with a dummy compute step of {compute * 1000:.0f} ms/frame:")
        print(f"  serial read+compute+write {serial:6.2f} s")
        print(f"  pipelined                 {overlapped:6.2f} s")
        print(f"  max(I/O, compute)         {ideal:6.2f} s   sum {ours + compute * n:6.2f} s")
        print(f"  pipelined / max(I/O, compute) = {overlapped / ideal:.2f}  (1.00 is perfect overlap)")


if __name__ == "__main__":
    main()
