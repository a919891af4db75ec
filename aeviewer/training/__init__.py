"""Headless training, checkpoints and metrics (no Qt): what the CLI, the GUI worker and the tests share."""
from aeviewer.training.checkpoint import Checkpoint, load_checkpoint, read_metadata, save_checkpoint
from aeviewer.training.metrics import evaluate
from aeviewer.training.trainer import EpochInfo, StepInfo, TrainConfig, Trainer, TrainResult, resolve_device, seeded_build

__all__ = [
    "Checkpoint", "EpochInfo", "StepInfo", "TrainConfig", "TrainResult", "Trainer", "evaluate", "load_checkpoint",
    "read_metadata", "resolve_device", "save_checkpoint", "seeded_build",
]
