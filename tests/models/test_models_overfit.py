"""Every kind overfits 64 digits: its reconstruction loss falls by a large factor in a bounded number of steps."""
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from aeviewer.models import build_model, default_config

torch.set_num_threads(1)

STEPS = 300
# Factor by which the reconstruction loss above its floor must fall; the VAE's sampled z and the AAE's
# adversarial term keep them from memorising as tightly as the deterministic kinds.
FACTORS = {"ae": 10.0, "dae": 10.0, "vae": 2.5, "aae": 2.5, "vqvae": 10.0}


def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    digits = load_digits()
    x = torch.tensor(digits.images[:64], dtype=torch.float32).div(16.0).unsqueeze(1)
    return x, torch.tensor(digits.target[:64])


@pytest.mark.parametrize("kind", ["ae", "dae", "vae", "aae", "vqvae"])
def test_every_kind_overfits_a_small_batch(kind):
    x, labels = _digits()
    # BCE against grey targets cannot reach 0: measure the excess over sum_i H(x_i), reached when f(z) = x.
    floor = float(F.binary_cross_entropy(x, x, reduction="sum")) / len(x)
    x_input = (x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1) if kind == "dae" else x
    torch.manual_seed(0)
    model = build_model(default_config(kind, (1, 8, 8), latent_dim=8, hidden=(128, 64), codebook_size=64, code_dim=16))
    opts = model.make_optimizers(3e-3)
    model.on_epoch_start()
    excess = [float(model.train_step(x, x_input, opts, labels)["recon"]) - floor for _ in range(STEPS)]
    assert excess[0] / excess[-1] > FACTORS[kind], f"{kind}: {excess[0]:.2f} -> {excess[-1]:.2f} nats above the floor"
    if kind == "vqvae":
        assert model.epoch_stats()["codes_used_frac"] > 0.2
