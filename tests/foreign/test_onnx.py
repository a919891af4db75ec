"""ONNX pairs: export-onnx writes what the torch model computes; onnx_model refuses bad files in one line."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aeviewer.explore import latent_space
from aeviewer.cli.commands import main
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ForeignModelError
from aeviewer.foreign.adapters import adapt
from aeviewer.models import build_model, default_config
from aeviewer.foreign.onnx_export import export_onnx
from aeviewer.foreign.onnx_pair import onnx_model

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

KINDS = {  # name: config overrides; image shape (C, H, W)
    "ae-mlp": ("ae", (1, 8, 8), {"hidden": (16,), "latent_dim": 3}),
    "vae-conv": ("vae", (1, 28, 28), {"arch": "conv", "channels": (4, 8), "latent_dim": 5}),
    "vqvae": ("vqvae", (1, 8, 8), {"codebook_size": 16, "code_dim": 4, "channels": (8,)}),
}


def build(name: str) -> torch.nn.Module:
    kind, shape, overrides = KINDS[name]
    torch.manual_seed(0)
    return build_model(default_config(kind, image_shape=shape, **overrides)).eval()


def random_images(shape: tuple[int, int, int], n: int = 37) -> ImageSet:
    pixels = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (n, *shape), dtype=np.uint8))
    return ImageSet(pixels, torch.zeros(n, dtype=torch.long), ("images",))


@pytest.mark.parametrize("name", list(KINDS))
def test_the_exported_pair_computes_what_the_torch_model_does(tmp_path, name):
    model = build(name)
    encoder, decoder = export_onnx(model, tmp_path / name)
    pair = onnx_model(encoder, decoder)
    x = random_images(model.config.image_shape).float_batch(slice(None))  # 37 images: not the export's batch of 2
    with torch.no_grad():
        z, x_hat = model.encode(x), model.decode(model.encode(x))
    z_onnx = pair.encode(x.numpy())
    np.testing.assert_allclose(z_onnx.reshape(len(x), -1), z.numpy(), atol=1e-5)
    np.testing.assert_allclose(pair.decode(z_onnx), x_hat.numpy(), atol=1e-5)


@pytest.mark.parametrize("name", ["ae-mlp", "vqvae"])
def test_the_pair_opens_and_explores(tmp_path, name):
    model = build(name)
    data = random_images(model.config.image_shape)
    foreign = adapt(onnx_model(*export_onnx(model, tmp_path)), data)
    assert foreign.config.arch == "onnx"
    latents = latent_space.encode_set(foreign, data)
    with torch.no_grad():
        np.testing.assert_allclose(latents, model.encode(data.float_batch(slice(None))).numpy(), atol=1e-5)
        expected = model.decode(torch.from_numpy(latents[4:5]))[:, 0].numpy()
    np.testing.assert_allclose(latent_space.decode_points(foreign, latents[4:5]), expected, atol=1e-5)


def test_the_cli_writes_the_pair_from_a_checkpoint(tmp_path, capsys):
    from aeviewer.training.checkpoint import save_checkpoint

    path = save_checkpoint(tmp_path / "m.safetensors", build("ae-mlp"), dataset="digits")
    assert main(["export-onnx", str(path), "--out", str(tmp_path / "pair")]) == 0
    assert (tmp_path / "pair" / "encoder.onnx").is_file() and (tmp_path / "pair" / "decoder.onnx").is_file()
    assert main(["export-onnx", str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "x")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.fixture
def good_pair(tmp_path):
    return export_onnx(build("ae-mlp"), tmp_path / "good")


def one_line_error(encoder, decoder) -> str:
    with pytest.raises(ForeignModelError) as info:
        onnx_model(encoder, decoder)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_truncated_or_foreign_file_is_one_line(tmp_path, good_pair):
    encoder, decoder = good_pair
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(decoder.read_bytes()[:300])
    assert "not an ONNX model" in one_line_error(encoder, truncated)
    foreign = tmp_path / "picture.onnx"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    assert "not an ONNX model" in one_line_error(foreign, decoder)
    assert "no such encoder file" in one_line_error(tmp_path / "nope.onnx", decoder)


def _graph_model(input_shape, output_shape=None, initializer=None):
    from onnx import TensorProto, helper

    inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape or input_shape)
    nodes = [helper.make_node("Identity", ["x"], ["y"])]
    graph = helper.make_graph(nodes, "g", [inp], [out], initializer=[initializer] if initializer else [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_hostile_file_is_one_line(tmp_path, good_pair):
    from onnx import TensorProto, helper

    _, decoder = good_pair
    rank2 = tmp_path / "rank2.onnx"
    onnx.save(_graph_model(["batch", 64]), str(rank2))
    assert "rank 2" in one_line_error(rank2, decoder)
    huge = tmp_path / "huge.onnx"
    onnx.save(_graph_model(["batch", 3, 1 << 20, 1 << 20]), str(huge))
    assert "too large" in one_line_error(huge, decoder)
    weights = helper.make_tensor("w", TensorProto.FLOAT, [4], [0.0] * 4)
    weights.data_location = TensorProto.EXTERNAL
    weights.ClearField("float_data")
    entry = weights.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    outside = tmp_path / "outside.onnx"
    onnx.save(_graph_model(["batch", 1, 8, 8], initializer=weights), str(outside))
    assert "outside the model's folder" in one_line_error(outside, decoder)


def test_the_cli_refuses_a_hostile_pair_with_exit_status_2(tmp_path, good_pair, capsys):
    encoder, _ = good_pair
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx at all")
    assert main(["gui", "--encoder", str(encoder), "--decoder", str(bad), "--dataset", "digits"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aeviewer: error: ") and "not an ONNX model" in err and err.count("\n") == 1


def test_a_missing_onnxruntime_says_how_to_install_it(monkeypatch, good_pair):
    import builtins

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    assert "pip install 'aeviewer[onnx]'" in one_line_error(*good_pair)
