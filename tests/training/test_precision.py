"""Mixed precision and channels-last (issue 33): auto's detection, fp32 losses under autocast, the checkpoint's
record, the option in the table and the CLI, and the trainer's layout."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aeviewer.cli.commands import main
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models import build_model, default_config
from aeviewer.spec.options import BY_NAME
from aeviewer.training import precision
from aeviewer.training.checkpoint import load_checkpoint, read_metadata
from aeviewer.training.precision import recorded_precision, resolve_precision
from aeviewer.training.trainer import TrainConfig, Trainer

CPU = torch.device("cpu")
KINDS = ("ae", "dae", "vae", "aae", "vqvae")


def tiny_config(kind: str, arch: str = "conv", shape: tuple[int, int, int] = (3, 16, 16)):
    extra = {"codebook_size": 16, "code_dim": 4} if kind == "vqvae" else {"latent_dim": 3}
    return default_config(kind, shape, arch=arch, channels=(4, 8), **extra)


def tiny_set(shape: tuple[int, int, int] = (3, 16, 16), n: int = 16) -> ImageSet:
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, *shape), generator=gen, dtype=torch.uint8)
    return ImageSet(images, torch.arange(n) % 2, ("a", "b"), "tiny")


@pytest.fixture
def bf16_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))


@pytest.fixture
def no_bf16_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))


def test_auto_resolves_to_fp32_when_the_cpu_has_no_native_bf16(no_bf16_cpu: None) -> None:
    assert resolve_precision("auto", CPU).name == "fp32"
    assert resolve_precision("auto", CPU).dtype is None


def test_auto_resolves_to_bf16_on_a_cpu_with_avx512_bf16_or_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    for flag in precision.CPU_BF16_FLAGS:
        monkeypatch.setattr(precision, "cpu_flags", lambda flag=flag: frozenset({"sse2", flag}))
        assert resolve_precision("auto", CPU).dtype is torch.bfloat16


def test_fp16_on_the_cpu_and_an_unknown_name_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="fp16 needs a CUDA GPU"):
        resolve_precision("fp16", CPU)
    with pytest.raises(ConfigError, match="unknown precision 'fp8'"):
        resolve_precision("fp8", CPU)
    with pytest.raises(ConfigError, match="fp16"):
        Trainer(build_model(tiny_config("ae")), tiny_set(), TrainConfig(precision="fp16", device="cpu"))


@pytest.mark.parametrize("kind", KINDS)
def test_under_bf16_autocast_every_loss_term_stays_fp32(kind: str) -> None:
    torch.manual_seed(0)
    model = build_model(tiny_config(kind))
    x = tiny_set().images[:4].float() / 255
    with resolve_precision("bf16", CPU).autocast():
        assert model.encoder(x).dtype is torch.bfloat16  # the network does run in bf16
        terms = model.loss(x, x, torch.tensor([0, 1, 0, 1]))
    assert {t.dtype for t in terms.values()} == {torch.float32}


def test_the_vq_distances_and_ema_statistics_stay_fp32_in_a_bf16_step() -> None:
    torch.manual_seed(0)
    model = build_model(tiny_config("vqvae"))
    trainer = Trainer(model, tiny_set(), TrainConfig(epochs=1, batch_size=8, precision="bf16", device="cpu"))
    assert trainer.run().status == "finished"
    for name in ("embedding", "ema_count", "ema_sum"):
        assert getattr(model, name).dtype is torch.float32, name
    assert all(p.dtype is torch.float32 for p in model.parameters())


@pytest.mark.parametrize("kind", ["vae", "vqvae"])
def test_a_bf16_channels_last_run_ends_near_the_fp32_run_and_gives_back_a_contiguous_model(kind: str) -> None:
    losses = {}
    for name, settings in {"fp32": {"precision": "fp32", "channels_last": False},
                           "bf16": {"precision": "bf16", "channels_last": True}}.items():
        torch.manual_seed(0)
        model = build_model(tiny_config(kind))
        trainer = Trainer(model, tiny_set(n=32), TrainConfig(epochs=2, batch_size=8, device="cpu", **settings))
        assert trainer.run().status == "finished"
        assert all(p.is_contiguous() for p in model.parameters())  # the layout the caller gave
        losses[name] = trainer.history[-1]["recon"]
    assert losses["bf16"] == pytest.approx(losses["fp32"], rel=0.02)


def test_channels_last_leaves_an_mlp_as_it_is() -> None:
    model = build_model(default_config("vae", (1, 8, 8), latent_dim=2, hidden=(16,)))
    trainer = Trainer(model, tiny_set((1, 8, 8)), TrainConfig(epochs=1, batch_size=8, device="cpu", channels_last=True))
    assert not trainer.channels_last


@pytest.mark.parametrize("flags, expected", [({"avx512_bf16"}, False), ({"avx512_bf16", "amx_bf16"}, True)])
def test_channels_last_by_default_only_where_it_was_measured_to_help(monkeypatch: pytest.MonkeyPatch, flags: set[str],
                                                                      expected: bool) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    model = build_model(tiny_config("vae"))
    assert Trainer(model, tiny_set(), TrainConfig(device="cpu")).channels_last is expected


def test_the_option_is_in_the_table_for_the_cli_and_the_panel() -> None:
    option = BY_NAME["precision"]
    assert option.group == "train" and option.panel and option.flag == "--precision"
    assert tuple(option.choices) == ("auto", "fp32", "bf16", "fp16") and option.default == "auto"


def test_the_checkpoint_records_the_precision_used_and_auto_resolved(tmp_path: Path, no_bf16_cpu: None) -> None:
    out = tmp_path / "ae.safetensors"
    assert main(["train", "--model", "ae", "--dataset", "digits", "--epochs", "1", "--hidden", "16",
                 "--no-eval", "--out", str(out)]) == 0
    assert read_metadata(out)["extra"]["train"]["precision"] == "fp32"  # auto, with no bf16 here


def test_a_bf16_run_is_recorded_as_bf16_and_reloads_in_fp32(tmp_path: Path) -> None:
    out = tmp_path / "vae.safetensors"
    assert main(["train", "--model", "vae", "--dataset", "digits", "--epochs", "1", "--hidden", "16",
                 "--precision", "bf16", "--no-eval", "--out", str(out)]) == 0
    ckpt = load_checkpoint(out)
    assert recorded_precision(ckpt.extra) == "bf16"
    assert all(t.dtype is torch.float32 for t in ckpt.model.state_dict().values())


def test_a_file_from_before_the_record_reads_as_fp32() -> None:
    assert recorded_precision({}) == "fp32"
    assert recorded_precision({"train": {"precision": "auto"}}) == "fp32"
    assert recorded_precision({"train": "damaged"}) == "fp32"


def test_fp16_on_the_cli_without_cuda_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: fp16 runs there")
    assert main(["train", "--model", "ae", "--dataset", "digits", "--precision", "fp16", "--device", "cpu",
                 "--no-eval", "--out", "never.safetensors"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fp16 needs a CUDA GPU" in err[0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (fp16 with its gradient scaler)")
@pytest.mark.parametrize("name", ["fp16", "bf16"])
def test_cuda_half_precision_trains(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(tiny_config("vae"))
    trainer = Trainer(model, tiny_set(), TrainConfig(epochs=1, batch_size=8, precision=name, device="cuda"))
    assert trainer.run().status == "finished"
    assert model.grad_scaler is None
