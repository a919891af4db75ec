"""Your own PyTorch autoencoder, trained on the emoji folder, explored with one aeviewer.show(...) call.

    python examples/emoji_autoencoder.py --emoji /path/to/emoji --steps 150
"""
import argparse
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

import aeviewer


def load_emoji(folder, size=32):
    """Every PNG under folder/<class>/ as float images (N, 3, size, size) in [0, 1], labels, class names."""
    classes = sorted(p.name for p in Path(folder).iterdir() if p.is_dir())
    images, labels = [], []
    for k, name in enumerate(classes):
        for png in sorted((Path(folder) / name).glob("*.png")):
            images.append(np.asarray(Image.open(png).convert("RGB").resize((size, size), Image.BILINEAR)))
            labels.append(k)
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255, np.array(labels), classes


class ConvAutoencoder(nn.Module):
    def __init__(self, latent_dim=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
                                     nn.Flatten(), nn.Linear(64 * 8 * 8, latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, 64 * 8 * 8), nn.ReLU(), nn.Unflatten(1, (64, 8, 8)),
                                     nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Sigmoid())

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


def train(model, images, steps, batch_size=64, seed=0):
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _step in range(steps):
        x = images[torch.randint(len(images), (batch_size,))]
        loss = nn.functional.mse_loss(model.decode(model.encode(x)), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emoji", default=os.path.join(os.environ.get("AEVIEWER_DATA", "data"), "emoji"))
    parser.add_argument("--steps", type=int, default=150, help="training steps (150: about a minute on a busy 2-core machine)")
    parser.add_argument("--no-block", action="store_true", help="return at once instead of waiting for the window")
    return parser.parse_args(argv)


def main(argv=None):
    args = arguments(argv)
    images, labels, classes = load_emoji(args.emoji)
    model = ConvAutoencoder()
    print(f"{len(images)} emoji; training loss after {args.steps} steps: {train(model, images, args.steps):.4f}")
    return aeviewer.show(model, images, labels=labels, class_names=classes, title="my emoji autoencoder",
                         block=not args.no_block)


if __name__ == "__main__":
    main()
