"""The names the program speaks in, each list in one place: kinds, architectures, priors, noises, schedules.

Torch-free and Qt-free, so the CLI can build its parser and the GUI its menus without loading either;
the models, the trainer, the CLI, the training panel, the picker and the denoise view all read these.
"""
from __future__ import annotations

NAMED_DATASETS: tuple[str, ...] = ("digits", "mnist", "fashion-mnist")  # aeviewer.data.sources.SOURCES; else a path
KINDS: tuple[str, ...] = ("ae", "dae", "vae", "aae", "vqvae")
KIND_LABELS: dict[str, str] = {
    "ae": "Autoencoder (AE)",
    "dae": "Denoising autoencoder (DAE)",
    "vae": "Variational autoencoder (VAE)",
    "aae": "Adversarial autoencoder (AAE)",
    "vqvae": "Vector-quantised VAE (VQ-VAE)",
}
KIND_SHORT_LABELS: dict[str, str] = {"ae": "AE", "dae": "DAE", "vae": "VAE", "aae": "AAE", "vqvae": "VQ-VAE"}  # in sentences
GRID_LATENT_KINDS: tuple[str, ...] = ("vqvae",)  # a grid of codes, not a vector of latent_dim numbers
LAUNCH_KIND = "vae"  # a bare start opens a shipped MNIST model of this kind (its 2-dim one first)

ARCHS: tuple[str, ...] = ("mlp", "conv")
ARCH_LABELS: dict[str, str] = {"mlp": "MLP (any size)", "conv": "Convolutional (square, 16–256 px)"}

# The reconstruction likelihoods each kind offers, its default first.
RECONS: dict[str, tuple[str, ...]] = {
    "ae": ("bce", "mse"), "dae": ("bce", "mse"), "aae": ("bce", "mse"), "vae": ("bce", "gaussian"), "vqvae": ("bce",),
}
RECON_LABELS: dict[str, str] = {"bce": "Bernoulli (BCE)", "gaussian": "Gaussian (MSE / c)", "mse": "MSE"}

PRIORS: tuple[str, ...] = ("gaussian", "mixture10", "swissroll")  # the AAE's

# The learned priors over a VQ-VAE's code maps (aeviewer.models.priors), the default first.
PRIOR_ARCHS: tuple[str, ...] = ("transformer", "pixelcnn")
PRIOR_ARCH_LABELS: dict[str, str] = {"transformer": "Causal transformer (raster order)", "pixelcnn": "Gated PixelCNN"}

NOISE_KINDS: tuple[str, ...] = ("gaussian", "masking", "salt_pepper")  # "none" is the absence of one
NOISE_LABELS: dict[str, str] = {"gaussian": "Gaussian σ", "masking": "Masking", "salt_pepper": "Salt & pepper",
                                "none": "None"}
NOISE_MAX_LEVEL: dict[str, float] = {"gaussian": 2.0, "masking": 1.0, "salt_pepper": 1.0, "none": 1.0}

LR_SCHEDULES: tuple[str, ...] = ("constant", "cosine", "drop")
LR_SCHEDULE_LABELS: dict[str, str] = {"constant": "Constant", "cosine": "Cosine decay", "drop": "Drop to a tenth at 90%"}

DEVICE_SPECS = "auto, cpu, cuda or cuda:N"  # what resolve_device accepts, as the messages name it


def network_shape(kind: str, arch: str) -> str:
    """The network shape a kind really gets: the VQ-VAE is always convolutional, whatever ``arch`` says."""
    return "conv" if kind in GRID_LATENT_KINDS else arch
