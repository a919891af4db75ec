"""One description per training and model option; the training panel builds its form and the CLI its flags from it.

An :class:`Option` says what a person sets (label, type, range, default, tooltip), where it goes (the
ModelConfig or TrainConfig field ``name``), when it applies (the kinds, network shapes and other
options' values) and how it is typed on the command line (``flag``, ``parse``). Adding an option is
adding one entry to OPTIONS and using its field; the form, the visibility, reading and showing a
config, and the CLI follow. Torch-free and Qt-free, like the vocabulary it draws on.

Why not magicgui: it builds a form from a function's annotations, but it would add three packages
(magicgui, psygnal, superqt), wrap every widget in its own classes, and still leave us to write the
per-kind visibility, the comma-separated widths, the CLI and the checkpoint record; this table is
all of that in one place, and the panel keeps plain Qt widgets.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from aeviewer.spec.widths import parse_widths
from aeviewer.spec.vocabulary import (
    ARCH_LABELS, ARCHS, CONV_ARCHS, NAMED_DATASETS, DEVICE_SPECS, KIND_LABELS, KINDS, LR_SCHEDULE_LABELS, NOISE_KINDS,
    NOISE_LABELS, PRECISION_LABELS, PRIORS, RECON_LABELS, RECONS, network_shape,
)

Parse = Callable[[str], Any]


# -- command-line parsers (argparse ``type=``): each rejects a bad value with one line naming it -----------
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _finite_float(text: str, least: float, strict: bool, wanted: str) -> float:
    """A finite number above ``least`` (or at least it, unless ``strict``): NaN and inf would pass the model's
    range checks and surface an epoch later as 'the loss became nan', naming no argument."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
    if not math.isfinite(value) or value < least or (strict and value == least):
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
    return value


def positive_float(text: str) -> float:
    return _finite_float(text, 0.0, True, "a positive number")


def non_negative_float(text: str) -> float:
    return _finite_float(text, 0.0, False, "a number 0 or more")


def probability(text: str) -> float:
    value = _finite_float(text, 0.0, False, "a probability in [0, 1)")
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def growth(text: str) -> float:
    return _finite_float(text, 1.0, False, "a factor of 1 or more")


