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
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"unknown model config keys: {', '.join(sorted(unknown))}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        config = cls(**values)
        if len(config.blocks) != 4 or len(config.block_widths) != 4 or len(config.decoder_widths) != 4:
            raise InputError("a model config needs 4 encoder stages and 4 decoder widths")
        return config

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


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
