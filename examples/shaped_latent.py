"""A model whose latent is a 4x8x8 grid (the shape latent-diffusion VAEs use), explored like any other:
the scatter shows the 256 numbers through PCA, a click decodes a full 4x8x8 latent.

    python examples/shaped_latent.py --emoji /path/to/emoji --steps 150
"""
from torch import nn

import aeviewer
from emoji_autoencoder import arguments, load_emoji, train


class GridAutoencoder(nn.Module):
    """64x64 RGB -> 4x8x8 -> 64x64 RGB, three stride-2 convolutions each way."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
                                     nn.Conv2d(64, 4, 4, 2, 1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(4, 64, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Sigmoid())

    def encode(self, x):
        return self.encoder(x)  # (N, 4, 8, 8)

    def decode(self, z):
        return self.decoder(z)


def main(argv=None):
    args = arguments(argv)
    images, labels, classes = load_emoji(args.emoji, size=64)
    model = GridAutoencoder()
    train(model, images, args.steps)
    return aeviewer.show(model, images, labels=labels, class_names=classes, title="4x8x8 latent",
                         block=not args.no_block)


if __name__ == "__main__":
    main()
