"""The command line with a path data set: train and evaluate on a folder, the preparation kept in the
checkpoint, the skipped files on one stderr line and in --skipped-report, and one-line errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from aeviewer.training.checkpoint import load_checkpoint
from tests.cli.test_cli_errors import assert_error, cli


@pytest.fixture
def folder(tmp_path):
    """Two classes of 16x16 colour images, plus one empty file."""
    rng = np.random.default_rng(0)
    for name, tint in (("reds", 0), ("blues", 2)):
        (tmp_path / "icons" / name).mkdir(parents=True)
        for i in range(5):
            pixels = rng.integers(0, 80, (20, 20, 3), dtype=np.uint8)
            pixels[..., tint] = 220
            Image.fromarray(pixels).save(tmp_path / "icons" / name / f"{i}.png")
    (tmp_path / "icons" / "reds" / "broken.png").write_bytes(b"")
    return tmp_path / "icons"


def test_train_and_evaluate_on_a_folder_keep_its_preparation(capsys, tmp_path, folder):
    out = tmp_path / "m.safetensors"
    report = tmp_path / "skipped.tsv"
    code, err = cli(capsys, "train", "--model", "ae", "--arch", "conv", "--dataset", str(folder), "--image-size", "16",
                    "--epochs", "1", "--latent-dim", "2", "--skipped-report", str(report), "--out", str(out))
    assert code == 0, err
    assert err == [f"aeviewer: note: {folder}: skipped 1 file: reds/broken.png (empty file (0 bytes))"]
    assert report.read_text() == "reds/broken.png\tempty file (0 bytes)\n"
    ckpt = load_checkpoint(out)
    assert ckpt.dataset == str(folder) and ckpt.preparation.image_size == 16 and ckpt.preparation.channels == "auto"
    assert ckpt.config.image_shape == (3, 16, 16)
    code, err = cli(capsys, "evaluate", str(out))  # finds the folder and its preparation again
    assert code == 0 and len(err) == 1 and "skipped 1 file" in err[0]


def test_evaluate_json_on_a_folder_prints_its_metrics(capsys, tmp_path, folder):
    out = tmp_path / "m.safetensors"
    assert cli(capsys, "train", "--model", "ae", "--dataset", str(folder), "--image-size", "8", "--hidden", "16",
               "--epochs", "1", "--out", str(out))[0] == 0
    capsys.readouterr()
    from aeviewer.cli.commands import main

    assert main(["evaluate", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["dataset"] == str(folder) and record["psnr_db"] > 0


@pytest.mark.parametrize("extra, fragments", [
    (("--image-size", "0"), ("--image-size",)),
    (("--channels", "2"), ("--channels",)),
    (("--test-fraction", "1.5"), ("--test-fraction",)),
    (("--max-memory", "lots"), ("--max-memory",)),
])
def test_bad_data_options_are_one_line(capsys, folder, extra, fragments):
    assert_error(capsys, ("train", "--model", "ae", "--dataset", str(folder), *extra), *fragments)


def test_data_errors_are_one_line_with_exit_2(capsys, tmp_path, folder):
    (tmp_path / "empty").mkdir()
    assert_error(capsys, ("train", "--model", "ae", "--dataset", str(tmp_path / "empty")), "no image files")
    assert_error(capsys, ("train", "--model", "ae", "--dataset", str(tmp_path / "gone")), "no such file or folder")
    assert_error(capsys, ("train", "--model", "ae", "--dataset", str(folder), "--image-size", "512",
                          "--max-memory", "1MB"), "would take", "--image-size")
    (tmp_path / "cifar-py").mkdir()
    (tmp_path / "cifar-py" / "data_batch_1").write_bytes(b"\x80\x04")
    assert_error(capsys, ("train", "--model", "ae", "--dataset", str(tmp_path / "cifar-py")), "binary version")
    code, err = cli(capsys, "train", "--model", "ae", "--arch", "conv", "--dataset", str(folder), "--image-size", "10")
    assert code == 2 and err[-1].startswith("aeviewer: error: ") and "multiple of 4" in err[-1]
    assert len(err) == 2 and "skipped 1 file" in err[0]  # the note of the load, then the one error line
