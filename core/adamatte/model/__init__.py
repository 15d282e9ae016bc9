"""The AdaMatting network: encoder, T- and A-decoders, propagation unit, and its configs."""

from adamatte.model.adamatting import AdaMatting, AdaOutput
from adamatte.model.config import ModelConfig, load_model_config

__all__ = ["AdaMatting", "AdaOutput", "ModelConfig", "load_model_config"]
