"""Decoder refit: only the decoder moves, it sees codes plus exactly the noise asked for, and it learns."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aeviewer.cli.commands import main
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models import build_model, default_config
from aeviewer.models.ae import reconstruction_loss
from aeviewer.training.checkpoint import load_checkpoint
from aeviewer.training.refit import RefitConfig, refit_decoder


def digit_like_set(n: int = 300, seed: int = 0) -> ImageSet:
    """Blobs at one of four places: structure a decoder can learn within a few epochs."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 1, 8, 8, dtype=torch.uint8)
    labels = torch.randint(0, 4, (n,), generator=g)
    for i, k in enumerate(labels.tolist()):
        r, c = divmod(k, 2)
        images[i, 0, 4 * r:4 * r + 4, 4 * c:4 * c + 4] = 255
    return ImageSet(images, labels, ("0", "1", "2", "3"), "blobs")


def tiny(kind: str = "aae", seed: int = 0):
    torch.manual_seed(seed)
    return build_model(default_config(kind, image_shape=(1, 8, 8), latent_dim=2, hidden=(32,), n_classes=4))


def state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_only_the_decoder_changes() -> None:
    model = tiny()
    encoder, decoder, discriminator = state(model.encoder), state(model.decoder), state(model.discriminator)
    refit_decoder(model, digit_like_set(), RefitConfig(epochs=1, lr=1e-2))
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in encoder.items())
    assert all(torch.equal(v, model.discriminator.state_dict()[k]) for k, v in discriminator.items())
    assert any(not torch.equal(v, model.decoder.state_dict()[k]) for k, v in decoder.items())


def test_decoder_sees_the_codes_plus_noise_of_the_std_asked_for() -> None:
    model = tiny()
    last = model.encoder[-1] if isinstance(model.encoder, torch.nn.Sequential) else None
    assert last is not None and isinstance(last, torch.nn.Linear)
    with torch.no_grad():  # every code is the point (1, -2): what reaches the decoder is that plus the noise
        last.weight.zero_()
        last.bias.copy_(torch.tensor([1.0, -2.0]))
    seen = []
    real = model.decode_logits
    model.decode_logits = lambda z: (seen.append(z.detach().clone()), real(z))[1]  # type: ignore[method-assign]
    refit_decoder(model, digit_like_set(2000), RefitConfig(noise=0.5, epochs=1, lr=1e-3, batch_size=100))
    z = torch.cat(seen)
    assert z.shape == (2000, 2)
    offset = z - torch.tensor([1.0, -2.0])
    assert offset.mean(0).abs().max() < 0.05  # standard error 0.5 / sqrt(2000) = 0.011
    assert (offset.std(0) - 0.5).abs().max() < 0.03


def test_refit_learns_to_use_the_codes() -> None:
    """From an untrained decoder, the refit beats the best image that ignores the code (the mean image)."""
    model, data = tiny(), digit_like_set()
    x = data.float_batch(slice(None))
    mean = x.mean(0, keepdim=True).clamp(1e-3, 1 - 1e-3)
    mean_image_loss = float(reconstruction_loss(torch.logit(mean).expand_as(x), x, model.config.recon))
    losses = refit_decoder(model, data, RefitConfig(noise=0.0, epochs=20, lr=1e-2, batch_size=50))
    assert losses[-1] < losses[0]
    with torch.no_grad():
        after = float(reconstruction_loss(model.decode_logits(model.encode(x)), x, model.config.recon))
    assert after < 0.8 * mean_image_loss


def test_same_seed_same_decoder() -> None:
    a, b = tiny(), tiny()
    refit_decoder(a, digit_like_set(), RefitConfig(epochs=1, lr=1e-2, seed=3))
    refit_decoder(b, digit_like_set(), RefitConfig(epochs=1, lr=1e-2, seed=3))
    assert all(torch.equal(v, b.decoder.state_dict()[k]) for k, v in a.decoder.state_dict().items())


