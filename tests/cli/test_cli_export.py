"""`aeviewer export`: walks as GIF/MP4/PNG, latents as CSV/NPZ, traversal grids and image folders from a checkpoint."""
from __future__ import annotations

import csv
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

from aeviewer.explore import latent_space
from aeviewer.explore import export
from aeviewer.cli.commands import main
from aeviewer.data.loader import load_split
from aeviewer.training.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def vae_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-dim VAE on the bundled 8x8 digits (so the default map is PCA, not the identity)."""
    out = tmp_path_factory.mktemp("ckpt") / "vae.safetensors"
    assert main(["train", "--model", "vae", "--dataset", "digits", "--epochs", "1", "--latent-dim", "3",
                 "--out", str(out), "--no-eval"]) == 0
    return out


def exported(*args: str) -> int:
    try:
        return main(["export", *args])
    except SystemExit as exit_:  # argparse's errors
        return int(exit_.code)


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("aeviewer: error: ")
    return lines[0]


def decodes_of_test_images(path: Path, indices: list[int]) -> np.ndarray:
    """What the model decodes from these test images' codes, as uint8: computed here, not by the exporter."""
    model = load_checkpoint(path).model
    test_set = load_split("digits", "test")
    codes = latent_space.encode_set(model, test_set.subset(torch.tensor(indices)))
    return np.round(latent_space.decode_points(model, codes) * 255).astype(np.uint8)


def test_interpolation_gif_has_n_frames_from_image_i_to_image_j(vae_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "walk.gif"
    assert exported(str(vae_path), "--interpolate", "3,40", "--steps", "9", "--out", str(out)) == 0
    assert f"{out} (9 frames)" in capsys.readouterr().out
    with Image.open(out) as gif:
        assert gif.n_frames == 9
    frames = iio.imread(out, index=None)[..., 0]
    assert frames.shape == (9, 128, 128)  # 8 px digits upscaled 16x for slides
    first, last = decodes_of_test_images(vae_path, [3, 40])
    assert np.array_equal(frames[0, ::16, ::16], first)
    assert np.array_equal(frames[-1, ::16, ::16], last)
    assert not np.array_equal(first, last)


def test_slerp_walk_as_a_png_strip(vae_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "walk.png"
    assert exported(str(vae_path), "--interpolate", "0,1", "--steps", "5", "--mode", "slerp", "--scale", "1",
                    "--out", str(out)) == 0
    with Image.open(out) as png:
        strip = np.asarray(png)
    assert strip.shape == (8, 5 * 8 + 4)
    first, last = decodes_of_test_images(vae_path, [0, 1])
    assert np.array_equal(strip[:, :8], first) and np.array_equal(strip[:, -8:], last)


@pytest.mark.skipif(not export.ffmpeg_available(), reason="imageio-ffmpeg is not installed")
def test_interpolation_mp4_is_written_when_the_ffmpeg_plugin_is_here(vae_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "walk.mp4"
    assert exported(str(vae_path), "--interpolate", "3,40", "--steps", "6", "--out", str(out)) == 0
    assert iio.imread(out, index=None).shape[0] == 6


def test_latents_csv_has_one_row_per_test_image_with_code_label_and_map_point(vae_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "z.csv"
    assert exported(str(vae_path), "--latents", str(out)) == 0
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    test_set = load_split("digits", "test")
    assert rows[0] == ["index", "label", "class", "z0", "z1", "z2", "x", "y"]
    assert len(rows) == 1 + len(test_set)
    assert [int(r[0]) for r in rows[1:]] == list(range(len(test_set)))
    assert [int(r[1]) for r in rows[1:]] == test_set.labels.tolist()
    assert [r[2] for r in rows[1:]] == [test_set.class_names[k] for k in test_set.labels.tolist()]
    z = np.array([[float(v) for v in r[3:6]] for r in rows[1:]])
    xy = np.array([[float(v) for v in r[6:]] for r in rows[1:]])
    # x, y of the map the app would show for a 3-dim model: PCA, recomputed here with numpy's SVD
    centred = z - z.mean(0)
    axes = np.linalg.svd(centred, full_matrices=False)[2][:2]
    assert np.allclose(np.abs(xy), np.abs(centred @ axes.T), atol=1e-4)


def test_latents_npz_with_a_pair_map_and_a_grid_and_image_folder(vae_path: Path, tmp_path: Path) -> None:
    assert exported(str(vae_path), "--latents", str(tmp_path / "z.npz"), "--projection", "pair", "--dims", "2,0",
                    "--grid", str(tmp_path / "grid.png"), "--grid-size", "4", "--scale", "2",
                    "--images", "5,7", "--out-dir", str(tmp_path / "picked")) == 0
    with np.load(tmp_path / "z.npz", allow_pickle=False) as data:
        assert np.array_equal(data["xy"], data["z"][:, [2, 0]])
    with Image.open(tmp_path / "grid.png") as png:
        assert png.size == (4 * 16 + 3, 4 * 16 + 3)
    test_set = load_split("digits", "test")
    with Image.open(tmp_path / "picked" / "00007.png") as png:
        assert np.array_equal(np.asarray(png)[::2, ::2], test_set.images[7, 0].numpy())  # --scale 2 for all


def test_a_polyline_path_and_a_traversal_give_one_frame_per_step(vae_path: Path, tmp_path: Path) -> None:
    assert exported(str(vae_path), "--path=-1,0,1,0,1,1", "--steps", "7", "--out", str(tmp_path / "p.gif")) == 0
    assert exported(str(vae_path), "--traverse", "1", "--steps", "4", "--out", str(tmp_path / "t.gif")) == 0
    with Image.open(tmp_path / "p.gif") as p, Image.open(tmp_path / "t.gif") as t:
        assert (p.n_frames, t.n_frames) == (7, 4)


@pytest.mark.parametrize("args, fragment", [
    (["--interpolate", "0,9999", "--out", "w.gif"], "no test image 9999: the digits test split has 359 images"),
    (["--interpolate=-1,2", "--out", "w.gif"], "no test image -1"),
    (["--images", "2,400", "--out-dir", "picked"], "no test image 400"),
    (["--traverse", "3", "--out", "w.gif"], "no latent dimension 3"),
    (["--interpolate", "0", "--out", "w.gif"], "expected two test-image indices"),
    (["--interpolate", "0,1", "--out", "w.avi"], "walks are written as .gif, .mp4 or .png"),
    (["--latents", "z.txt"], "latents are written as .csv or .npz"),
    (["--out", "w.gif"], "--out names the walk's file"),
    (["--images", "1"], "--images and --out-dir go together"),
    ([], "nothing to export"),
    (["--latents", "z.csv", "--projection", "identity"], "identity projection needs a 2-dim latent space"),
])
def test_bad_arguments_are_one_line_and_exit_2(vae_path: Path, tmp_path: Path, monkeypatch, capsys,
                                               args: list[str], fragment: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert exported(str(vae_path), *args) == 2
    assert fragment in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_a_missing_checkpoint_is_one_line(tmp_path: Path, capsys) -> None:
    assert exported(str(tmp_path / "none.safetensors"), "--latents", str(tmp_path / "z.csv")) == 2
    assert "no such file" in one_line_error(capsys)
