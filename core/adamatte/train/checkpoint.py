"""Training checkpoints as safetensors + JSON, written atomically, loadable without pickle.

Tensors (model, loss σ, optimiser moments, torch RNG) go to CHECKPOINT.safetensors; the
optimiser's moments are kept as bfloat16, which keeps a lite checkpoint under 25 MB (resuming
casts them back to the parameters' float32, as torch's Optimizer.load_state_dict does). The
rest (step, config, optimiser hyper-parameters, numpy/python RNG) to CHECKPOINT.json,
which records the tensor file's hash so a torn pair is never resumed from.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from adamatte.errors import InputError
from adamatte.io.atomic import atomic_write
from adamatte.io.hashing import sha256_of


def _split_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                value = value.detach().cpu()
                if value.is_floating_point() and value.dim() > 0:  # the moments, not Adam's step count
                    value = value.to(torch.bfloat16)
                tensors[f"optim.{index}.{key}"] = value.contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for name, value in meta["scalars"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    path: str,
    *,
    model: torch.nn.Module,
    loss: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    step: int,
    config: dict[str, Any],
    extra: dict[str, Any] | None = None,
    ema: torch.nn.Module | None = None,
) -> None:
    """Write PATH.safetensors and PATH.json (PATH without extension); `ema` is the averaged model."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if ema is not None:
        tensors |= {f"ema.{k}": v.detach().cpu().contiguous() for k, v in ema.state_dict().items()}
    tensors |= {f"loss.{k}": v.detach().cpu().contiguous() for k, v in loss.state_dict().items()}
    optim_tensors, optim_meta = _split_optimizer(optimizer.state_dict())
    tensors |= optim_tensors
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        tensors |= {f"rng.cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())}
    with atomic_write(path + ".safetensors") as tmp:
        save_file(tensors, tmp)
    meta = {
        "step": step,
        "config": config,
        "optimizer": optim_meta,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "rng": {"numpy": np.random.get_state()[1].tolist(), "numpy_pos": int(np.random.get_state()[2]), "python": list(random.getstate()[1])},
        "extra": extra or {},
        "sha256": sha256_of(path + ".safetensors"),
    }
    with atomic_write(path + ".json") as tmp:
        with open(tmp, "w") as fh:
            json.dump(meta, fh)


def checkpoint_exists(path: str) -> bool:
    return os.path.isfile(path + ".safetensors") and os.path.isfile(path + ".json")


def read_checkpoint(path: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and metadata of a checkpoint, after checking the pair belongs together."""
    if not checkpoint_exists(path):
        raise InputError("no checkpoint here (expected .safetensors and .json)", path=path)
    with open(path + ".json") as fh:
        meta = json.load(fh)
    if meta.get("sha256") != sha256_of(path + ".safetensors"):
        raise InputError("checkpoint tensors and metadata do not belong together (torn write?)", path=path)
    return load_file(path + ".safetensors"), meta


def prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def restore_checkpoint(
    path: str,
    *,
    model: torch.nn.Module,
    loss: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    ema: torch.nn.Module | None = None,
) -> dict[str, Any]:
    """Load a checkpoint into the given objects, restore RNG states, and return its metadata.
    An `ema` model is left as it is when the checkpoint has none (it then starts from the model)."""
    tensors, meta = read_checkpoint(path)
    model.load_state_dict(prefixed(tensors, "model."))
    if ema is not None and any(k.startswith("ema.") for k in tensors):
        ema.load_state_dict(prefixed(tensors, "ema."))
    loss.load_state_dict(prefixed(tensors, "loss."))
    optimizer.load_state_dict(_join_optimizer(tensors, meta["optimizer"]))
    if scaler is not None and meta.get("scaler"):
        scaler.load_state_dict(meta["scaler"])
    torch.set_rng_state(tensors["rng.torch"])
    if torch.cuda.is_available():
        cuda_states = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
        if cuda_states:
            torch.cuda.set_rng_state_all(cuda_states)
    rng = meta["rng"]
    np.random.set_state(("MT19937", np.array(rng["numpy"], dtype=np.uint32), rng["numpy_pos"], 0, 0.0))
    random.setstate((3, tuple(rng["python"]), None))
    return meta
