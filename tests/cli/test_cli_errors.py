"""Every error path of the command line: its exit status and its one line on stderr (and nothing of the
user's overwritten). tests/cli/test_cli.py covers the first few; these run ``main`` in-process (fast),
plus one real process per kind of exit to show the status reaches the shell."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from aeviewer.cli.commands import main
from tests.cli.test_cli import assert_one_line_error, run_cli


def cli(capsys, *args: str) -> tuple[int, list[str]]:
    """Exit status and stderr lines of ``aeviewer ARGS`` run in this process."""
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse exits itself
        code = exit_.code
    return code, capsys.readouterr().err.strip().splitlines()


def assert_error(capsys, args: tuple[str, ...], *fragments: str, status: int = 2) -> str:
    code, lines = cli(capsys, *args)
    assert code == status, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("aeviewer: error: ") and "Traceback" not in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A real checkpoint (one epoch on digits) to damage in various ways."""
    path = tmp_path_factory.mktemp("cli") / "ae.safetensors"
    assert main(["train", "--model", "ae", "--epochs", "1", "--hidden", "32", "--no-eval", "--out", str(path)]) == 0
    return path


def rewrite(src: Path, dst: Path, **metadata_changes: str) -> Path:
    """``src`` saved again as ``dst`` with some metadata fields replaced (a well-formed safetensors file)."""
    with safe_open(str(src), framework="pt") as f:
        metadata = dict(f.metadata())
    metadata.update(metadata_changes)
    save_file(load_file(str(src)), str(dst), metadata)
    return dst


# -- arguments ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, fragment", [
    (("train",), "--model"),
    (("train", "--model", "ae", "--epochs", "0"), "--epochs"),
    (("train", "--model", "ae", "--lr", "-1"), "--lr"),
    (("train", "--model", "ae", "--hidden", "0,5"), "--hidden"),
    (("train", "--model", "aae", "--disc-hidden", "256,x"), "--disc-hidden"),
    (("train", "--model", "ae", "--arch", "transformer"), "transformer"),
    (("train", "--model", "aae", "--prior", "bogus"), "bogus"),
    (("train", "--model", "ae", "--bogus"), "--bogus"),
    (("frobnicate",), "frobnicate"),
    (("evaluate",), "path"),
    # NaN and inf passed the model's range checks and ended an epoch later as "the loss became nan"
    (("train", "--model", "vae", "--beta", "nan"), "--beta"),
    (("train", "--model", "vae", "--beta", "-0.5"), "--beta"),
    (("train", "--model", "aae", "--adversarial-weight", "inf"), "--adversarial-weight"),
    (("train", "--model", "aae", "--adversarial-growth", "inf"), "--adversarial-growth"),
    (("train", "--model", "aae", "--posterior-std", "-inf"), "--posterior-std"),
    (("train", "--model", "ae", "--lr", "nan"), "--lr"),
    (("train", "--model", "ae", "--decoder-dropout", "1"), "--decoder-dropout"),
    (("refit-decoder", "m.safetensors", "--noise", "inf"), "--noise"),
    # torch's generators take seeds below 2**63 (the trainer seeds one with seed + 1)
    (("train", "--model", "ae", "--seed", str(2**64)), "--seed"),
    (("train", "--model", "ae", "--seed", str(2**63 - 1)), "--seed"),
    (("train", "--model", "ae", "--seed", "-1"), "--seed"),
    (("data",), "data_command"),
])
def test_bad_arguments_are_one_line_exit_2(capsys, args, fragment):
    line = assert_error(capsys, args, fragment)
    assert "--help" in line  # says where to read more, instead of dumping the usage


def test_bad_arguments_reach_the_shell_as_status_2():
    assert_one_line_error(run_cli("train", "--model", "ae", "--batch-size", "-3"), "--batch-size")


@pytest.mark.parametrize("args, fragment", [
    (("train", "--model", "vae", "--recon", "purple"), "purple"),
    (("train", "--model", "ae", "--device", "tpu"), "tpu"),
])
def test_impossible_settings_are_one_line_exit_2(capsys, tmp_path, args, fragment):
    assert_error(capsys, args + ("--out", str(tmp_path / "m.safetensors")), fragment)
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("spec, fragment", [
    ("gaussian:-1", ">= 0"), ("masking:2", "[0, 1]"), ("gaussian", "needs a level"), ("gaussian:lots", "lots"),
])
def test_bad_noise_specs_are_one_line_exit_2(capsys, tmp_path, spec, fragment):
    assert_error(capsys, ("train", "--model", "dae", "--noise", spec, "--out", str(tmp_path / "m.safetensors")), fragment)


# -- data ----------------------------------------------------------------------------------------------
def test_evaluate_on_an_unknown_data_set(capsys, checkpoint):
    assert_error(capsys, ("evaluate", str(checkpoint), "--dataset", "cifar"), "cifar", "digits")


