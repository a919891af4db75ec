"""The command line: each sub-command works, and every error path is one line with exit status 2."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aeviewer.cli.commands import main


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aeviewer", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("kind", ["ae", "dae", "vae", "aae", "vqvae"])
def test_train_then_evaluate_json_on_digits(kind: str, tmp_path: Path) -> None:
    out = tmp_path / f"{kind}.safetensors"
    code = main(["train", "--model", kind, "--dataset", "digits", "--epochs", "2", "--out", str(out)])
    assert code == 0
    assert out.exists()
    proc = run_cli("evaluate", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["kind"] == kind
    assert report["dataset"] == "digits"
    assert report["latent_dim"] == 2
    assert report["psnr_db"] > 5.0


def test_train_prints_one_line_per_epoch_with_each_loss_term(tmp_path: Path, capsys) -> None:
    out = tmp_path / "vae.safetensors"
    assert main(["train", "--model", "vae", "--dataset", "digits", "--epochs", "3", "--out", str(out), "--no-eval"]) == 0
    lines = capsys.readouterr().out.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert len(epoch_lines) == 3
    from aeviewer.training.checkpoint import load_checkpoint

    n_weights = sum(p.numel() for p in load_checkpoint(out).model.parameters())
    assert lines[0].startswith("training vae on digits (1,438 images), ") and f"{n_weights:,} weights" in lines[0]
    for line in epoch_lines:
        assert "recon" in line and "kl" in line and "total" in line


def test_aae_options_reach_the_saved_config(tmp_path: Path) -> None:
    from aeviewer.training.checkpoint import read_metadata

    out = tmp_path / "aae.safetensors"
    assert main(["train", "--model", "aae", "--dataset", "digits", "--epochs", "1", "--out", str(out), "--no-eval",
                 "--adversarial-weight", "2.5", "--adversarial-growth", "4", "--posterior-std", "0.1",
                 "--disc-hidden", "48,24"]) == 0
    config = read_metadata(out)["config"]
    assert (config["adversarial_weight"], config["adversarial_growth"], config["posterior_std"]) == (2.5, 4.0, 0.1)
    assert config["disc_hidden"] == [48, 24]
    assert config["learned_posterior"] is False


def test_conv_widths_and_code_grid_stages_reach_a_resnet_vqvae(tmp_path: Path) -> None:
    import numpy as np

    from aeviewer.training.checkpoint import load_checkpoint

    data, out = tmp_path / "tiny.npz", tmp_path / "vq.safetensors"
    rng = np.random.default_rng(0)
    np.savez(data, images=rng.integers(0, 256, (20, 16, 16, 3), dtype=np.uint8), labels=np.arange(20) % 2)
    assert main(["train", "--model", "vqvae", "--arch", "resnet", "--dataset", str(data), "--epochs", "1",
                 "--codebook-size", "8", "--conv-widths", "8", "--code-grid-stages", "3", "--out", str(out),
                 "--no-eval"]) == 0
    model = load_checkpoint(out).model
    assert list(model.config.channels) == [8] and model.config.conv_stages == 3
    assert model.code_grid_shape == (2, 2)


def test_learned_posterior_reaches_the_saved_config_and_the_model_reloads(tmp_path: Path) -> None:
    import torch

    from aeviewer.training.checkpoint import load_checkpoint, read_metadata

    out = tmp_path / "aae.safetensors"
    assert main(["train", "--model", "aae", "--dataset", "digits", "--epochs", "1", "--out", str(out), "--no-eval",
                 "--learned-posterior", "--latent-dim", "3"]) == 0
    assert read_metadata(out)["config"]["learned_posterior"] is True
    model = load_checkpoint(out).model
    assert model.encode(torch.rand(2, 1, 8, 8)).shape == (2, 3)


def test_learned_posterior_with_a_fixed_spread_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("train", "--model", "aae", "--dataset", "digits", "--learned-posterior",
                                  "--posterior-std", "0.1"), "learned posterior")


def test_adversarial_growth_below_one_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("train", "--model", "aae", "--dataset", "digits", "--adversarial-growth", "0.5"),
                          "--adversarial-growth")


def test_unknown_model_kind_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("train", "--model", "gan"), "--model")


def test_bad_number_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("train", "--model", "ae", "--epochs", "zero"), "--epochs")


def test_unknown_dataset_is_one_line_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("train", "--model", "ae", "--dataset", "cifar", "--out", str(tmp_path / "m.safetensors")),
                          "cifar")


def test_missing_data_names_the_fetch_command(tmp_path: Path) -> None:
    proc = run_cli("--data-dir", str(tmp_path), "train", "--model", "ae", "--dataset", "mnist",
                   "--out", str(tmp_path / "m.safetensors"))
    assert_one_line_error(proc, "aeviewer data fetch")


def test_bad_noise_spec_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = run_cli("train", "--model", "dae", "--noise", "purple:3", "--out", str(tmp_path / "m.safetensors"))
    assert_one_line_error(proc, "purple")


def test_evaluate_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.safetensors"
    assert_one_line_error(run_cli("evaluate", str(missing)), str(missing))


def test_evaluate_foreign_file_is_one_line_exit_2(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.safetensors"
    foreign.write_text("these are my notes, not a model")
    assert_one_line_error(run_cli("evaluate", str(foreign)), str(foreign))


def test_evaluate_directory_is_one_line_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("evaluate", str(tmp_path)), str(tmp_path))


def test_data_list_shows_each_source(tmp_path: Path) -> None:
    proc = run_cli("--data-dir", str(tmp_path), "data", "list")
    assert proc.returncode == 0, proc.stderr
    for name in ("digits", "mnist", "fashion-mnist"):
        assert name in proc.stdout


def test_data_fetch_unknown_name_is_one_line_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("--data-dir", str(tmp_path), "data", "fetch", "imagenet"), "imagenet")


def test_hold_out_keeps_the_last_training_images_out_of_training(tmp_path: Path, monkeypatch) -> None:
    import aeviewer.training.trainer as trainer_module
    from aeviewer.data.loader import load_split

    seen = []
    real_init = trainer_module.Trainer.__init__

    def recording_init(self, model, train_set, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(train_set)
        real_init(self, model, train_set, *args, **kwargs)

    monkeypatch.setattr(trainer_module.Trainer, "__init__", recording_init)
    out = tmp_path / "aae.safetensors"
    assert main(["train", "--model", "aae", "--dataset", "digits", "--epochs", "1", "--hold-out", "300",
                 "--out", str(out), "--no-eval"]) == 0
    full = load_split("digits", "train", None)
    assert len(seen[0]) == len(full) - 300
    assert bool((seen[0].images == full.images[:-300]).all())


def test_evaluate_parzen_notes_when_sigma_is_chosen_on_training_images(tmp_path: Path) -> None:
    notes = []
    for hold_out in ("0", "1000"):
        out = tmp_path / f"aae-{hold_out}.safetensors"
        assert main(["train", "--model", "aae", "--dataset", "digits", "--epochs", "1", "--hold-out", hold_out,
                     "--out", str(out), "--no-eval"]) == 0
        proc = run_cli("evaluate", str(out), "--parzen", "--json")
        assert proc.returncode == 0, proc.stderr
        assert "parzen_ll" in json.loads(proc.stdout)
        notes.append("--hold-out 1000" in proc.stderr)
    assert notes == [True, False]


def test_hold_out_as_large_as_the_training_set_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("train", "--model", "aae", "--dataset", "digits", "--hold-out", "5000"), "--hold-out")


def test_lr_schedule_choices_are_the_trainers() -> None:
    """The parser lists the vocabulary's schedules (importing the trainer would pull torch into --help)."""
    from aeviewer.cli.commands import build_parser
    from aeviewer.training.trainer import LR_SCHEDULES

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    (action,) = [a for a in train._actions if a.dest == "lr_schedule"]
    assert tuple(action.choices) == LR_SCHEDULES


def test_weight_decay_reaches_the_run_and_is_recorded_in_the_checkpoint(tmp_path, monkeypatch) -> None:
    import aeviewer.training.trainer as trainer_module
    from aeviewer.training.checkpoint import load_checkpoint

    seen: list[float] = []
    original = trainer_module.Trainer.run

    def spy(self):
        result = original(self)
        seen.extend(g["weight_decay"] for opt in self.optimizers for g in opt.param_groups)
        return result

    monkeypatch.setattr(trainer_module.Trainer, "run", spy)
    out = tmp_path / "ae.safetensors"
    assert main(["train", "--model", "ae", "--dataset", "digits", "--epochs", "1", "--hidden", "16",
                 "--weight-decay", "0.01", "--no-eval", "--out", str(out)]) == 0
    assert seen and set(seen) == {0.01}
    assert load_checkpoint(out).extra["train"]["weight_decay"] == 0.01
    assert_one_line_error(run_cli("train", "--model", "ae", "--weight-decay", "-1"), "--weight-decay")
