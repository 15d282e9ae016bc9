"""Training AdaMatting: config, data pipeline, multi-task loss, checkpoints and the training loop."""
