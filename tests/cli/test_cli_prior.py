"""`aeviewer train-prior` writes a prior into a VQ-VAE's checkpoint; `aeviewer evaluate` reports its NLL and the bound."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from aeviewer.cli.commands import main
from aeviewer.util.paths import shipped_dir
from aeviewer.training.checkpoint import load_checkpoint, read_metadata, save_checkpoint

TINY = ["--width", "16", "--layers", "1", "--batch-size", "128"]


@pytest.fixture
def digits_vqvae(tmp_path: Path) -> Path:
    """The shipped digits VQ-VAE without its prior: a checkpoint as they were before priors existed."""
    ckpt = load_checkpoint(shipped_dir("trained") / "vqvae-digits.safetensors")
    ckpt.model.attach_prior(None)
    extra = {k: v for k, v in ckpt.extra.items() if k != "prior"}
    metrics = {k: v for k, v in ckpt.metrics.items() if not k.startswith(("prior_", "nll_bound"))}
    return save_checkpoint(tmp_path / "vq.safetensors", ckpt.model, dataset=ckpt.dataset, metrics=metrics,
                           history=ckpt.history, extra=extra)


def test_train_prior_for_one_epoch_writes_it_into_the_checkpoint(digits_vqvae: Path, capsys) -> None:
    before = load_checkpoint(digits_vqvae)
    assert not before.model.has_prior
    assert main(["train-prior", str(digits_vqvae), "--epochs", "1", "--class-conditional", *TINY]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and "prior_nll_bits_per_code" in out
    after = load_checkpoint(digits_vqvae)
    assert after.model.has_prior and after.model.prior.conditional
    # the VQ-VAE itself is untouched, and the prior's record and figures are in the file
    for name, value in before.model.state_dict().items():
        torch.testing.assert_close(after.model.state_dict()[name], value)
    assert after.extra["prior"]["status"] == "finished" and after.extra["prior"]["epochs"] == 1
    assert 0 < after.metrics["prior_nll_bits_per_code"] < 8  # K = 64: a uniform prior is 6 bits
    images = after.model.decode(after.model.sample(4, generator=torch.Generator().manual_seed(0), labels=3))
    assert images.shape == (4, 1, 8, 8)


def test_evaluate_prints_the_prior_nll_and_the_bound_with_its_terms(digits_vqvae: Path, capsys) -> None:
    assert main(["train-prior", str(digits_vqvae), "--epochs", "1", "--no-eval", *TINY]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(digits_vqvae), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    bound = metrics["prior_nll_nats_per_image"] + metrics["recon_bce"]
    assert metrics["nll_bound_nats_per_image"] == pytest.approx(bound)
    assert main(["evaluate", str(digits_vqvae)]) == 0
    text = capsys.readouterr().out
    assert "nll_bound_nats_per_image" in text and "-log p(c(x))" in text and "recon_bce" in text


def test_train_prior_writes_elsewhere_with_out_and_leaves_the_source(digits_vqvae: Path, tmp_path: Path) -> None:
    out = tmp_path / "with-prior.safetensors"
    assert main(["train-prior", str(digits_vqvae), "--epochs", "1", "--no-eval", "--arch", "pixelcnn",
                 "--out", str(out), "--width", "8", "--layers", "2"]) == 0
    assert "prior" not in read_metadata(digits_vqvae)["extra"]
    assert load_checkpoint(out).model.prior.config.arch == "pixelcnn"


def test_train_prior_on_a_model_without_codebook_is_one_line_exit_2(capsys) -> None:
    assert main(["train-prior", str(shipped_dir("trained") / "vae-digits.safetensors"), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no codebook" in err
