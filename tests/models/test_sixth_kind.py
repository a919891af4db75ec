"""A throw-away sixth kind, registered for one test through monkeypatch the way models/__init__ registers the
five: a class in the registry and its name in the spec (vocabulary). Nothing else learns of it, yet it trains,
saves, loads, evaluates and opens in the window, so a new kind touches models/ and the spec only."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aeviewer import models
from aeviewer.spec import vocabulary
from aeviewer.models.ae import AE

SIXTH = "shrinkae"


class ShrinkAE(AE):
    """An AE whose codes are also pulled toward 0 by a small L2 term: a kind no module outside models/ knows."""

    def loss(self, x: torch.Tensor, x_input: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        terms = super().loss(x, x_input, labels)
        shrink = 1e-3 * self.encode(x_input).square().sum(1).mean()
        return {**terms, "shrink": shrink, "total": terms["total"] + shrink}


@pytest.fixture
def sixth_kind(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register ShrinkAE as a sixth kind for one test: the spec's name lists and the models' registry."""
    kinds = (*vocabulary.KINDS, SIXTH)
    monkeypatch.setattr(vocabulary, "KINDS", kinds)
    monkeypatch.setattr(models, "KINDS", kinds)  # models/__init__ binds the spec's tuple by name
    monkeypatch.setitem(vocabulary.KIND_LABELS, SIXTH, "Shrinking autoencoder (ShrinkAE)")
    monkeypatch.setitem(vocabulary.KIND_SHORT_LABELS, SIXTH, "ShrinkAE")
    monkeypatch.setitem(vocabulary.RECONS, SIXTH, ("bce", "mse"))
    monkeypatch.setitem(models._CLASSES, SIXTH, ShrinkAE)
    return SIXTH


@pytest.fixture
def sixth_checkpoint(sixth_kind: str, tmp_path: Path, digits_train) -> Path:
    from aeviewer.training.checkpoint import save_checkpoint
    from aeviewer.training.trainer import TrainConfig, Trainer

    torch.manual_seed(0)
    model = models.build_model(models.default_config(sixth_kind, image_shape=(1, 8, 8), latent_dim=2, hidden=(32,)))
    assert isinstance(model, ShrinkAE)
    result = Trainer(model, digits_train, TrainConfig(epochs=1, batch_size=64, device="cpu")).run()
    assert result.status == "finished"
    assert "shrink" in result.history[-1], "the Trainer logs the sixth kind's own loss term"
    return save_checkpoint(tmp_path / "shrink-digits.safetensors", model.cpu(), dataset="digits", history=result.history)


@pytest.fixture(scope="module")
def digits_train():
    from aeviewer.data.loader import load_split

    return load_split("digits", "train")


def test_a_sixth_kind_trains_saves_loads_and_evaluates(sixth_checkpoint: Path) -> None:
    from aeviewer.data.loader import load_split
    from aeviewer.training.checkpoint import load_checkpoint
    from aeviewer.training.metrics import evaluate

    ckpt = load_checkpoint(sixth_checkpoint)
    assert isinstance(ckpt.model, ShrinkAE) and ckpt.model.config.kind == SIXTH
    metrics = evaluate(ckpt.model, load_split("digits", "test"))
    assert metrics["psnr_db"] > 0
    assert "neg_elbo" not in metrics and "active_units" not in metrics  # no regulariser flag, no regulariser figures

