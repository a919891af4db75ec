"""The examples/ scripts, each run with a tiny training and block=False, then explored for one point."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
from shared_data import EMOJI_HOW, require_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def emoji() -> Path:
    return require_data("emoji/", how=EMOJI_HOW) / "emoji"


def run_example(monkeypatch, name: str, *args: str):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # as `python examples/<name>.py` would: its neighbours import
    module = importlib.import_module(name)
    return module.main([*args, "--steps", "2", "--no-block"])


def check_window(window, latent_size: int, title: str) -> None:
    try:
        assert window.isVisible() and window.windowTitle().startswith(title)
        assert window.session.latents.shape == (3655, latent_size)
        assert window.session.class_names[0] == "activities"
        z = window.session.latents[10]
        window.set_current_point(z)
        image = window.decoder_canvas.current_image()
        assert image.shape == (window.session.model.image_shape[1], window.session.model.image_shape[2], 3)
        assert np.isfinite(image).all() and image.std() > 0
    finally:
        window.close()


@pytest.mark.slow
def test_the_own_conv_autoencoder_example(qtbot, monkeypatch, emoji):
    check_window(run_example(monkeypatch, "emoji_autoencoder", "--emoji", str(emoji)), 16, "my emoji autoencoder")


@pytest.mark.slow
def test_the_onnx_pair_example(qtbot, monkeypatch, emoji, tmp_path):
    pytest.importorskip("onnxruntime")
    window = run_example(monkeypatch, "emoji_onnx_pair", "--emoji", str(emoji), "--out", str(tmp_path))
    assert (tmp_path / "encoder.onnx").is_file() and window.session.model.config.arch == "onnx"
    check_window(window, 16, "emoji autoencoder (ONNX)")


@pytest.mark.slow
def test_the_shaped_latent_example(qtbot, monkeypatch, emoji):
    window = run_example(monkeypatch, "shaped_latent", "--emoji", str(emoji))
    assert window.session.model.latent_shape == (4, 8, 8) and window.session.projection.kind == "pca"
    check_window(window, 256, "4x8x8 latent")


def teardown_module() -> None:
    for name in ("emoji_autoencoder", "emoji_onnx_pair", "shaped_latent"):
        sys.modules.pop(name, None)
