"""Model architecture configs: plain TOML files under configs/model/, one dataclass here."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from adamatte.errors import InputError


@dataclass(frozen=True)
class ModelConfig:
    variant: str = "paper"
    stem_width: int = 64
    block_widths: tuple[int, ...] = (64, 128, 256, 512)
    blocks: tuple[int, ...] = (3, 4, 6, 3)
    expansion: int = 4
    decoder_widths: tuple[int, ...] = (256, 128, 64, 32)
    gcn_kernel: int = 11
    prop_width: int = 32
    prop_hidden: int = 16
    prop_steps: int = 3
    prop_unshuffle: int = 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        """A config from JSON/TOML data, every value checked against BOUNDS before anything is built
        (a crafted weights file must not make adamatte allocate or loop without end)."""
        if not isinstance(data, dict):
            raise InputError(f"a model config is a table of settings, not {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"unknown model config keys: {', '.join(sorted(map(str, unknown)))}")
        for name, value in data.items():
            _check(name, value)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


# (minimum, maximum, how many values: 1 or the length of the list) per setting; the bundled configs sit well inside
BOUNDS: dict[str, tuple[int, int, int]] = {
    "stem_width": (1, 256, 1), "block_widths": (1, 1024, 4), "blocks": (1, 16, 4), "expansion": (1, 8, 1),
    "decoder_widths": (1, 512, 4), "gcn_kernel": (1, 31, 1), "prop_width": (1, 256, 1), "prop_hidden": (1, 256, 1),
    "prop_steps": (0, 8, 1), "prop_unshuffle": (1, 8, 1),
}


def _check(name: str, value: Any) -> None:
    if name == "variant":
        if not isinstance(value, str) or not 0 < len(value) <= 64:
            raise InputError(f"model config 'variant' must be a short name, not {value!r:.40}")
        return
    low, high, count = BOUNDS[name]
    values = value if count > 1 else [value]
    if count > 1 and (not isinstance(value, (list, tuple)) or len(value) != count):
        raise InputError(f"model config {name!r} must be a list of {count} integers")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise InputError(f"model config {name!r} must hold integers from {low} to {high}, not {v!r:.40}")
    if name == "gcn_kernel" and value % 2 == 0:
        raise InputError("model config 'gcn_kernel' must be odd")


def bundled_model_configs() -> list[str]:
    folder = resources.files("adamatte.configs") / "model"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_model_config(name_or_path: str) -> ModelConfig:
    """A bundled config by name ('paper', 'lite') or a TOML file by path."""
    if os.path.isfile(name_or_path):
        with open(name_or_path, "rb") as fh:
            return ModelConfig.from_dict(tomllib.load(fh))
    resource = resources.files("adamatte.configs") / "model" / f"{name_or_path}.toml"
    if not resource.is_file():
        raise InputError(f"unknown model config {name_or_path!r}; bundled: {', '.join(bundled_model_configs())}")
    return ModelConfig.from_dict(tomllib.loads(resource.read_text()))
