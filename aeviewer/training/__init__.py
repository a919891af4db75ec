"""Headless training, checkpoints and metrics (no Qt): what the CLI, the GUI worker and the tests share."""
from aeviewer.training.trainer import EpochInfo, StepInfo, TrainConfig, Trainer, TrainResult, resolve_device, seeded_build

__all__ = ["EpochInfo", "StepInfo", "TrainConfig", "TrainResult", "Trainer", "resolve_device", "seeded_build"]
