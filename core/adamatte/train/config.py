"""Training configs: TOML files under configs/, read into one dataclass."""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from adamatte.errors import InputError

# the default weights of the training trimap kinds (train.transforms.MakeTrimap.KINDS): tight, erode, coarse, blobby, propagated
TRIMAP_MIX = (0.2, 0.25, 0.15, 0.1, 0.3)


@dataclass(frozen=True)
class DataSet:
    """Image files paired by the `*` in their glob patterns (relative to the data root).

    layout 'merged': `image` (a composite) + `alpha` (+ `trimaps`), foreground colours estimated.
    layout 'foreground': `foreground` + `alpha`, composited over `backgrounds`
    (pairs from `fg_names`/`bg_names` list files when given: the DIM composition order).
    """

    layout: str = "merged"
    image: str = ""
    alpha: str = ""
    foreground: str = ""
    trimaps: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    repeat: int = 1
    fg_names: str = ""
    bg_names: str = ""


@dataclass(frozen=True)
class TrainConfig:
    name: str = "run"
    model: str = "lite"
    seed: int = 0
    data_root: str = "."
    train: tuple[DataSet, ...] = ()
    validation: DataSet | None = None
    backgrounds: tuple[str, ...] = ()  # globs of background photos (or video frames) for recomposition
    crop_size: int = 320
    crop_min: int = 320
    crop_max: int = 800
    resize_range: tuple[float, float] = (0.75, 1.5)
    rotation_degrees: float = 45.0
    trimap_mix: tuple[float, ...] = TRIMAP_MIX
    procedural: float = 0.0  # share of samples given a procedural transparent layer (train.procedural)
    distractor: float = 0.0  # share of samples with another item's foreground behind the subject (transforms.Distractor)
    batch_size: int = 16
    epochs: int = 120
    max_steps: int = 0  # 0: epochs × steps per epoch
    lr: float = 1e-4
    sigma_lr: float = 1e-4
    weight_decay: float = 1e-4
    poly_power: float = 0.9
    ema_decay: float = 0.0  # > 0: keep an exponential moving average of the weights; it is validated and exported
    sigma_init: float = 4.0
    workers: int = 0
    decoded_cache_mb: int = 2048  # MiB of decoded training images each data process keeps (train.data.DecodedImages)
    threads: int = 0  # torch CPU threads per process; 0: torch's default
    amp: bool = True  # mixed precision: fp16 on CUDA, bf16 on CPUs that compute it in hardware (matting.engine.cpu_has_bf16)
    checkpoint_every: int = 200  # steps
    validate_every_epochs: int = 1
    max_validation_items: int = 0  # 0: all
    output_dir: str = "runs"
    data_note: str = ""  # what the data is and its licence; copied into exported weights

    @property
    def run_dir(self) -> str:
        return os.path.join(self.output_dir, self.name)

    def resolve(self, pattern: str) -> str:
        return pattern if os.path.isabs(pattern) else os.path.join(self.data_root, pattern)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _dataset(data: dict[str, Any]) -> DataSet:
    known = {f.name for f in dataclasses.fields(DataSet)}
    if set(data) - known:
        raise InputError(f"unknown data set keys: {', '.join(sorted(set(data) - known))}")
    return DataSet(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    data = dict(data)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = set(data) - known
    if unknown:
        raise InputError(f"unknown training config keys: {', '.join(sorted(unknown))}")
    data["train"] = tuple(_dataset(d) for d in data.get("train", ()))
    if data.get("validation"):
        data["validation"] = _dataset(data["validation"])
    if isinstance(data.get("backgrounds"), str):
        data["backgrounds"] = (data["backgrounds"],)
    for key in ("resize_range", "trimap_mix", "backgrounds"):
        if key in data:
            data[key] = tuple(data[key])
    return TrainConfig(**data)


def bundled_training_configs() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("adamatte.configs").iterdir() if p.name.endswith(".toml"))


def load_train_config(name_or_path: str, **overrides: Any) -> TrainConfig:
    """A TOML file by path, or a bundled recipe by name (paper, cpu, smoke); `overrides` replace keys.
    A .json path is read as the same keys (what a checkpoint records, or a packed data set's config)."""
    if os.path.isfile(name_or_path):
        with open(name_or_path, "rb") as fh:
            data = json.load(fh) if name_or_path.lower().endswith(".json") else tomllib.load(fh)
    else:
        resource = resources.files("adamatte.configs") / f"{name_or_path}.toml"
        if not resource.is_file():
            raise InputError(f"no such training config; bundled: {', '.join(bundled_training_configs())}", path=name_or_path)
        data = tomllib.loads(resource.read_text())
    data.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(data)
