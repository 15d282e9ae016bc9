"""Model weights: safetensors plus a JSON sidecar, never pickles.

A pickle checkpoint can run arbitrary code when it is loaded, so adamatte reads tensors only
through safetensors and the architecture only from JSON. The sidecar records the variant,
the architecture config, what the weights were trained on, and the file's SHA-256.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from adamatte.errors import InputError
from adamatte.io.atomic import atomic_write
from adamatte.io.hashing import sha256_of
from adamatte.model.adamatting import AdaMatting
from adamatte.model.config import ModelConfig

FORMAT = "adamatte-weights"
FORMAT_VERSION = 1
ARCHITECTURE = "AdaMatting"
DEFAULT_WEIGHTS = "lite"


@dataclass(frozen=True)
class WeightsInfo:
    path: str
    config: ModelConfig
    sha256: str
    meta: dict[str, Any]

    @property
    def variant(self) -> str:
        return self.config.variant

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]


def bundled_dir() -> str:
    return str(resources.files("adamatte") / "weights")


def bundled_names() -> list[str]:
    folder = bundled_dir()
    if not os.path.isdir(folder):
        return []
    return sorted(n[: -len(".safetensors")] for n in os.listdir(folder) if n.endswith(".safetensors"))


def resolve_weights(name_or_path: str | None) -> str:
    """A weights file path from a path or a bundled name; the bundled default when None."""
    if name_or_path is None:
        if DEFAULT_WEIGHTS not in bundled_names():
            raise InputError(
                "no trained weights are bundled with this version of adamatte yet: pass --weights FILE.safetensors "
                "(train one with `adamatte train`)"
            )
        name_or_path = DEFAULT_WEIGHTS
    if os.path.isfile(name_or_path):
        return name_or_path
    if name_or_path in bundled_names():
        return os.path.join(bundled_dir(), f"{name_or_path}.safetensors")
    bundled = ", ".join(bundled_names()) or "none"
    raise InputError(f"no such weights file or bundled weights name (bundled: {bundled})", path=name_or_path)


def _refuse_non_safetensors(path: str) -> None:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head[:2] == b"PK" or head[:1] == b"\x80":
        raise InputError(
            "this is a PyTorch pickle checkpoint; adamatte loads only .safetensors weights, because loading a pickle "
            "can run arbitrary code", path=path,
        )
    if len(head) < 9 or head[8:9] != b"{":
        raise InputError("not a safetensors file", path=path)


def read_weights_info(path: str) -> WeightsInfo:
    """Read and check the JSON sidecar of `path` (a .safetensors file)."""
    _refuse_non_safetensors(path)
    sidecar = os.path.splitext(path)[0] + ".json"
    if not os.path.isfile(sidecar):
        raise InputError(f"weights need their JSON config beside them ({os.path.basename(sidecar)} is missing)", path=path)
    try:
        with open(sidecar) as fh:
            meta = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"the JSON config is not valid JSON ({exc})", path=sidecar) from None
    if not isinstance(meta, dict):
        raise InputError(f"the JSON config must be an object, not {type(meta).__name__}", path=sidecar)
    if meta.get("format") != FORMAT or meta.get("architecture") != ARCHITECTURE:
        raise InputError(f"not an adamatte weights config (format {meta.get('format')!r}, architecture {meta.get('architecture')!r})", path=sidecar)
    version = meta.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(f"weights format_version must be an integer, not {version!r:.40}", path=sidecar)
    if version > FORMAT_VERSION:
        raise InputError(f"weights format version {version} is newer than this adamatte understands", path=sidecar)
    if "model" not in meta:
        raise InputError("the JSON config has no 'model' (the architecture)", path=sidecar)
    try:
        config = ModelConfig.from_dict(meta["model"])
    except InputError as exc:
        raise InputError(str(exc), path=sidecar) from None
    digest = sha256_of(path)
    if meta.get("sha256") != digest:
        raise InputError("the weights file does not match the hash in its JSON config (corrupt or swapped file)", path=path)
    return WeightsInfo(path, config, digest, meta)


def expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor's shape for `config`, from a model built on torch's meta device (no memory)."""
    with torch.device("meta"):
        model = AdaMatting(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_tensors(path: str, config: ModelConfig) -> None:
    """The safetensors file holds exactly the tensors `config` needs, with their shapes: read from its
    header alone, before a model is allocated."""
    try:
        with safe_open(path, "pt") as fh:
            found = {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}
    except (SafetensorError, OSError) as exc:
        raise InputError(f"cannot read safetensors: {exc}", path=path) from None
    expected = expected_shapes(config)
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong_shape = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
    if missing or unexpected or wrong_shape:
        detail = "; ".join(
            f"{label}: {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong_shape)) if keys
        )
        raise InputError(f"the tensors do not match the {config.variant!r} architecture of its JSON config ({detail})", path=path)


def load_weights(name_or_path: str | None = None) -> tuple[AdaMatting, WeightsInfo]:
    """Build the network its JSON config describes and load the tensors into it (float32, eval mode)."""
    path = resolve_weights(name_or_path)
    info = read_weights_info(path)
    check_tensors(path, info.config)
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError) as exc:
        raise InputError(f"cannot read safetensors: {exc}", path=path) from None
    model = AdaMatting(info.config)
    expected = model.state_dict()
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    return model.eval(), info


def save_weights(model: AdaMatting, path: str, *, training: dict[str, Any] | None = None, half: bool = True) -> WeightsInfo:
    """Write `model` as PATH.safetensors (fp16 floats when `half`) and PATH.json, atomically."""
    if not path.endswith(".safetensors"):
        raise InputError("weights files end in .safetensors", path=path)
    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    with atomic_write(path) as tmp:
        save_file(state, tmp, metadata={"format": FORMAT, "variant": model.config.variant})
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "architecture": ARCHITECTURE,
        "variant": model.config.variant, "model": model.config.to_dict(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "dtype": "float16" if half else "float32",
        "training": training or {"data": "untrained (random initialisation)"},
        "sha256": sha256_of(path),
    }
    with atomic_write(os.path.splitext(path)[0] + ".json") as tmp:
        with open(tmp, "w") as fh:
            json.dump(meta, fh, indent=2)
    return WeightsInfo(path, model.config, meta["sha256"], meta)


def parameter_breakdown(model: AdaMatting) -> dict[str, int]:
    parts = {"encoder": model.encoder, "t_decoder": model.t_decoder, "a_decoder": model.a_decoder, "propagation": model.propagation}
    counts = {name: sum(p.numel() for p in module.parameters()) for name, module in parts.items()}
    counts["total"] = sum(p.numel() for p in model.parameters())
    return counts



def weights_metadata(info: WeightsInfo | None) -> dict[str, str]:
    """Which weights made a matte, for its header (`info` None: a model built in memory)."""
    return {"adamatte:weights": os.path.basename(info.path) if info else "in-memory",
            "adamatte:weights_hash": info.sha256 if info else ""}