@pytest.mark.parametrize("option, fragment", [(("--parzen",), "has none"), (("--iw-samples", "10"), "VAE's")])
def test_evaluate_options_the_model_kind_has_no_use_for_are_refused(capsys, checkpoint, option, fragment):
    assert_error(capsys, ("evaluate", str(checkpoint), *option), fragment, "ae")


def test_evaluate_on_a_data_set_of_another_image_size(capsys, checkpoint):
    """An 8x8 digits model on MNIST's bundled 28x28 test split: one line, not a matmul traceback."""
    assert_error(capsys, ("evaluate", str(checkpoint), "--dataset", "mnist"), "28x28", "1x8x8")


def test_refit_of_a_kind_without_a_refit_says_so_before_looking_for_data(capsys, tmp_path):
    vae = tmp_path / "vae.safetensors"
    assert main(["train", "--model", "vae", "--epochs", "1", "--hidden", "16", "--no-eval", "--out", str(vae)]) == 0
    damaged = rewrite(vae, tmp_path / "vae-mnist.safetensors", dataset="mnist")
    # MNIST's training split is not there (an empty data folder): the kind is refused first all the same
    assert_error(capsys, ("--data-dir", str(tmp_path / "empty"), "refit-decoder", str(damaged)), "vae decoder cannot")


@pytest.mark.parametrize("train", [1, {"hold_out": "1000"}, {"hold_out": 1000.0}, {"hold_out": -5}])
def test_a_damaged_training_record_is_one_line(capsys, checkpoint, tmp_path, train):
    with safe_open(str(checkpoint), framework="pt") as f:
        extra = json.loads(f.metadata()["extra"])
    bad = rewrite(checkpoint, tmp_path / "bad.safetensors", extra=json.dumps({**extra, "train": train}))
    assert_error(capsys, ("evaluate", str(bad)), "damaged checkpoint", "train")
    assert_error(capsys, ("refit-decoder", str(bad), "--out", str(tmp_path / "r.safetensors")), "damaged checkpoint")


def test_evaluate_with_the_test_split_missing_names_the_fetch_command(capsys, checkpoint, tmp_path):
    assert_error(capsys, ("--data-dir", str(tmp_path), "evaluate", str(checkpoint), "--dataset", "fashion-mnist"),
                 "aeviewer data fetch fashion-mnist", str(tmp_path))


def test_fetch_from_an_unreachable_mirror(capsys, tmp_path):
    assert_error(capsys, ("--data-dir", str(tmp_path), "data", "fetch", "mnist", "--base-url", "http://127.0.0.1:9/"),
                 "cannot download", "127.0.0.1:9")


def test_fetch_into_a_folder_that_cannot_exist(capsys, tmp_path):
    (tmp_path / "a-file").write_text("x")
    assert_error(capsys, ("--data-dir", str(tmp_path / "a-file" / "data"), "data", "fetch", "mnist",
                          "--base-url", "http://127.0.0.1:9/"), str(tmp_path / "a-file"))