def seed(text: str) -> int:
    """0 <= seed < 2**63: torch's generators take no more (a larger one failed after the data had loaded)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**63 - 2, got {text!r}") from None
    if not 0 <= value < 2**63 - 1:  # the trainer also seeds a generator with seed + 1
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**63 - 2, got {text!r}")
    return value


def fraction(text: str) -> float:
    value = _finite_float(text, 0.0, True, "a fraction between 0 and 1")
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return value


def image_side(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an image side in pixels, got {text!r}") from None
    if not 1 <= value <= 4096:
        raise argparse.ArgumentTypeError(f"expected an image side from 1 to 4096 px, got {text!r}")
    return value


_UNITS = {"": 1e9, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}


def memory_size(text: str) -> int:
    """'4', '4GB', '500 MB', '1.5gb' -> bytes (a bare number is gigabytes)."""
    import re

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?b?)\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a size such as 4GB or 500MB, got {text!r}")
    unit = match.group(2)
    unit = unit if unit in _UNITS else unit + "b"
    return int(float(match.group(1)) * _UNITS[unit])


def widths(text: str) -> tuple[int, ...]:
    try:
        return parse_widths(text)
    except Exception as err:  # ConfigError: one line
        raise argparse.ArgumentTypeError(str(err)) from None


# -- the description --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """One option. ``type``: "int" | "float" | "bool" | "choice" | "widths" | "text" | "dataset" | "device".

    ``group`` "model" writes ModelConfig.``name``, "train" TrainConfig.``name``, "data" picks the data;
    ``kinds``/``archs`` (network shapes, see vocabulary.network_shape) and ``requires`` (other options'
    allowed values) say when it applies: a panel row is shown then, and only then read into the config.
    ``panel``/``flag``: whether it has a panel row and which CLI flag (None: none). On the CLI a model or
    data option left out is None (the kind's default, or a checkpoint's recorded preparation, applies) unless
    ``cli_always``; a train option gets ``default``. ``path_only``: a data preparation option, which means
    something only for a data set given by path (a panel row then). ``special``: the panel's text for the
    lowest value, which stands for None (e.g. "own size").
    """

    name: str
    label: str
    type: str
    default: Any
    tooltip: str
    group: str = "model"
    low: float = 0
    high: float = 0
    step: float = 1
    decimals: int = 2
    suffix: str = ""
    text: str = ""  # a check box's own text
    choices: Mapping[str, str] = field(default_factory=dict)  # value -> label, in the panel's order
    kinds: tuple[str, ...] | None = None  # None: every kind, a kind registered after this table was built too
    archs: tuple[str, ...] = ARCHS
    requires: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    panel: bool = True
    flag: str | None = None
    parse: Parse | None = None
    cli_help: str = ""
    cli_always: bool = False
    required: bool = False
    metavar: str | None = None
    path_only: bool = False
    special: str = ""

    @property
    def dest(self) -> str:
        """The argparse attribute the flag fills."""
        return (self.flag or self.name).lstrip("-").replace("-", "_")

    def applies(self, values: Mapping[str, Any]) -> bool:
        """Whether this option means anything for the settings ``values`` (name -> value; needs kind and arch)."""
        kind = values["kind"]
        if self.path_only and values.get("dataset") in NAMED_DATASETS:
            return False
        return ((self.kinds is None or kind in self.kinds) and network_shape(kind, values["arch"]) in self.archs
                and all(values[name] in allowed for name, allowed in self.requires.items()))


def _o(name: str, label: str, type: str, default: Any, tooltip: str, **more: Any) -> Option:
    return Option(name, label, type, default, tooltip, **more)


NOT_VQ = tuple(k for k in KINDS if k != "vqvae")
OPTIONS: tuple[Option, ...] = (
    _o("kind", "Kind", "choice", "ae", "Which autoencoder to train. DAE: trained on corrupted inputs; VAE and AAE: "
       "latent pulled to a prior; VQ-VAE: discrete codes from a codebook.", choices=KIND_LABELS, flag="--model",
       required=True, cli_help="kind of autoencoder"),
    _o("dataset", "Data set", "dataset", "digits", "Training images (the test split is drawn in the scatter): a named set, or a path to an image "
       "folder (one subfolder per class), a .npz/.npy file or a CIFAR binary folder.",
       group="data", flag="--dataset", cli_help="digits, mnist, fashion-mnist, or a path: an image folder (one subfolder per class), "
       "a .npz/.npy file or a CIFAR binary folder (default: digits)", cli_always=True),
    _o("image_size", "Image size", "int", 0, "Square side the images are resized to (antialiased, aspect kept, "
       "then cropped or padded); own size: 64 for a folder, an array's own size.", group="data", low=0, high=4096,
       suffix=" px", special="own size", path_only=True, flag="--image-size", parse=image_side, metavar="N",
       cli_help="square side the images are resized to (default: 64 for a folder, an array's own size)"),
    _o("image_channels", "Image channels", "choice", "auto", "Colour channels the images are read with: 1 (grey), "
       "3 (RGB), or auto: 1 when every image is grey. (The network's widths are Conv widths.)",
       group="data", choices={"1": "1 (grey)", "3": "3 (RGB)", "auto": "auto"}, path_only=True, flag="--channels",
       cli_help="1 (grey), 3 (RGB) or auto: 1 when every image is grey (default)"),
    _o("fit", "Fit", "choice", "crop", "Crop: fill the square, cut the overflow. Pad: the whole image, the rest "
       "filled with the background.", group="data", choices={"crop": "crop", "pad": "pad"}, path_only=True,
       flag="--fit", cli_help="crop the overflow (default) or pad to the square"),
    _o("background", "Background", "choice", "white", "What transparent pixels and padding become.", group="data",
       choices={"white": "white", "black": "black"}, path_only=True, flag="--background",
       cli_help="what alpha and padding become (default white)"),
    _o("test_fraction", "Test fraction", "float", 0.2, "Share of each class held out for testing where the source "
       "has no train/test split (seeded: the same split on every run).", group="data", low=0.01, high=0.99,
       step=0.05, path_only=True, flag="--test-fraction", parse=fraction, metavar="F",
       cli_help="share of each class held out for testing where the source has no split (default 0.2)"),
    _o("max_memory", "Memory limit", "float", 4.0, "The most of a data set's decoded images held in memory: a larger "
       ".npz/.npy or cached folder is memory-mapped and read batch by batch; a larger new folder is refused.", group="data", low=0.01, high=1024.0, step=0.5, suffix=" GB",
       path_only=True, flag="--max-memory", parse=memory_size, metavar="SIZE",
       cli_help="hold at most this much of the images in memory (default 4GB); a larger .npz/.npy or cached "
                "folder is memory-mapped, a larger new folder refused"),
    _o("arch", "Architecture", "choice", "mlp", "Network shape: fully connected layers, or convolutions (square "
       "images of 16 to 256 px, a multiple of 4): a plain stride-2 stack, or residual blocks with GroupNorm as in "
       "the Stable Diffusion VAE (sharper, slower per step). The VQ-VAE is always convolutional (MLP: conv).",
       choices=ARCH_LABELS, flag="--arch",
       cli_help="network architecture: mlp, conv or resnet (default: mlp; conv for vqvae, which takes conv or resnet)"),
    _o("hidden", "Hidden layers", "widths", (512, 256), "MLP: widths of the encoder's hidden layers, input side first, "
       "e.g. 512, 256; the decoder mirrors them. Wider layers fit better and train slower.", archs=("mlp",),
       flag="--hidden", parse=widths, cli_help="mlp hidden widths, e.g. 512,256"),
    _o("decoder_dropout", "Decoder dropout", "float", 0.0, "MLP decoder: each hidden activation is dropped with this "
       "probability while training (not when decoding). A regulariser: 0.1 lifted the 8-dim AAE's Parzen figure "
       "above the paper's (docs/aae-study.md).", low=0.0, high=0.9, step=0.05, archs=("mlp",), flag="--decoder-dropout",
       parse=probability, cli_help="mlp decoder: drop each hidden activation with probability P while training (default 0)"),
    _o("channels", "Conv widths", "widths", (32, 64), "Convolutions (and the VQ-VAE): the number of channels of the "
       "encoder's two convolution layers, e.g. 32, 64 (the VQ-VAE also takes one); the decoder mirrors them. "
       "Not the images' colour channels (Image channels).", archs=CONV_ARCHS, flag="--conv-widths", parse=widths,
       cli_help="conv/resnet (and vqvae) channel widths, first stage first, e.g. 32,64; further stages double the "
                "last (default 32,64)"),
    _o("latent_dim", "Latent dim", "int", 2, "Size of the latent code; 2 is drawn as it is, more through PCA or a "
       "pair of dimensions.", low=2, high=512, kinds=NOT_VQ, flag="--latent-dim", parse=positive_int,
       cli_help="latent dimension (default 2)", cli_always=True),
    _o("codebook_size", "Codebook size K", "int", 512, "VQ-VAE: number of codebook vectors K.", low=2, high=8192,
       kinds=("vqvae",), flag="--codebook-size", parse=positive_int, cli_help="VQ-VAE: number of codes K"),
    _o("code_dim", "Code dim D", "int", 64, "VQ-VAE: length D of each codebook vector.", low=1, high=512,
       kinds=("vqvae",), flag="--code-dim", parse=positive_int, cli_help="VQ-VAE: code dimension D"),
    _o("conv_stages", "Code grid stages", "int", 0, "VQ-VAE with the resnet arch: stride-2 stages from the image "
       "to its code grid, each halving the side (64 px: 2 gives a 16x16 grid, 3 an 8x8 one, easier for a prior to "
       "learn); auto: two.", low=0, high=6, special="auto", kinds=("vqvae",), archs=("resnet",), flag="--code-grid-stages",
       parse=positive_int, metavar="N", cli_help="VQ-VAE, resnet arch: stride-2 stages to the code grid (default 2: "
       "28 px -> 7x7, 64 px -> 16x16)"),
    _o("recon", "Likelihood", "choice", "bce", "VAE: the decoder's likelihood p(x|z).", kinds=("vae",),
       choices={r: RECON_LABELS[r] for r in RECONS["vae"]}, flag="--recon", parse=str,
       cli_help="reconstruction loss: bce or mse (vae: bce or gaussian)"),
    _o("beta", "β (KL weight)", "float", 1.0, "VAE: weight β of the KL term (β-VAE when > 1).", low=0.0, high=100.0,
       step=0.1, decimals=3, kinds=("vae",), flag="--beta", parse=non_negative_float, cli_help="VAE: weight of the KL term"),
    _o("c", "c (variance)", "float", 1.0, "VAE (Gaussian decoder): variance c of p(x|z) = N(f(z), cI).", low=1e-4,
       high=100.0, step=0.1, decimals=4, kinds=("vae",), requires={"recon": ("gaussian",)}, flag="--c",
       parse=positive_float, cli_help="VAE gaussian decoder variance c"),
    _o("noise_kind", "Noise", "choice", "gaussian", "DAE: how inputs are corrupted during training.",
       choices={k: NOISE_LABELS[k] for k in NOISE_KINDS}, kinds=("dae",)),
    _o("noise_level", "Noise level", "float", 0.5, "DAE: gaussian σ, or the fraction of pixels masked / set to salt "
       "and pepper.", low=0.0, high=2.0, step=0.05, kinds=("dae",)),
    _o("noise", "Noise", "text", "none", "Input corruption.", panel=False, flag="--noise",
       cli_help="input corruption, e.g. gaussian:0.5, masking:0.25, salt_pepper:0.2"),
    _o("prior", "Prior", "choice", "gaussian", "AAE: the distribution the latent codes are pushed towards.",
       choices={p: p for p in PRIORS}, kinds=("aae",), flag="--prior", cli_help="AAE prior"),
    _o("conditional_prior", "Label-conditioned", "bool", False, "AAE with a mixture or swiss-roll prior: the "
       "discriminator is told each image's class, and the codes of class k are pushed onto the prior's component k "
       "(Makhzani et al.'s semi-supervised prior), so the classes land where you chose.",
       text="Class k from component k", kinds=("aae",), requires={"prior": ("mixture10", "swissroll")},
       flag="--conditional-prior", cli_help="AAE: class k drawn from prior component k"),
    _o("adversarial_weight", "Adversarial weight λ", "float", 10.0, "AAE: weight λ of the adversarial term in "
       "recon + λ·gen; larger pulls the codes harder onto the prior, smaller keeps reconstructions sharper.",
       low=0.0, high=1000.0, step=1.0, kinds=("aae",), flag="--adversarial-weight", parse=non_negative_float,
       cli_help="AAE: weight λ of the generator term in recon + λ·gen"),
    _o("adversarial_growth", "λ growth over the run", "float", 1.0, "AAE: λ grows linearly over the run from λ to "
       "this many times λ; a strong adversary from the first step can collapse the codes. 1 keeps λ constant.",
       low=1.0, high=100.0, step=0.5, suffix=" ×", kinds=("aae",), flag="--adversarial-growth", parse=growth,
       cli_help="AAE: λ grows linearly over the run to this many times λ (default 1: constant)"),
    _o("disc_hidden", "Discriminator layers", "widths", (256, 256), "AAE: widths of the discriminator's hidden layers "
       "(Makhzani et al. use 1000, 1000).", kinds=("aae",), flag="--disc-hidden", parse=widths,
       cli_help="AAE: discriminator hidden widths (default 256,256; the paper: 1000,1000)"),
    _o("learned_posterior", "Learned posterior", "bool", False, "AAE: q(z|x) = N(μ(x), diag σ²(x)), the encoder "
       "predicting σ per image and dimension, as a VAE's does. Watch for collapse: the adversary is as content with "
       "pure prior noise, so a dimension can end unused (μ = 0, σ = 1 for every image).",
       text="Encoder predicts the spread", kinds=("aae",), flag="--learned-posterior",
       cli_help="AAE: q(z|x) = N(mu(x), diag sigma²(x)), the encoder predicting both (instead of --posterior-std); "
                "the adversary may leave dimensions unused (mu = 0, sigma = 1)"),
    _o("posterior_std", "Posterior spread s", "float", 0.0, "AAE: spread s of a Gaussian posterior "
       "q(z|x) = N(encoder(x), s²I); 0 keeps the encoder deterministic.", low=0.0, high=10.0, step=0.05,
       kinds=("aae",), requires={"learned_posterior": (False,)}, flag="--posterior-std", parse=non_negative_float,
       cli_help="AAE: q(z|x) = N(encoder(x), s²I) with this s (default 0: deterministic)"),
    _o("epochs", "Epochs", "int", 10, "Passes over the training split.", group="train", low=1, high=10_000,
       flag="--epochs", parse=positive_int),
    _o("batch_size", "Batch size", "int", 128, "Images per optimisation step.", group="train", low=1, high=8192,
       flag="--batch-size", parse=positive_int),
    _o("lr", "Learning rate", "float", 1e-3, "Adam learning rate.", group="train", low=1e-6, high=1.0, step=1e-4,
       decimals=6, flag="--lr", parse=positive_float),
    _o("lr_schedule", "Learning-rate schedule", "choice", "constant", "How the learning rate changes over the run. "
       "Cosine: decays to zero. Drop: a tenth of it for the last tenth of the run, which lets the weights settle.",
       group="train", choices=LR_SCHEDULE_LABELS, flag="--lr-schedule",
       cli_help="learning rate over the run: constant, cosine decay to zero, or drop to a tenth for the last tenth "
                "of the run"),
    _o("weight_decay", "Weight decay", "float", 0.0, "L2 penalty on the weights in every optimiser of the run "
       "(the AAE's discriminator's too): each step adds this times the weights to their gradient. 0: none.",
       group="train", low=0.0, high=1.0, step=1e-4, decimals=6, flag="--weight-decay", parse=non_negative_float),
    _o("seed", "Seed", "int", 0, "Same seed, same settings: same weights.", group="train", low=0, high=2**31 - 1,
       flag="--seed", parse=seed),
    _o("device", "Device", "device", "auto", "Where training runs (the views always decode on the CPU).",
       group="train", flag="--device", cli_help=DEVICE_SPECS),
    _o("precision", "Precision", "choice", "auto", "Arithmetic of the training steps. auto: bf16 autocast where the "
       "hardware runs it natively (a CPU with AMX or AVX512-BF16, a CUDA GPU with bf16), else fp32; about twice as "
       "fast on conv nets. Losses, the KL, the codebook and the saved weights stay fp32. fp16: CUDA only.",
       group="train", choices=PRECISION_LABELS, flag="--precision",
       cli_help="auto (bf16 autocast where the hardware runs it natively, else fp32), fp32, bf16, or fp16 (CUDA, "
                "with a gradient scaler); the checkpoint records the one used"),
    _o("binarize", "Binarise", "bool", False, "Dynamic binarisation.", group="train", panel=False, flag="--binarize",
       cli_help="dynamic binarisation: each batch drawn as x ~ Bernoulli(pixel) (evaluate with --binarize)"),
)
BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}


def options(group: str | None = None, *, panel: bool | None = None, path_only: bool | None = None) -> list[Option]:
    """The options of ``group`` ("model", "train", "data"; None: all), optionally only those with (or
    without) a panel row, or only the data preparation options (``path_only``) or all others."""
    return [o for o in OPTIONS if (group is None or o.group == group) and (panel is None or o.panel == panel)
            and (path_only is None or o.path_only == path_only)]


def applicable(values: Mapping[str, Any], group: str | None = None) -> list[Option]:
    """The panel options of ``group`` that mean something for the settings ``values``."""
    return [o for o in options(group, panel=True) if o.applies(values)]


def train_record(config: Any) -> dict[str, Any]:
    """How a run was trained, as the GUI records it beside the weights: the panel's training options."""
    return {o.name: getattr(config, o.name) for o in options("train", panel=True)}


def add_cli_options(parser: argparse.ArgumentParser, chosen: Iterable[Option]) -> None:
    """An argparse flag for each option: its parser, choices and default as the table describes them."""
    for o in chosen:
        if o.flag is None:
            continue
        help_text = o.cli_help or o.tooltip
        if o.type == "bool":
            parser.add_argument(o.flag, action="store_true", help=help_text)
            continue
        kwargs: dict[str, Any] = {"help": help_text, "dest": o.dest}
        if o.metavar:
            kwargs["metavar"] = o.metavar
        if o.parse is not None:
            kwargs["type"] = o.parse
        elif o.type == "choice":
            kwargs["choices"] = tuple(o.choices)
        if o.required:
            kwargs["required"] = True
        else:
            kwargs["default"] = o.default if (o.group == "train" or o.cli_always) else None
        parser.add_argument(o.flag, **kwargs)


def cli_values(args: argparse.Namespace, group: str) -> dict[str, Any]:
    """The ``group`` options the command line set (a model option left out is absent: the kind's default applies)."""
    values = {o.name: getattr(args, o.dest) for o in options(group) if o.flag is not None}
    return {k: v for k, v in values.items() if v is not None}
