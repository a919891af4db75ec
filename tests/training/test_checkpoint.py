"""Checkpoints: exact round trip, atomic save, and one-line refusals of bad files."""
from __future__ import annotations

import json
import os
import struct

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes

from aeviewer.errors import CheckpointError
from aeviewer.models import KINDS, ModelConfig, build_model, default_config
from aeviewer.training import checkpoint as ckpt_module
from aeviewer.training.checkpoint import FORMAT_VERSION, load_checkpoint, read_metadata, save_checkpoint


def small_model(kind: str = "vae", seed: int = 0, **overrides):
    torch.manual_seed(seed)
    options = dict(hidden=(32,), latent_dim=3, codebook_size=16, code_dim=4, channels=(8, 8))
    options.update(overrides)
    return build_model(default_config(kind, image_shape=(1, 8, 8), **options))


def rewrite(path, metadata_change=None, tensors_change=None):
    """Re-save ``path`` with edited metadata or tensors (to make deliberately bad files)."""
    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if metadata_change:
        metadata_change(meta)
    if tensors_change:
        tensors_change(tensors)
    path.write_bytes(safetensors_bytes(tensors, meta))


def assert_one_line_naming(err: pytest.ExceptionInfo, path) -> str:
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


@pytest.mark.parametrize("kind", KINDS)
def test_reload_gives_bit_identical_outputs(tmp_path, kind):
    model = small_model(kind).eval()
    # Move every weight and buffer off its initial value so a silently skipped tensor would show.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    path = save_checkpoint(tmp_path / f"{kind}.safetensors", model, dataset="digits")
    loaded = load_checkpoint(path).model
    assert type(loaded) is type(model) and loaded.config == model.config and not loaded.training
    x = torch.rand(7, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(loaded.encode(x), model.encode(x))
        assert torch.equal(loaded.decode(model.encode(x)), model.decode(model.encode(x)))
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name


def test_records_round_trip(tmp_path):
    metrics = {"neg_elbo": 101.5, "psnr_db": 17.25}
    history = [{"epoch": 1, "total": 150.0}, {"epoch": 2, "total": 120.0}]
    extra = {"train": {"lr": 0.001}, "status": "finished"}
    path = save_checkpoint(tmp_path / "m.safetensors", small_model(), dataset="mnist", metrics=metrics,
                           history=history, extra=extra)
    loaded = load_checkpoint(path)
    assert (loaded.dataset, loaded.metrics, loaded.history, loaded.extra) == ("mnist", metrics, history, extra)
    assert loaded.path == path and loaded.config.kind == "vae"
    meta = read_metadata(path)
    assert meta["config"]["latent_dim"] == 3 and meta["metrics"] == metrics
    with safe_open(str(path), framework="pt") as f:
        raw = f.metadata()
    assert raw["format"] == "aeviewer" and raw["format_version"] == str(FORMAT_VERSION)
    assert ModelConfig.from_dict(json.loads(raw["config"])) == small_model().config


def test_save_is_atomic(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.safetensors", small_model(seed=0), dataset="digits")
    before = path.read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)  # the new bytes are written, then the write fails
    with pytest.raises(CheckpointError) as err:
        save_checkpoint(path, small_model(seed=1), dataset="digits")
    message = assert_one_line_naming(err, path)
    assert "No space left" in message and "previous file is unchanged" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # no temp file left behind
    monkeypatch.undo()
    save_checkpoint(path, small_model(seed=1), dataset="digits")
    assert path.read_bytes() != before


def test_save_onto_a_directory_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="is a directory"):
        save_checkpoint(tmp_path, small_model(), dataset="digits")


def test_truncated_checkpoint_is_refused_with_one_line(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", small_model(), dataset="digits")
    data = path.read_bytes()
    for cut in (len(data) - 100, 200, 5, 0):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(path)
        assert "not an aeviewer checkpoint" in assert_one_line_naming(err, path)


def test_pickle_renamed_safetensors_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    torch.save(small_model().state_dict(), path)
    unpickled = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: unpickled.append(a))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "not an aeviewer checkpoint" in assert_one_line_naming(err, path)
    assert not unpickled


def test_foreign_safetensors_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    path.write_bytes(safetensors_bytes({"weight": torch.zeros(3)}))
    with pytest.raises(CheckpointError, match=r"not an aeviewer checkpoint \(no aeviewer metadata\)"):
        load_checkpoint(path)
    path.write_bytes(safetensors_bytes({"weight": torch.zeros(3)}, {"format": "pt"}))
    with pytest.raises(CheckpointError, match="format 'pt'"):
        load_checkpoint(path)


def test_offsets_past_the_end_are_refused(tmp_path):
    header = json.dumps({"w": {"dtype": "F32", "shape": [100, 100], "data_offsets": [0, 40000]},
                         "__metadata__": {"format": "aeviewer"}}).encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 400)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "not an aeviewer checkpoint" in assert_one_line_naming(err, path)


def test_missing_file_and_directory_are_refused_clearly(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "absent.safetensors")
    with pytest.raises(CheckpointError, match="is a directory, not a checkpoint file"):
        load_checkpoint(tmp_path)


def test_newer_format_version_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", small_model(), dataset="digits")
    rewrite(path, metadata_change=lambda m: m.update(format_version=str(FORMAT_VERSION + 1)))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "newer aeviewer" in assert_one_line_naming(err, path)


def test_newer_config_version_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", small_model(), dataset="digits")

    def bump(meta):
        config = json.loads(meta["config"])
        config["version"] += 1
        meta["config"] = json.dumps(config)

    rewrite(path, metadata_change=bump)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "newer" in assert_one_line_naming(err, path)


def test_shape_mismatch_names_the_tensor(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", small_model(latent_dim=3), dataset="digits")

    def claim_latent_4(meta):
        config = json.loads(meta["config"])
        config["latent_dim"] = 4
        meta["config"] = json.dumps(config)

    rewrite(path, metadata_change=claim_latent_4)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    message = assert_one_line_naming(err, path)
    assert "tensor '" in message and "shape" in message


def test_missing_and_unexpected_tensors_are_named(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", small_model(), dataset="digits")
    name = next(iter(small_model().state_dict()))
    rewrite(path, tensors_change=lambda t: t.pop(name))
    with pytest.raises(CheckpointError, match=f"tensor '{name}' is missing"):
        load_checkpoint(path)
    path = save_checkpoint(tmp_path / "m.safetensors", small_model(), dataset="digits")
    rewrite(path, tensors_change=lambda t: t.update(stray=torch.zeros(2)))
    with pytest.raises(CheckpointError, match="tensor 'stray'"):
        load_checkpoint(path)


def test_damaged_json_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", small_model(), dataset="digits")
    rewrite(path, metadata_change=lambda m: m.update(metrics="{not json"))
    with pytest.raises(CheckpointError, match="metrics is not valid JSON"):
        load_checkpoint(path)


def test_the_module_never_uses_pickle():
    source = open(ckpt_module.__file__).read()
    assert "torch.load" not in source and "import pickle" not in source


def test_saved_file_gets_usual_permissions_and_keeps_an_existing_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "m.safetensors", small_model(seed=0), dataset="digits")
        assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        os.chmod(path, 0o640)
        save_checkpoint(path, small_model(seed=1), dataset="digits")
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)
