"""Every shipped checkpoint loads and still measures what trained/index.json records for it."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from aeviewer.data.loader import load_split
from aeviewer.training.checkpoint import load_checkpoint
from aeviewer.training.metrics import evaluate

TRAINED = Path(__file__).resolve().parents[2] / "trained"
INDEX = json.loads((TRAINED / "index.json").read_text()) if (TRAINED / "index.json").exists() else {"models": []}


def test_index_lists_every_checkpoint_and_stays_small() -> None:
    listed = {m["file"] for m in INDEX["models"]}
    assert listed == {p.name for p in TRAINED.glob("*.safetensors")}
    assert sum(p.stat().st_size for p in TRAINED.glob("*.safetensors")) < 40e6
    assert INDEX["default"] in listed


@pytest.mark.slow
@pytest.mark.parametrize("entry", INDEX["models"], ids=[m["file"] for m in INDEX["models"]])
def test_checkpoint_still_measures_its_recorded_metrics(entry: dict) -> None:
    ckpt = load_checkpoint(TRAINED / entry["file"])
    assert ckpt.config.kind == entry["kind"] and ckpt.dataset == entry["dataset"]
    # The MNIST and emoji test splits ship in resources/, so this runs offline too.
    measured = evaluate(ckpt.model, load_split(entry["dataset"], "test", preparation=ckpt.preparation))
    assert set(entry["metrics"]) <= set(measured)
    for name, recorded in entry["metrics"].items():
        assert math.isclose(measured[name], recorded, rel_tol=2e-3, abs_tol=1e-3), name
