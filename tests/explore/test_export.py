"""Exports: animations with one frame per step, crisp upscaled pictures, latents as CSV/NPZ, all written atomically."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from aeviewer.util import atomic
from aeviewer.explore import export
from aeviewer.errors import AeviewerError
from aeviewer.util.images import slide_scale, upscale


def grey_frames(n: int = 6, size: int = 8, seed: int = 0) -> np.ndarray:
    """(n, 1, size, size) floats in [0, 1], as a decoder gives them."""
    return np.random.default_rng(seed).random((n, 1, size, size)).astype(np.float32)


def read_gif(path: Path) -> np.ndarray:
    return iio.imread(path, index=None)[..., :3]


def test_gif_has_one_frame_per_image_even_when_consecutive_frames_are_equal(tmp_path: Path) -> None:
    frames = grey_frames(7)
    frames[3] = frames[2]  # a walk that stands still: Pillow's writer alone would merge these two
    frames[4] = frames[2]
    path = export.write_animation(tmp_path / "walk.gif", frames, fps=5)
    with Image.open(path) as gif:
        assert gif.n_frames == 7
        assert gif.info["loop"] == 0
        assert gif.info["duration"] == 200
    back = read_gif(path)
    expected = np.round(np.clip(frames[:, 0], 0, 1) * 255).astype(np.uint8)
    for k in range(7):  # grey levels survive exactly, each pixel a 16x16 block (8 px -> 128 px)
        assert np.array_equal(back[k, ::16, ::16, 0], expected[k])
        assert np.array_equal(back[k, ..., 0], back[k, ..., 2])


def test_colour_gif_keeps_its_colours_and_size(tmp_path: Path) -> None:
    frames = np.random.default_rng(1).random((3, 3, 10, 12)).astype(np.float32)
    back = read_gif(export.write_animation(tmp_path / "c.gif", frames, scale=2))
    assert back.shape == (3, 20, 24, 3)
    expected = upscale(np.round(frames.transpose(0, 2, 3, 1) * 255).astype(np.uint8), 2)
    assert np.abs(back.astype(int) - expected).max() <= 8  # an adaptive 256-colour palette per frame


@pytest.mark.skipif(not export.ffmpeg_available(), reason="imageio-ffmpeg is not installed")
def test_mp4_has_one_frame_per_image(tmp_path: Path) -> None:
    frames = grey_frames(5, size=28)
    path = export.write_animation(tmp_path / "walk.mp4", frames, fps=10)
    back = iio.imread(path, index=None)
    assert back.shape == (5, 140, 140, 3)  # 28 px x 5 = 140: even sides as H.264 in yuv420p needs
    expected = upscale(np.round(frames[:, 0] * 255).astype(np.uint8), 5)
    assert np.abs(back[..., 0].astype(int) - expected).mean() < 12  # lossy, but the same pictures


def test_mp4_without_the_ffmpeg_plugin_names_the_pip_install_and_gif_still_works(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails as if it were not installed
    with pytest.raises(export.ExportError, match="pip install imageio-ffmpeg") as err:
        export.write_animation(tmp_path / "walk.mp4", grey_frames(3))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "walk.mp4").exists()
    assert export.write_animation(tmp_path / "walk.gif", grey_frames(3)).exists()


@pytest.mark.parametrize("name", ["walk.avi", "walk", "walk.png"])
def test_an_animation_with_another_suffix_is_refused_in_one_line(tmp_path: Path, name: str) -> None:
    with pytest.raises(export.ExportError, match=r"\.gif or \.mp4"):
        export.write_animation(tmp_path / name, grey_frames(2))


def test_small_images_are_upscaled_for_slides_unless_a_scale_is_given() -> None:
    assert slide_scale(8, 8) == 16
    assert slide_scale(28, 28) == 5  # 140 px, the first whole factor reaching 128
    assert slide_scale(64, 64) == 2
    assert slide_scale(200, 300) == 1
    assert export.slide_frames(grey_frames(2, 28)).shape == (2, 140, 140)
    assert export.slide_frames(grey_frames(2, 28), scale=1).shape == (2, 28, 28)
    colour = np.zeros((2, 3, 64, 64), np.float32)
    assert export.slide_frames(colour).shape == (2, 128, 128, 3)


def test_upscaling_is_nearest_neighbour() -> None:
    image = np.arange(6, dtype=np.uint8).reshape(1, 2, 3)
    big = upscale(image, 3)
    assert big.shape == (1, 6, 9)
    assert np.array_equal(big[0, ::3, ::3], image[0])
    assert len(np.unique(big[0, 0:3, 0:3])) == 1


def test_grid_png_tiles_the_images_with_white_between(tmp_path: Path) -> None:
    images = grey_frames(6, size=8) * 0.5  # no white pixel in the images themselves
    path = export.write_grid(tmp_path / "grid" / "g.png", images, ncols=3, scale=2)  # the folder is made
    with Image.open(path) as png:
        picture = np.asarray(png)
    assert picture.shape == (2 * 16 + 1, 3 * 16 + 2)
    assert (picture[16, :] == 255).all() and (picture[:, 16] == 255).all()
    assert np.array_equal(picture[17:, 17:33], upscale(np.round(images[4:5, 0] * 255).astype(np.uint8), 2)[0])


def test_strip_png_is_one_row(tmp_path: Path) -> None:
    with Image.open(export.write_strip(tmp_path / "s.png", grey_frames(4), scale=1)) as png:
        assert png.size == (4 * 8 + 3, 8)


def test_selected_images_become_a_folder_of_pngs_named_by_index(tmp_path: Path) -> None:
    images = grey_frames(3)
    paths = export.write_image_folder(tmp_path / "picked", images, [7, 42, 3])
    assert [p.name for p in paths] == ["00007.png", "00042.png", "00003.png"]
    with Image.open(paths[1]) as png:
        assert np.array_equal(np.asarray(png), np.round(images[1, 0] * 255).astype(np.uint8))


def test_latents_csv_has_one_row_per_image_with_index_label_class_code_and_map_point(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(size=(5, 3)).astype(np.float32)
    xy = rng.normal(size=(5, 2)).astype(np.float32)
    labels = np.array([0, 2, 1, 2, 0])
    path = export.write_latents(tmp_path / "z.csv", z, labels, ("zero", "one, with a comma", "two"), xy)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["index", "label", "class", "z0", "z1", "z2", "x", "y"]
    assert len(rows) == 6
    assert rows[3][:3] == ["2", "1", "one, with a comma"]
    values = np.array([[float(v) for v in row[3:]] for row in rows[1:]], np.float32)
    assert np.array_equal(values[:, :3], z) and np.array_equal(values[:, 3:], xy)  # float32 read back exactly


def test_latents_npz_loads_without_pickle(tmp_path: Path) -> None:
    z = np.random.default_rng(3).normal(size=(4, 2)).astype(np.float32)
    path = export.write_latents(tmp_path / "z.npz", z, np.array([1, 0, 1, 1]), ("T-shirt/top", "Trouser"), z[:, ::-1])
    with np.load(path, allow_pickle=False) as data:
        assert list(data["class"]) == ["Trouser", "T-shirt/top", "Trouser", "Trouser"]
        assert list(data["class_names"]) == ["T-shirt/top", "Trouser"]
        assert np.array_equal(data["index"], np.arange(4))
        assert np.array_equal(data["z"], z) and np.array_equal(data["xy"], z[:, ::-1])


def test_latents_with_mismatched_lengths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(export.ExportError, match="one each per image"):
        export.write_latents(tmp_path / "z.csv", np.zeros((3, 2)), np.zeros(2), ("a",), np.zeros((3, 2)))


def test_a_failed_write_leaves_the_previous_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "walk.gif"
    target.write_bytes(b"before")
    with pytest.raises(RuntimeError):
        with atomic.replacing(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("the encoder failed")
    assert target.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == ["walk.gif"]


def test_writing_over_a_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(AeviewerError, match="is a directory"):
        export.write_picture(tmp_path / "taken.png", np.zeros((4, 4)), scale=1)
