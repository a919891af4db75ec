"""A held-out judge of MNIST samples: a small classifier of real digits scores the samples of each model's prior.

The classifier (two small conv layers, trained here on MNIST's training split for ``--epochs`` epochs, seeded) is
cached under the per-user cache folder, so a rerun only scores. For each source of images it prints
- confident: the fraction the classifier labels with confidence >= 0.9;
- IS: the Inception-Score formula over its predictions, exp(E_x KL(p(y|x) || p(y))), 10 at best;
- for a class-conditional prior, the fraction of samples drawn for class k that the judge labels k (chance 0.1).
Sources: the MNIST test images (the ceiling), the shipped 2-D VAE and AAE priors, the shipped VQ-VAE's prior.

    nice -n 10 python benchmarks/judge_mnist.py            # 1,000 images per source
    python benchmarks/judge_mnist.py --quick               # 100 per source, one short epoch (CI smoke)
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from aeviewer.data.loader import load_split
from aeviewer.errors import AeviewerError
from aeviewer.util.paths import cache_dir, shipped_dir
from aeviewer.training.checkpoint import load_checkpoint

CONFIDENT = 0.9
MODELS = ("vae-mnist-2d", "aae-mnist-2d", "vqvae-mnist")


def judge_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def trained_judge(epochs: int, limit: int | None = None) -> nn.Module:
    """The classifier, from the cache when one of these settings was trained before."""
    net = judge_net()
    path = cache_dir() / f"judge-mnist-e{epochs}-n{limit or 'all'}.safetensors"
    if path.exists():
        net.load_state_dict(load_file(str(path)))
        return net.eval()
    train = load_split("mnist", "train")
    images, labels = train.images[:limit], train.labels[:limit]
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    started = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(len(images)).split(128):
            loss = F.cross_entropy(net(images[idx].float() / 255), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    test = load_split("mnist", "test")
    with torch.no_grad():
        accuracy = float((net(test.images.float() / 255).argmax(1) == test.labels).float().mean())
    print(f"judge: trained {epochs} epoch(s) on {len(images):,} images in {time.perf_counter() - started:.0f} s, "
          f"test accuracy {accuracy:.4f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return net


@torch.no_grad()
def scores(judge: nn.Module, images: torch.Tensor) -> tuple[float, float, torch.Tensor]:
    """(fraction confident, Inception-Score formula, predicted labels) of float images (N, 1, 28, 28) in [0, 1]."""
    p = torch.softmax(judge(images), dim=1).double()
    marginal = p.mean(0, keepdim=True)
    kl = (p * (p.clamp_min(1e-12).log() - marginal.clamp_min(1e-12).log())).sum(1)
    return float((p.max(1).values >= CONFIDENT).double().mean()), float(kl.mean().exp()), p.argmax(1)


def prior_samples(name: str, n: int, seed: int, **options: object) -> torch.Tensor:
    model = load_checkpoint(shipped_dir("trained") / f"{name}.safetensors").model
    if not model.has_prior:
        raise AeviewerError(f"{name} has no prior")
    with torch.no_grad():
        return model.decode(model.sample(n, generator=torch.Generator().manual_seed(seed), **options))


def learned_prior_options(name: str, temperature: float, top_k: int, guidance: float) -> dict[str, object]:
    """Temperature, top-k and class guidance for a learned prior over code maps (the N(0, I) and AAE priors take
    none; guidance only a class-conditional one)."""
    model = load_checkpoint(shipped_dir("trained") / f"{name}.safetensors").model
    prior = getattr(model, "prior", None)
    if prior is None:
        return {}
    return {"temperature": temperature, "top_k": top_k, **({"guidance": guidance} if prior.conditional else {})}


def class_agreement(judge: nn.Module, name: str, n_per_class: int, **options: object) -> float | None:
    """Fraction of a class-conditional prior's samples of class k that the judge labels k (None: not conditional)."""
    model = load_checkpoint(shipped_dir("trained") / f"{name}.safetensors").model
    prior = getattr(model, "prior", None)
    if prior is None or not prior.conditional:
        return None
    hits = 0
    for k in range(10):
        with torch.no_grad():
            images = model.decode(model.sample(n_per_class, generator=torch.Generator().manual_seed(k), labels=k,
                                               **options))
        hits += int((scores(judge, images)[2] == k).sum())
    return hits / (10 * n_per_class)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="images per source")
    parser.add_argument("--epochs", type=int, default=2, help="the judge's training epochs")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=MODELS, help=f"shipped models to score (default {' '.join(MODELS)})")
    parser.add_argument("--temperature", type=float, default=1.0, help="a learned prior's sampling temperature")
    parser.add_argument("--top-k", type=int, default=0, help="a learned prior's top-k (0: all codes)")
    parser.add_argument("--guidance", type=float, default=1.0, help="a class-conditional learned prior's guidance (1: none)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n, limit, epochs = (100, 5000, 1) if args.quick else (args.n, None, args.epochs)
    judge = trained_judge(epochs, limit)
    test = load_split("mnist", "test")
    rows = [("MNIST test images", *scores(judge, test.images[:n].float() / 255)[:2], None, 0.0)]
    for name in args.models:
        started = time.perf_counter()
        options = learned_prior_options(name, args.temperature, args.top_k, args.guidance)
        try:
            images = prior_samples(name, n, seed=0, **options)
        except AeviewerError as err:
            print(f"  {name}: skipped ({err})")
            continue
        took = time.perf_counter() - started
        agreement = class_agreement(judge, name, max(10, n // 10), **options)
        rows.append((f"{name} prior", *scores(judge, images)[:2], agreement, took))
    print(f"sample quality by the MNIST judge, {n} images per source (confident: p >= {CONFIDENT}; learned priors at "
          f"temperature {args.temperature}, top-k {args.top_k or 'all'}, guidance {args.guidance:g})")
    for label, confident, inception, agreement, took in rows:
        extra = f"  class k labelled k {agreement:.3f}" if agreement is not None else ""
        timing = f"  sampled in {took:.2f} s" if took else ""
        print(f"  {label:<22} confident {confident:.3f}  IS {inception:.2f}{extra}{timing}")
    base = rows[0]
    for label, confident, inception, *_ in rows[1:]:
        print(f"ratio {label} / test images: confident {confident / base[1]:.3f}, IS {inception / base[2]:.3f}")


if __name__ == "__main__":
    main()
