"""Pack a training config's data small enough to travel to a borrowed GPU machine.

The device's working tree may hold 64 MiB in all (the repository itself is ~28 MB of that),
and the PNG training set alone is ~100 MB. The pack keeps what the config trains on, compactly,
in one file, OUT/data.tar.xz:
  - composites and background photos as JPEG (quality 90; backgrounds at most 1280 px wide,
    which is still larger than any training crop reads);
  - alphas as raw 8-bit PGM, which xz packs a third smaller than PNG: ground truth stays exact.
The validation split is left out (it would not fit): a burst logs its loss, and the CPU campaign
validates the checkpoint it brings back. OUT/NAME.json is the config, its patterns rewritten for
the packed files. Train from it under the same run name, so --resume picks up the checkpoint:

    python benchmarks/pack_training_set.py --config cpu --data ../shared/data --out .pack
    mkdir -p /tmp/pack && tar xJf .pack/data.tar.xz -C /tmp/pack
    adamatte train --config .pack/cpu.json --data /tmp/pack --resume --minutes 4
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import shutil
import sys
import tarfile
import tempfile

import OpenImageIO as oiio

from adamatte.train.config import TrainConfig, load_train_config
from adamatte.train.data import pair_files

JPEG_QUALITY = 90
BACKGROUND_MAX = 1280


def write_as(src: str, dst: str, *, grey: bool = False, max_width: int = 0) -> None:
    """Re-encode `src` as 8-bit `dst` (format from its extension): RGB, or one grey channel."""
    buf = oiio.ImageBuf(src)
    buf = oiio.ImageBufAlgo.channels(buf, (0,) if grey else ((0, 1, 2) if buf.nchannels >= 3 else (0, 0, 0)))
    if max_width and buf.spec().width > max_width:
        spec = buf.spec()
        buf = oiio.ImageBufAlgo.resize(buf, roi=oiio.ROI(0, max_width, 0, round(spec.height * max_width / spec.width), 0, 1, 0, 3))
    if dst.endswith(".jpg"):
        buf.specmod().attribute("Compression", f"jpeg:{JPEG_QUALITY}")
    buf.set_write_format(oiio.UINT8)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if not buf.write(dst):
        raise SystemExit(f"pack: cannot write {dst}: {buf.geterror()}")


def with_ext(pattern: str, ext: str) -> str:
    return os.path.splitext(pattern)[0] + ext


def pack(cfg: TrainConfig, folder: str) -> dict:
    """Write the packed files under `folder`; returns the packed config as a dict."""
    rel = lambda path: os.path.relpath(path, cfg.data_root)  # noqa: E731
    train = []
    for ds in cfg.train:
        if ds.layout != "merged" or ds.fg_names:
            raise SystemExit(f"pack: only 'merged' data sets are packed, not {ds.layout!r} {ds.image or ds.foreground}")
        for item in pair_files(cfg, ds):
            write_as(item.image, os.path.join(folder, with_ext(rel(item.image), ".jpg")))
            write_as(item.alpha, os.path.join(folder, with_ext(rel(item.alpha), ".pgm")), grey=True)
        train.append(dataclasses.asdict(ds) | {"image": with_ext(ds.image, ".jpg"), "alpha": with_ext(ds.alpha, ".pgm"), "trimaps": []})
    for pattern in cfg.backgrounds:
        for path in sorted(glob.glob(cfg.resolve(pattern))):
            write_as(path, os.path.join(folder, with_ext(rel(path), ".jpg")), max_width=BACKGROUND_MAX)
    return cfg.to_dict() | {"train": train, "validation": None, "data_root": "."}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="cpu", help="training config: a bundled name or a path (default: cpu)")
    ap.add_argument("--data", default="../shared/data", help="the config's data root (default: ../shared/data)")
    ap.add_argument("--out", default=".pack", help="folder to write; replaced (default: .pack)")
    args = ap.parse_args(argv)
    cfg = load_train_config(args.config, data_root=args.data)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        packed = pack(cfg, tmp)
        with tarfile.open(os.path.join(args.out, "data.tar.xz"), "w:xz", preset=9) as tar:
            for name in sorted(os.listdir(tmp)):
                tar.add(os.path.join(tmp, name), arcname=name)
    name = os.path.splitext(os.path.basename(args.config))[0]
    with open(os.path.join(args.out, f"{name}.json"), "w") as fh:
        json.dump(packed, fh, indent=1)
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"packed {cfg.name} into {args.out}: {size / 2**20:.1f} MiB; unpack data.tar.xz, then train with "
          f"--config {args.out}/{name}.json --data UNPACKED --resume")
    return 0


if __name__ == "__main__":
    sys.exit(main())
