"""Issue 29, defect 6: what ships names no folder of the machine that made it, and a model records its data set
so that another machine finds it (relative to the data directory, or by its name and shipped test split)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
from safetensors import safe_open

from aeviewer.data.loader import load_source, portable_spec, resolve_spec
from aeviewer.data.preparation import Preparation
from aeviewer.data.loader import load_split
from aeviewer.util.paths import shipped_dir
from aeviewer.training.checkpoint import load_checkpoint, read_metadata, rewrite_metadata
from shared_data import EMOJI_HOW, require_data

REPO = Path(__file__).resolve().parents[2]
TRAINED = shipped_dir("trained")
# An absolute path of the kind a training machine leaves behind: /work/..., /home/..., /root/..., /tmp/...
ABSOLUTE = re.compile(r"(?<![\w.~$}-])/(?:work|home|root|tmp)/[^\s\"'`)|\]]*")
EMOJI = Preparation(image_size=64, channels="3")


def shipped_texts() -> dict[str, str]:
    """Every shipped text that a user reads or the app records: checkpoint metadata, the index, the docs."""
    texts = {}
    for path in sorted(TRAINED.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as f:
            for key, value in (f.metadata() or {}).items():
                texts[f"{path.name} metadata {key}"] = value
    docs = [TRAINED / "index.json", REPO / "README.md", TRAINED / "README.md", REPO / "benchmarks" / "README.md",
            *sorted((REPO / "docs").glob("*.md"))]
    texts.update({str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in docs})
    return texts


def test_shipped_files_name_no_absolute_path_of_the_machine_that_made_them():
    found = [f"{where}: {match}" for where, text in shipped_texts().items() for match in ABSOLUTE.findall(text)]
    assert not found, "absolute paths in shipped files:\n" + "\n".join(found)


def test_the_scan_sees_such_a_path():
    assert ABSOLUTE.findall("--dataset /work/shared/data/emoji --out /tmp/x") == ["/work/shared/data/emoji", "/tmp/x"]
    assert not ABSOLUTE.findall("AEVIEWER_DATA=../shared/data, ~/tmp/x, $HOME/work/y, resources/data/emoji")


def test_the_emoji_checkpoints_record_their_data_set_by_its_name():
    for name in ("vae-emoji-32d.safetensors", "vqvae-emoji.safetensors"):
        meta = read_metadata(TRAINED / name)
        assert meta["dataset"] == "emoji"
        assert meta["extra"]["train"]["dataset"] == "emoji"
        assert " --dataset emoji " in meta["extra"]["command"]


def make_set(path: Path, n: int = 10, side: int = 16) -> Path:
    """A small data set file (a .npz of RGB images in two classes), standing for any path source."""
    path.parent.mkdir(parents=True, exist_ok=True)
    images = np.random.default_rng(0).integers(0, 255, (n, side, side, 3), dtype=np.uint8)
    np.savez(path, images=images, labels=np.arange(n) % 2)
    return path


def test_a_path_in_the_data_directory_is_recorded_relative_to_it(tmp_path):
    data = tmp_path / "data"
    found = make_set(data / "sets" / "pics.npz")
    assert portable_spec(found, data) == "sets/pics.npz"
    assert resolve_spec(str(found), data) == "sets/pics.npz"
    assert resolve_spec("sets/pics.npz", data) == "sets/pics.npz"  # typed relative: found in the data directory
    elsewhere = make_set(tmp_path / "mine" / "pics.npz")
    assert portable_spec(elsewhere, data) == str(elsewhere)  # on this machine, outside the data directory
    assert resolve_spec(str(elsewhere), data) == str(elsewhere)
    assert portable_spec("/another/machine/data/pics.npz", data) == "pics.npz"  # absent here: by its name
    assert portable_spec("mnist", data) == "mnist"


def test_a_data_set_recorded_by_its_name_is_found_in_the_data_directory(tmp_path):
    data = tmp_path / "data"
    make_set(data / "pics.npz")
    loaded = load_source("pics.npz", Preparation(), data)
    assert len(loaded.train) + len(loaded.test) == 10 and not loaded.note and loaded.source == "pics.npz"


def test_an_older_checkpoints_absent_absolute_path_is_found_in_the_data_directory(tmp_path):
    data = tmp_path / "data"
    make_set(data / "pics.npz")
    loaded = load_source("/another/machine/data/pics.npz", Preparation(), data)
    assert len(loaded.train) + len(loaded.test) == 10 and not loaded.note


def test_the_emoji_test_split_ships_when_the_data_directory_has_no_emoji(tmp_path):
    test = load_split("emoji", "test", tmp_path, EMOJI)
    assert len(test) == 732 and tuple(test.image_shape) == (3, 64, 64)
    loaded = load_source("emoji", EMOJI, tmp_path)
    assert loaded.note and "not on this machine" in loaded.note and len(loaded.train) == 0


def test_the_emoji_folder_is_used_where_the_data_directory_has_it():
    root = require_data("emoji/", how=EMOJI_HOW)
    loaded = load_source("emoji", EMOJI, root)
    assert not loaded.note and len(loaded.train) > 2000 and len(loaded.test) == 732


def test_train_records_a_data_directory_path_by_its_relative_name(tmp_path, monkeypatch):
    from aeviewer.cli.commands import main

    data = tmp_path / "data"
    found = make_set(data / "pics.npz")
    monkeypatch.setenv("AEVIEWER_DATA", str(data))
    out = tmp_path / "m.safetensors"
    assert main(["train", "--model", "ae", "--dataset", str(found), "--latent-dim", "2",
                 "--hidden", "16", "--epochs", "1", "--batch-size", "4", "--no-eval", "--out", str(out)]) == 0
    meta = read_metadata(out)
    assert meta["dataset"] == "pics.npz" and meta["extra"]["train"]["dataset"] == "pics.npz"
    assert str(data) not in meta["extra"]["command"] and "--dataset pics.npz " in meta["extra"]["command"]


def test_rewriting_metadata_keeps_every_tensor_byte(tmp_path):
    source = TRAINED / "vae-digits.safetensors"
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    rewrite_metadata(copy, {"dataset": "digits-renamed"})
    assert read_metadata(copy)["dataset"] == "digits-renamed"
    with safe_open(str(source), framework="pt") as a, safe_open(str(copy), framework="pt") as b:
        assert set(a.keys()) == set(b.keys())
        for key in a.keys():
            assert a.get_tensor(key).numpy().tobytes() == b.get_tensor(key).numpy().tobytes(), key
    assert load_checkpoint(copy).dataset == "digits-renamed"
    assert data_section(copy) == data_section(source)  # the weights' bytes, not only their values


def data_section(path: Path) -> bytes:
    raw = path.read_bytes()
    return raw[8 + int.from_bytes(raw[:8], "little"):]


def test_compare_takes_an_older_checkpoint_of_the_same_folder_by_another_path(tmp_path):
    from aeviewer.explore.compare import load_models

    old = tmp_path / "vqvae-emoji-old.safetensors"
    shutil.copy(TRAINED / "vqvae-emoji.safetensors", old)
    rewrite_metadata(old, {"dataset": "/another/machine/shared/data/emoji"})
    models = load_models([TRAINED / "vqvae-emoji.safetensors", old], tmp_path)
    assert [m.dataset for m in models] == ["emoji", "emoji"]
