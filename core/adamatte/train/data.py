"""Training and validation data: a config's data sets paired into items (scoring.items), foreground
colours estimated once and cached, and a Dataset whose every sample is reproducible from (seed, epoch, index)."""

from __future__ import annotations

import glob
import hashlib
import os

import numpy as np
import torch
from tqdm import tqdm

from adamatte.errors import InputError
from adamatte.io.image import read_matte, write_image
from adamatte.matting.foreground import estimate_foreground
from adamatte.scoring.items import Item, pair_items, read_rgb
from adamatte.train.config import DataSet, TrainConfig
from adamatte.train.transforms import to_tensors


def pair_files(cfg: TrainConfig, ds: DataSet) -> list[Item]:
    """The items of one data set, keys filtered by its `only` / `exclude` lists."""
    items = pair_items(cfg.resolve(ds.image if ds.layout == "merged" else ds.foreground), cfg.resolve(ds.alpha),
                       tuple(cfg.resolve(t) for t in ds.trimaps), layout=ds.layout, only=ds.only, exclude=ds.exclude)
    if ds.fg_names and ds.bg_names:
        return _composition_order(cfg, ds, {i.key: i for i in items})
    return items


def _composition_order(cfg: TrainConfig, ds: DataSet, by_name: dict[str, Item]) -> list[Item]:
    """DIM's order: line i of fg_names is composited over line i of bg_names."""
    def lines(path: str) -> list[str]:
        with open(cfg.resolve(path)) as fh:
            return [line.strip() for line in fh if line.strip()]

    fg_names, bg_names = lines(ds.fg_names), lines(ds.bg_names)
    if len(bg_names) % max(len(fg_names), 1):
        raise InputError("bg_names must hold a whole number of backgrounds per foreground line", path=cfg.resolve(ds.bg_names))
    per_fg = len(bg_names) // len(fg_names)
    if not cfg.backgrounds:
        raise InputError("a composition order needs the config's backgrounds folder", path=cfg.resolve(ds.bg_names))
    bg_folder = os.path.dirname(cfg.resolve(cfg.backgrounds[0]))
    items = []
    for i, bg_name in enumerate(bg_names):
        fg_key = os.path.splitext(fg_names[i // per_fg])[0]
        if fg_key not in by_name:
            raise InputError(f"foreground {fg_names[i // per_fg]!r} of the composition order is not in the data", path=cfg.resolve(ds.fg_names))
        items.append(Item(**{**by_name[fg_key].__dict__, "background": os.path.join(bg_folder, bg_name)}))
    return items


class ForegroundCache:
    """Estimated foreground and background of composites, computed once, stored as 16-bit PNG."""

    def __init__(self, folder: str, device: str = "cpu"):
        self.folder = folder
        self.device = device  # where the estimation runs; a GPU does the whole set in seconds

    def _paths(self, item: Item) -> tuple[str, str]:
        stat = os.stat(item.image)
        key = hashlib.sha1(f"{os.path.abspath(item.image)}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
        return os.path.join(self.folder, f"{key}_fg.png"), os.path.join(self.folder, f"{key}_bg.png")

    def ensure(self, item: Item) -> None:
        fg_path, bg_path = self._paths(item)
        if os.path.isfile(fg_path) and os.path.isfile(bg_path):
            return
        fg, bg = estimate_foreground(read_rgb(item.image), read_matte(item.alpha), device=self.device)
        write_image(bg_path, bg, ["R", "G", "B"])
        write_image(fg_path, fg, ["R", "G", "B"])

    def paths(self, item: Item) -> tuple[str, str]:
        """The (foreground, background) PNGs of a composite, estimated first if they are not cached yet."""
        self.ensure(item)
        return self._paths(item)


class DecodedImages:
    """Images read once and kept decoded, up to `budget_mb` MiB per process (then read as needed).

    Reading the PNGs and JPEGs again for every sample was three quarters of the `cpu` recipe's data pipeline
    (kept decoded it runs 4.05x faster: benchmarks/train_speed.py --pipeline); its ~420 foregrounds, mattes and
    backgrounds take about 1.9 GiB. The arrays are read-only, so a transform that wrote into one would fail
    loudly instead of changing later samples.
    """

    def __init__(self, budget_mb: int):
        self.budget = budget_mb * 2**20
        self.used = 0
        self._arrays: dict[tuple[str, bool], np.ndarray] = {}

    def read(self, path: str, *, matte: bool = False) -> np.ndarray:
        """read_matte (matte) or read_rgb of `path`."""
        key = (path, matte)
        if key in self._arrays:
            return self._arrays[key]
        array = read_matte(path) if matte else read_rgb(path)
        if self.used + array.nbytes <= self.budget:
            array.setflags(write=False)
            self._arrays[key] = array
            self.used += array.nbytes
        return array


class MattingDataset(torch.utils.data.Dataset):
    """Training samples: a foreground with alpha over a background, through `transforms`.

    Backgrounds are drawn from `backgrounds` photos, from other items' images, or (for
    composites) the item's own estimated background, which reproduces the original photo.
    """

    def __init__(self, cfg: TrainConfig, transforms: list, *, show_progress: bool = True):
        self.cfg = cfg
        self.transforms = transforms
        self.items: list[Item] = []
        for ds in cfg.train:
            self.items += pair_files(cfg, ds) * max(ds.repeat, 1)
        if not self.items:
            raise InputError("the training config names no training data")
        self.backgrounds = sorted(p for pattern in cfg.backgrounds for p in glob.glob(cfg.resolve(pattern)))
        self.cache = ForegroundCache(os.path.join(cfg.run_dir, "fg_cache"), "cuda" if torch.cuda.is_available() else "cpu")
        self.decoded = DecodedImages(cfg.decoded_cache_mb)
        self.epoch = 0
        unique = {item.image: item for item in self.items if item.image}
        for item in tqdm(list(unique.values()), desc="estimating foregrounds", disable=not show_progress, leave=False):
            self.cache.ensure(item)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def _background(self, index: int, rng: np.random.Generator, own: np.ndarray | None) -> tuple[np.ndarray, bool]:
        if self.items[index].background:
            return self.decoded.read(self.items[index].background), False
        choice = rng.random()
        if own is not None and choice < 0.2:
            return own, True
        if self.backgrounds and choice < 0.6:
            return self.decoded.read(self.backgrounds[rng.integers(len(self.backgrounds))]), False
        other = self._other(index, rng) if len(self.items) > 1 else self.items[index]
        return self.decoded.read(other.image or other.foreground), False

    def _other(self, index: int, rng: np.random.Generator) -> Item:
        """Another item than `index`, drawn evenly (needs two or more)."""
        return self.items[(index + 1 + rng.integers(len(self.items) - 1)) % len(self.items)]

    def _foreground(self, item: Item) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """An item's foreground colours, alpha, and (for a composite) its own estimated background."""
        if item.image:
            fg, own_bg = (self.decoded.read(path) for path in self.cache.paths(item))
        else:
            fg, own_bg = self.decoded.read(item.foreground), None
        return fg, self.decoded.read(item.alpha, matte=True), own_bg

    def _distractor(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
        """Another item's foreground and alpha (never the same matte: repeats of an item share it), or None."""
        for _ in range(4):
            other = self._other(index, rng)
            if other.alpha != self.items[index].alpha:
                return self._foreground(other)[:2]
        return None

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.cfg.seed, self.epoch, index])
        fg, alpha, own_bg = self._foreground(self.items[index])
        bg, aligned = self._background(index, rng, own_bg)
        sample = {"fg": fg, "alpha": alpha, "bg": bg, "spatial": ["fg", "alpha"] + (["bg"] if aligned else [])}
        # drawn only when the config asks for it, so older configs keep their exact samples
        if self.cfg.distractor > 0 and len(self.items) > 1 and rng.random() < self.cfg.distractor:
            distractor = self._distractor(index, rng)
            if distractor is not None:
                sample["distractor"] = distractor
        for transform in self.transforms:
            sample = transform(sample, rng)
        return to_tensors(sample)


def validation_items(cfg: TrainConfig) -> list[Item]:
    """The held-out items, each with its trimaps, never trained on."""
    if cfg.validation is None:
        return []
    items = pair_files(cfg, cfg.validation)
    trained = {os.path.abspath(i.image or i.foreground) for ds in cfg.train for i in pair_files(cfg, ds)}
    leaked = [i.key for i in items if os.path.abspath(i.image or i.foreground) in trained]
    if leaked:
        raise InputError(f"validation items are also in the training data: {', '.join(leaked)}")
    return items[: cfg.max_validation_items] if cfg.max_validation_items else items
