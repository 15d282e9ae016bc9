"""Training checkpoint -> inference weights (safetensors + JSON)."""

from __future__ import annotations

import os

from adamatte.model import AdaMatting, load_model_config
from adamatte.model.weights import WeightsInfo, save_weights
from adamatte.train.checkpoint import prefixed, read_checkpoint
from adamatte.train.config import config_from_dict


def is_checkpoint(source: str) -> bool:
    """Whether `source` names a training run folder or its checkpoint (rather than weights)."""
    base = os.path.join(source, "checkpoint") if os.path.isdir(source) else source.removesuffix(".safetensors").removesuffix(".json")
    return os.path.isfile(base + ".json") and os.path.basename(base) == "checkpoint"


def model_from_checkpoint(checkpoint: str) -> tuple[AdaMatting, dict]:
    """The model of `checkpoint` (a run folder or its checkpoint path), the moving average of its
    weights when it kept one, in eval mode, and its training record."""
    path = os.path.join(checkpoint, "checkpoint") if os.path.isdir(checkpoint) else checkpoint.removesuffix(".safetensors").removesuffix(".json")
    tensors, meta = read_checkpoint(path)
    cfg = config_from_dict(meta["config"])
    model = AdaMatting(load_model_config(cfg.model))
    # the weights' moving average when the run kept one (AveragedModel names them module.*)
    averaged = prefixed(tensors, "ema.module.")
    model.load_state_dict(averaged or prefixed(tensors, "model."))
    training = {
        "data": cfg.data_note or ", ".join(ds.image or ds.foreground for ds in cfg.train),
        "config": cfg.name,
        "steps": meta["step"],
        "ema": bool(averaged),
        "batch_size": cfg.batch_size,
        "sigma_t": float(tensors["loss.log_sigma_t"].exp()),
        "sigma_a": float(tensors["loss.log_sigma_a"].exp()),
    }
    return model.eval(), training


def export_checkpoint(checkpoint: str, output: str, *, half: bool = True) -> WeightsInfo:
    """Write the model of `checkpoint` (see model_from_checkpoint) as weights at `output`."""
    model, training = model_from_checkpoint(checkpoint)
    return save_weights(model, output, training=training, half=half)
