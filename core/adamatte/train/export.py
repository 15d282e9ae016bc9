"""Training checkpoint -> inference weights (safetensors + JSON)."""

from __future__ import annotations

import os

from adamatte.model import AdaMatting, load_model_config
from adamatte.model.weights import WeightsInfo, save_weights
from adamatte.train.checkpoint import prefixed, read_checkpoint
from adamatte.train.config import config_from_dict


def export_checkpoint(checkpoint: str, output: str, *, half: bool = True) -> WeightsInfo:
    """Write the model of `checkpoint` (a run folder or its checkpoint path) as weights at `output`;
    the moving average of its weights when it kept one."""
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
    return save_weights(model.eval(), output, training=training, half=half)
