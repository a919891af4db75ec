"""Image folders: classes, split, every format and mode Pillow reads, bad files skipped with reasons,
parallel decoding with progress and cancel, the memory guard, and the cache."""
import os
import threading

import numpy as np
import pytest
from PIL import Image

from aeviewer.data import cache
from aeviewer.data.folder import UNLABELLED, load_folder, scan_folder
from aeviewer.data.loaded import MemoryLimitError
from aeviewer.data.preparation import Preparation
from aeviewer.data.split import stratified_split
from aeviewer.errors import Cancelled, ConfigError, DataError

SMALL = Preparation(image_size=8)


def _save(path, image, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kw)
    return path


def _solid(colour, size=(12, 10), mode="RGB"):
    return Image.new(mode, size, colour)


def _class_folder(root, name, n, colour=(200, 30, 30)):
    for i in range(n):
        _save(root / name / f"{i:03d}.png", _solid(colour))


@pytest.fixture
def messy(tmp_path):
    """Two classes holding every format and awkward mode, a nested folder, and every kind of bad file."""
    root = tmp_path / "messy"
    a, b = root / "animals", root / "buildings"
    _save(a / "png.png", _solid((255, 0, 0)))
    _save(a / "jpeg.jpg", _solid((0, 255, 0)), quality=95)
    _save(a / "bmp.bmp", _solid((0, 0, 255)))
    frames = [_solid((255, 255, 0)), _solid((0, 0, 0))]
    frames[0].save(a / "anim.gif", save_all=True, append_images=frames[1:])
    _save(a / "tiff.tif", _solid((10, 20, 30)))
    _save(a / "webp.webp", _solid((90, 90, 200)), lossless=True)
    _save(a / "deep" / "deeper" / "nested.png", _solid((1, 2, 3)))  # belongs to "animals"
    _save(b / "palette.png", _solid((5, 150, 5)).convert("P"))
    transparent = Image.new("RGBA", (6, 6), (255, 0, 0, 0))
    _save(b / "rgba.png", transparent)
    _save(b / "la.png", Image.new("LA", (6, 6), (0, 0)))
    _save(b / "grey16.png", Image.fromarray(np.full((6, 6), 65535, np.uint16)))
    _save(b / "int32.tif", Image.fromarray(np.full((6, 6), 32896, np.int32)))  # mode I: 16-bit range
    _save(b / "cmyk.jpg", Image.new("CMYK", (6, 6), (0, 0, 0, 0)))
    _save(b / "bilevel.png", Image.new("1", (6, 6), 1))
    _save(b / "tiny.png", _solid((7, 7, 7), size=(3, 2)))
    (b / "empty.png").write_bytes(b"")
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    whole = _save(tmp_path / "noise.png", noise).read_bytes()
    (b / "truncated.png").write_bytes(whole[: len(whole) // 2])  # the header intact, the pixel data cut
    (b / "notes.txt").write_text("not an image")
    (b / "fake.png").write_bytes(b"\x89PNG but not really")
    _save(root / "loose.png", _solid((0, 0, 0)))  # beside the class folders: no class
    (root / "README.txt").write_text("a data set")  # not an image: silently left out
    (root / ".hidden").mkdir()
    _save(root / ".hidden" / "x.png", _solid((0, 0, 0)))
    return root


def test_classes_are_first_level_folders_and_every_format_and_mode_decodes(messy):
    loaded = load_folder(messy, Preparation(image_size=8, channels="3", test_fraction=0.25), use_cache=False)
    assert loaded.train.class_names == ("animals", "buildings")
    assert len(loaded.train) + len(loaded.test) == 7 + 8  # every good file of both classes, nested one included
    assert loaded.train.image_shape == (3, 8, 8) and loaded.train.images.dtype.is_floating_point is False
    reasons = dict(loaded.skipped.entries)
    assert set(reasons) == {"loose.png", "buildings/empty.png", "buildings/truncated.png", "buildings/notes.txt",
                            "buildings/fake.png"}
    assert reasons["buildings/empty.png"] == "empty file (0 bytes)"
    assert "not an image" in reasons["buildings/notes.txt"] and "outside any class folder" in reasons["loose.png"]
    assert "cannot decode" in reasons["buildings/truncated.png"]


def _one(root, name, preparation):
    """The prepared image of the file ``name`` (the folder holds just that file)."""
    loaded = load_folder(root, preparation, use_cache=False)
    images = np.concatenate([loaded.train.images.numpy(), loaded.test.images.numpy()])
    assert len(images) == 1, name
    return images[0].transpose(1, 2, 0)


@pytest.mark.parametrize("background, level", [("white", 255), ("black", 0)])
def test_alpha_is_composited_on_the_background(tmp_path, background, level):
    _save(tmp_path / "a.png", Image.new("RGBA", (4, 4), (255, 0, 0, 0)))
    image = _one(tmp_path, "a.png", Preparation(image_size=4, channels="3", background=background))
    assert (image == level).all()


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    _save(tmp_path / "g.png", Image.fromarray(np.full((4, 4), 32896, np.uint16)))  # 32896 / 257 = 128
    image = _one(tmp_path, "g.png", Preparation(image_size=4))
    assert image.shape == (4, 4, 1) and (image == 128).all()  # grey: auto gives one channel


def test_the_first_frame_of_a_gif(tmp_path):
    frames = [_solid((255, 255, 255)), _solid((0, 0, 0))]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    assert (_one(tmp_path, "a.gif", Preparation(image_size=4)) == 255).all()


def test_crop_fills_the_square_and_pad_keeps_the_whole_image(tmp_path):
    _save(tmp_path / "wide.png", _solid((0, 0, 0), size=(40, 20)))
    cropped = _one(tmp_path, "wide.png", Preparation(image_size=8, fit="crop"))
    padded = _one(tmp_path, "wide.png", Preparation(image_size=8, fit="pad", background="white"))
    assert (cropped == 0).all()
    assert (padded[:2] == 255).all() and (padded[-2:] == 255).all() and (padded[2:6] == 0).all()


def test_a_tiny_3x2_image_is_scaled_up(tmp_path):
    _save(tmp_path / "t.png", _solid((200, 0, 0), size=(3, 2)))
    image = _one(tmp_path, "t.png", Preparation(image_size=16))
    assert image.shape == (16, 16, 3) and (image[..., 0] > 150).all()


def test_channels_auto_gives_one_for_grey_folders_and_three_for_colour(tmp_path):
    _class_folder(tmp_path / "grey", "a", 3, colour=(90, 90, 90))
    _class_folder(tmp_path / "colour", "a", 3, colour=(90, 10, 90))
    assert load_folder(tmp_path / "grey", SMALL, use_cache=False).train.image_shape[0] == 1
    assert load_folder(tmp_path / "colour", SMALL, use_cache=False).train.image_shape[0] == 3
    forced = load_folder(tmp_path / "colour", Preparation(image_size=8, channels="1"), use_cache=False)
    assert forced.train.image_shape[0] == 1
    assert int(forced.train.images[0, 0, 0, 0]) == round(90 * 0.299 + 10 * 0.587 + 90 * 0.114)


def test_a_folder_without_subfolders_is_one_unlabelled_set(tmp_path):
    for i in range(5):
        _save(tmp_path / f"{i}.png", _solid((i * 40, 0, 0)))
    loaded = load_folder(tmp_path, SMALL, use_cache=False)
    assert loaded.train.class_names == (UNLABELLED,)
    assert len(loaded.train) == 4 and len(loaded.test) == 1
    assert set(loaded.train.labels.tolist()) == {0}


def test_first_level_train_and_test_folders_are_the_split(tmp_path):
    _class_folder(tmp_path / "train", "cat", 4)
    _class_folder(tmp_path / "train", "dog", 3)
    _class_folder(tmp_path / "test", "dog", 2)
    loaded = load_folder(tmp_path, SMALL, use_cache=False)
    assert loaded.train.class_names == ("cat", "dog")
    assert len(loaded.train) == 7 and loaded.test.labels.tolist() == [1, 1]


def test_the_split_is_stratified_seeded_and_the_same_on_every_run():
    labels = np.repeat([0, 1, 2], [50, 10, 1])
    train, test = stratified_split(labels, 0.2, seed=0)
    assert np.bincount(labels[test], minlength=3).tolist() == [10, 2, 0]  # a class of one stays in training
    assert sorted([*train, *test]) == list(range(61))
    again = stratified_split(labels, 0.2, seed=0)
    assert np.array_equal(again[1], test)
    assert not np.array_equal(stratified_split(labels, 0.2, seed=1)[1], test)
    # PCG64's stream is fixed across NumPy versions and machines: this is the split everywhere.
    assert test.tolist() == [2, 3, 4, 18, 20, 23, 24, 26, 34, 36, 57, 58]


def test_a_folder_split_does_not_depend_on_the_order_files_were_made(tmp_path):
    for order, folder in ((range(10), "one"), (reversed(range(10)), "two")):
        for i in order:
            _save(tmp_path / folder / "k" / f"{i}.png", _solid((i * 20, 0, 0)))
    first = load_folder(tmp_path / "one", SMALL, use_cache=False)
    second = load_folder(tmp_path / "two", SMALL, use_cache=False)
    assert np.array_equal(first.test.images.numpy(), second.test.images.numpy())


def test_a_folder_with_no_readable_image_is_one_line(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(b"")
    (tmp_path / "a" / "y.txt").write_text("hello")
    with pytest.raises(DataError, match="no readable image among 2 files") as err:
        load_folder(tmp_path, SMALL, use_cache=False)
    assert "\n" not in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files"):
        load_folder(tmp_path / "empty", SMALL, use_cache=False)


def test_a_symlink_loop_neither_hangs_nor_repeats_files(tmp_path):
    _class_folder(tmp_path, "a", 2)
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    os.symlink(tmp_path, tmp_path / "a" / "up")
    listing = scan_folder(tmp_path)
    assert [f.path for f in listing.files] == ["a/000.png", "a/001.png"]


def test_an_unreadable_subfolder_is_reported_not_raised(tmp_path, monkeypatch):
    _class_folder(tmp_path, "a", 2)
    locked = tmp_path / "a" / "locked"
    _class_folder(locked, "b", 1)
    real_scandir = os.scandir

    def scandir(path):  # what chmod 000 does for a user other than root (the tests may run as root)
        if "locked" in str(path):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    loaded = load_folder(tmp_path, SMALL, use_cache=False)
    assert len(loaded.train) + len(loaded.test) == 2
    assert any("cannot list folder" in reason for _, reason in loaded.skipped.entries)


def test_over_the_pixel_limit_a_png_is_skipped_and_a_jpeg_decoded_smaller(tmp_path):
    _save(tmp_path / "k" / "big.png", _solid((0, 0, 0), size=(64, 64)))
    _save(tmp_path / "k" / "big.jpg", _solid((0, 0, 0), size=(64, 64)))
    loaded = load_folder(tmp_path, Preparation(image_size=8), max_pixels=1000, use_cache=False)
    assert len(loaded.train) + len(loaded.test) == 1  # the JPEG, decoded at 1/8 scale (8x8)
    (name, reason), = loaded.skipped.entries
    assert name == "k/big.png" and "64x64" in reason and "megapixel limit" in reason


def test_the_memory_guard_stops_before_decoding_with_the_size_and_what_to_lower(tmp_path):
    _class_folder(tmp_path, "a", 3)
    with pytest.raises(MemoryLimitError) as err:
        load_folder(tmp_path, Preparation(image_size=256), max_memory=100_000, use_cache=False)
    message = str(err.value)
    assert "3 images at 256x256 with 3 channels would take 0.0 GB" in message and "--image-size" in message
    assert "--channels 1" in message and "\n" not in message


def test_progress_reaches_the_total_and_cancel_stops_the_load(tmp_path):
    _class_folder(tmp_path, "a", 5)
    seen = []
    load_folder(tmp_path, SMALL, progress=lambda done, total: seen.append((done, total)), use_cache=False)
    assert seen[-1] == (5, 5)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        load_folder(tmp_path, SMALL, cancel=stop, use_cache=False)
    with pytest.raises(Cancelled):
        load_folder(tmp_path, SMALL, cancel=lambda: True, use_cache=False)


def test_the_cache_answers_a_second_load_and_misses_when_a_file_or_the_preparation_changes(tmp_path):
    root = tmp_path / "set"
    _class_folder(root, "a", 4)
    first = load_folder(root, SMALL)
    assert not first.from_cache and len(list(cache.cache_dir().glob("folder-*.np[yz]"))) == 2
    second = load_folder(root, SMALL)
    assert second.from_cache and np.array_equal(second.train.images.numpy(), first.train.images.numpy())
    assert second.train.class_names == first.train.class_names
    assert not load_folder(root, Preparation(image_size=6)).from_cache
    _save(root / "a" / "000.png", _solid((1, 1, 1)))
    os.utime(root / "a" / "000.png", ns=(1, 1))
    changed = load_folder(root, SMALL)
    assert not changed.from_cache
    assert 1 in changed.train.images.numpy().tolist()[0][0][0] or 1 in changed.test.images.flatten().tolist()


def test_a_damaged_cache_entry_is_decoded_again(tmp_path):
    _class_folder(tmp_path / "set", "a", 3)
    load_folder(tmp_path / "set", SMALL)
    for entry in cache.cache_dir().glob("folder-*.np[yz]"):
        entry.write_bytes(b"garbage")
        again = load_folder(tmp_path / "set", SMALL)  # decoded again, and the entry rewritten
        assert not again.from_cache and len(again.train) == 2
        assert load_folder(tmp_path / "set", SMALL).from_cache


def test_a_bad_preparation_is_one_line():
    for bad in ({"image_size": 0}, {"channels": "2"}, {"fit": "stretch"}, {"test_fraction": 1.0}):
        with pytest.raises(ConfigError):
            Preparation(**bad)
