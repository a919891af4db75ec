"""The emoji test split shipped in resources/: the one the loader computes from the folder, and what a model
trained on the folder gets where the folder is absent."""
from pathlib import Path

import numpy as np
import pytest
from shared_data import EMOJI_HOW, require_data

from aeviewer.data.loader import bundled_path, load_path_split, load_source
from aeviewer.data.preparation import Preparation
from aeviewer.errors import DataError

EMOJI = Preparation(image_size=64, channels="3")


def test_an_absent_emoji_folder_falls_back_to_the_shipped_test_split(tmp_path):
    absent = tmp_path / "elsewhere" / "emoji"
    loaded = load_source(absent, EMOJI, tmp_path)  # a data directory without emoji/ either
    assert len(loaded.test) == 732 and loaded.test.image_shape == (3, 64, 64)
    assert len(loaded.test.class_names) == 9 and "shipped with aeviewer" in loaded.note
    with pytest.raises(DataError, match="training needs the folder") as err:
        load_path_split(absent, "train", EMOJI, tmp_path)
    assert str(absent) in str(err.value)


def test_another_preparation_does_not_take_the_shipped_split(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        load_source(tmp_path / "emoji", Preparation(image_size=32, channels="3"), tmp_path)


def test_the_shipped_split_is_the_one_the_folder_gives():
    folder = require_data("emoji/", how=EMOJI_HOW) / "emoji"
    computed = load_source(folder, EMOJI).test
    with np.load(bundled_path("emoji"), allow_pickle=False) as z:
        assert np.array_equal(z["images"], computed.images.numpy())
        assert np.array_equal(z["labels"], computed.labels.numpy())
        assert tuple(z["class_names"]) == computed.class_names


def test_evaluate_json_of_the_shipped_emoji_model_works_without_the_folder(tmp_path, capsys, monkeypatch):
    """The checkpoint names a folder that is not there: evaluate takes the shipped test split."""
    import json as json_module

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from aeviewer.cli.commands import main

    shipped = Path(__file__).resolve().parents[2] / "trained" / "vqvae-emoji.safetensors"
    with safe_open(str(shipped), framework="pt") as f:
        metadata = dict(f.metadata())
    metadata["dataset"] = str(tmp_path / "absent" / "emoji")
    moved = tmp_path / "vqvae-emoji.safetensors"
    save_file(load_file(str(shipped)), str(moved), metadata)
    monkeypatch.setenv("AEVIEWER_DATA", str(tmp_path))  # a data directory without emoji/ either
    capsys.readouterr()
    assert main(["evaluate", str(moved), "--json"]) == 0
    captured = capsys.readouterr()
    record = json_module.loads(captured.out)
    index = json_module.loads((shipped.parent / "index.json").read_text())
    recorded = next(m["metrics"] for m in index["models"] if m["file"] == shipped.name)
    assert abs(record["psnr_db"] - recorded["psnr_db"]) < 0.05 and record["codes_used_frac"] >= 0.9
    assert "shipped with aeviewer" in captured.err
