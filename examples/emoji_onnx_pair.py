"""The emoji autoencoder of emoji_autoencoder.py exported with torch.onnx, then opened as an ONNX pair.

    python examples/emoji_onnx_pair.py --emoji /path/to/emoji --steps 150 --out emoji-onnx
    aeviewer gui --encoder emoji-onnx/encoder.onnx --decoder emoji-onnx/decoder.onnx --dataset ...  # the same
"""
import argparse
import os
from pathlib import Path

import torch

import aeviewer
from emoji_autoencoder import ConvAutoencoder, load_emoji, train


class Part(torch.nn.Module):
    """One half of the model (its encode or decode) as a module torch.onnx can export."""

    def __init__(self, model, method):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, x):
        return getattr(self.model, self.method)(x)


def export_pair(model, images, out):
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    with torch.no_grad():
        examples = {"encode": images[:2], "decode": model.encode(images[:2])}
    for name, method in (("encoder", "encode"), ("decoder", "decode")):
        torch.onnx.export(Part(model, method), (examples[method],), str(out / f"{name}.onnx"), input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False)
    return out / "encoder.onnx", out / "decoder.onnx"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emoji", default=os.path.join(os.environ.get("AEVIEWER_DATA", "data"), "emoji"))
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--out", type=Path, default=Path("emoji-onnx"))
    parser.add_argument("--no-block", action="store_true")
    args = parser.parse_args(argv)
    images, labels, classes = load_emoji(args.emoji)
    model = ConvAutoencoder()
    train(model, images, args.steps)
    encoder, decoder = export_pair(model, images, args.out)
    pair = aeviewer.onnx_model(encoder, decoder)
    return aeviewer.show(pair, images, labels=labels, class_names=classes, title="emoji autoencoder (ONNX)",
                         block=not args.no_block)


if __name__ == "__main__":
    main()