@pytest.mark.parametrize("kind", ["vae", "vqvae"])
def test_kinds_without_one_code_per_image_are_refused(kind: str) -> None:
    torch.manual_seed(0)
    extra = {"hidden": (32,)} if kind == "vae" else {}
    model = build_model(default_config(kind, image_shape=(1, 8, 8), latent_dim=2, n_classes=4, **extra))
    with pytest.raises(ConfigError, match="cannot be refitted"):
        refit_decoder(model, digit_like_set(), RefitConfig())


def test_images_of_another_shape_are_refused() -> None:
    model = tiny()
    other = ImageSet(torch.zeros(10, 1, 28, 28, dtype=torch.uint8), torch.zeros(10, dtype=torch.long), ("0",), "x")
    with pytest.raises(ConfigError, match="expects"):
        refit_decoder(model, other, RefitConfig())


def test_cli_refits_on_the_training_images_less_the_hold_out(tmp_path: Path, monkeypatch) -> None:
    import aeviewer.training.refit as refit_module
    from aeviewer.data.loader import load_split

    path = tmp_path / "aae.safetensors"
    assert main(["train", "--model", "aae", "--dataset", "digits", "--epochs", "1", "--hold-out", "300",
                 "--out", str(path), "--no-eval"]) == 0
    seen = []
    real = refit_module.refit_decoder
    monkeypatch.setattr(refit_module, "refit_decoder", lambda m, images, *a, **k: (seen.append(images), real(m, images, *a, **k))[1])
    assert main(["refit-decoder", str(path), "--noise", "0.25", "--epochs", "1"]) == 0
    full = load_split("digits", "train", None)
    assert len(seen[0]) == len(full) - 300 and bool((seen[0].images == full.images[:-300]).all())
    refitted = load_checkpoint(tmp_path / "aae-refit.safetensors")
    (record,) = refitted.extra["refit_decoder"]
    assert record["noise"] == 0.25 and record["epochs"] == 1 and len(record["losses"]) == 1
    assert refitted.extra["train"]["hold_out"] == 300  # the training record travels with it
    assert "psnr_db" in refitted.metrics  # measured afresh on the refitted decoder


def test_cli_refit_of_a_vae_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "vae.safetensors"
    assert main(["train", "--model", "vae", "--dataset", "digits", "--epochs", "1", "--out", str(path), "--no-eval"]) == 0
    capsys.readouterr()
    assert main(["refit-decoder", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be refitted" in err[0]


def test_progress_reports_every_batch_of_every_epoch() -> None:
    steps, epochs = [], []
    refit_decoder(tiny(), digit_like_set(250), RefitConfig(epochs=2, batch_size=100),
                  on_epoch=lambda e, loss: epochs.append((e, loss)), on_step=steps.append)
    assert [(s.epoch, s.batch, s.n_batches) for s in steps] == [(e, b, 3) for e in (1, 2) for b in (1, 2, 3)]
    assert steps[-1].eta_s == 0 and all(s.samples_per_s > 0 for s in steps)
    assert [e for e, _ in epochs] == [1, 2] and all(loss > 0 for _, loss in epochs)


def test_a_diverged_refit_raises_and_the_cli_writes_nothing(tmp_path: Path, capsys) -> None:
    from aeviewer.errors import AeviewerError
    from aeviewer.training.checkpoint import save_checkpoint

    model = tiny()
    with torch.no_grad():
        model.decoder[0].weight.fill_(float("nan"))
    with pytest.raises(AeviewerError, match="diverged"):
        refit_decoder(model, digit_like_set(), RefitConfig())
    save_checkpoint(tmp_path / "nan.safetensors", tiny(), dataset="digits")
    assert main(["refit-decoder", str(tmp_path / "nan.safetensors"), "--lr", "1e30", "--no-eval"]) == 2
    assert "diverged" in capsys.readouterr().err
    assert not (tmp_path / "nan-refit.safetensors").exists()