# -- checkpoints --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cut", [0, 7, 100, -1])
def test_evaluate_a_truncated_checkpoint(capsys, checkpoint, tmp_path, cut):
    data = checkpoint.read_bytes()
    broken = tmp_path / "cut.safetensors"
    broken.write_bytes(data[:cut] if cut >= 0 else data[:len(data) // 2])
    assert_error(capsys, ("evaluate", str(broken)), str(broken))


def test_evaluate_a_pickle_renamed_safetensors(capsys, tmp_path):
    import pickle

    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    assert_error(capsys, ("evaluate", str(path)), str(path), "not an aeviewer checkpoint")


def test_evaluate_a_foreign_safetensors_file(capsys, tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(path), {"format": "pt"})
    assert_error(capsys, ("evaluate", str(path)), str(path), "not an aeviewer checkpoint")


def test_evaluate_a_checkpoint_from_a_newer_version(capsys, checkpoint, tmp_path):
    path = rewrite(checkpoint, tmp_path / "newer.safetensors", format_version="99")
    assert_error(capsys, ("evaluate", str(path)), str(path), "newer")


def test_evaluate_a_checkpoint_whose_config_does_not_match_its_tensors(capsys, checkpoint, tmp_path):
    with safe_open(str(checkpoint), framework="pt") as f:
        config = json.loads(f.metadata()["config"])
    config["latent_dim"] = 7
    path = rewrite(checkpoint, tmp_path / "shape.safetensors", config=json.dumps(config))
    assert_error(capsys, ("evaluate", str(path)), str(path), "shape")


def test_evaluate_a_checkpoint_with_no_data_set_asks_for_one(capsys, checkpoint, tmp_path):
    path = rewrite(checkpoint, tmp_path / "nodata.safetensors", dataset="")
    assert_error(capsys, ("evaluate", str(path)), "--dataset")


def test_evaluate_negative_importance_samples(capsys, checkpoint):
    assert_error(capsys, ("evaluate", str(checkpoint), "--iw-samples", "-1"), "--iw-samples")


def test_bad_checkpoint_reaches_the_shell_as_status_2(tmp_path):
    path = tmp_path / "empty.safetensors"
    path.write_bytes(b"")
    assert_one_line_error(run_cli("evaluate", str(path)), str(path))


# -- writing the output ----------------------------------------------------------------------------
def test_train_into_a_new_folder_under_a_file_is_refused_before_training(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    out = tmp_path / "notes.txt" / "runs" / "m.safetensors"
    assert_error(capsys, ("train", "--model", "ae", "--out", str(out)), "is a file")


def test_train_into_a_folder_that_cannot_be_written(capsys, tmp_path):
    (tmp_path / "a-file").write_text("x")  # a folder below a file: unwritable even for root
    out = tmp_path / "a-file" / "m.safetensors"
    assert_error(capsys, ("train", "--model", "ae", "--epochs", "1", "--hidden", "16", "--no-eval", "--out", str(out)),
                 str(out), "cannot write", "is a file")
    assert (tmp_path / "a-file").read_text() == "x"


def test_a_full_disk_leaves_the_previous_checkpoint_unchanged(capsys, checkpoint, tmp_path, monkeypatch):
    out = tmp_path / "mine.safetensors"
    out.write_bytes(checkpoint.read_bytes())

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("aeviewer.util.atomic.os.replace", full)
    assert_error(capsys, ("train", "--model", "ae", "--epochs", "1", "--hidden", "16", "--no-eval", "--out", str(out)),
                 str(out), "No space left", "unchanged")
    assert out.read_bytes() == checkpoint.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["mine.safetensors"]  # no temp file left behind


# -- training itself ----------------------------------------------------------------------------------
def test_cuda_without_cuda_warns_and_trains_on_the_cpu(capsys, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present here: there is no fallback to see")
    out = tmp_path / "m.safetensors"
    code, lines = cli(capsys, "train", "--model", "ae", "--epochs", "1", "--hidden", "16", "--no-eval",
                      "--device", "cuda", "--out", str(out))
    assert code == 0 and out.is_file()
    assert lines == ["aeviewer: warning: cuda was asked for but CUDA is not available; using the CPU"]


def test_evaluate_on_cuda_without_cuda_falls_back(capsys, checkpoint):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present here: there is no fallback to see")
    code, lines = cli(capsys, "evaluate", str(checkpoint), "--device", "cuda", "--json")
    assert code == 0
    assert lines == ["aeviewer: warning: cuda was asked for but CUDA is not available; using the CPU"]


def test_a_diverging_run_exits_1_naming_the_term_and_keeps_the_last_good_epoch(capsys, tmp_path, monkeypatch):
    import aeviewer.models as models
    from aeviewer.training.checkpoint import load_checkpoint

    real_build = models.build_model
    steps_per_epoch = -(-1437 // 128)  # digits: 1437 training images

    def build_diverging(config):
        model = real_build(config)
        loss, seen = model.loss, [0]

        def nan_in_epoch_two(x, x_input, labels=None):
            terms = loss(x, x_input, labels)
            seen[0] += 1
            if seen[0] > steps_per_epoch + 3:
                terms = {k: v * float("nan") if k == "recon" else v for k, v in terms.items()}
            return terms

        model.loss = nan_in_epoch_two
        return model

    monkeypatch.setattr(models, "build_model", build_diverging)
    out = tmp_path / "m.safetensors"
    line = assert_error(capsys, ("train", "--model", "ae", "--epochs", "3", "--hidden", "16", "--no-eval",
                                 "--out", str(out)), "'recon'", "epoch 2", status=1)
    assert "nan" in line
    saved = load_checkpoint(out)  # the file written after epoch 1 is whole
    assert len(saved.history) == 1 and saved.extra["status"] == "training"


def test_an_interrupt_exits_130(capsys, monkeypatch, tmp_path):
    from aeviewer.training.trainer import Trainer

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "run", interrupted)
    code, lines = cli(capsys, "train", "--model", "ae", "--out", str(tmp_path / "m.safetensors"))
    assert code == 130 and lines == ["aeviewer: interrupted"]


def test_a_model_too_big_for_the_machine_is_refused_before_it_is_allocated(capsys, tmp_path):
    # 10^6-wide layers: 10^12 weights, 16 TB to train; allocated, it would be an allocator traceback (or worse)
    line = assert_error(capsys, ("train", "--model", "ae", "--dataset", "digits", "--hidden", "1000000,1000000",
                                 "--no-eval", "--out", str(tmp_path / "big.safetensors")), "GB", "narrower")
    assert "2,000,136,000,066 weights" in line and not (tmp_path / "big.safetensors").exists()


@pytest.mark.parametrize("where", ["before", "after"])
def test_the_data_directory_is_taken_before_or_after_the_sub_command(capsys, tmp_path, where):
    """'pass --data-dir', as the missing-data hint says, works where a user appends it: after the sub-command."""
    empty = tmp_path / "empty"
    args = ("train", "--model", "ae", "--dataset", "mnist", "--out", str(tmp_path / "m.safetensors"))
    args = ("--data-dir", str(empty), *args) if where == "before" else (*args, "--data-dir", str(empty))
    assert_error(capsys, args, "mnist train split not found", str(empty / "mnist"))
