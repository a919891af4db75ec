"""The session file: everything needed to reopen the same screen, written atomically, read leniently."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from aeviewer.errors import AeviewerError
from aeviewer.models import build_model, default_config
from aeviewer.explore.session_file import Bookmark, SessionError, SessionFile, open_session, save_session
from aeviewer.training.checkpoint import save_checkpoint


@pytest.fixture
def two_models(tmp_path: Path) -> list[Path]:
    paths = []
    for kind in ("ae", "vae"):
        torch.manual_seed(0)
        model = build_model(default_config(kind, image_shape=(1, 8, 8), latent_dim=2))
        paths.append(save_checkpoint(tmp_path / "models" / f"{kind}.safetensors", model, dataset="digits"))
    return paths


def full_session(models: list[Path]) -> SessionFile:
    return SessionFile(models=[str(p) for p in models], dataset="digits", data_dir="/data", projection="pair",
                       projection_params={"dims": [1, 0]}, current_z=[0.25, -1.5],
                       bookmarks=[Bookmark("a thin seven", [0.1, 0.2]), Bookmark("the hole", [-2.0, 3.0])],
                       selection=[4, 8, 15])


def test_a_saved_session_reopens_with_every_part(tmp_path: Path, two_models: list[Path]) -> None:
    path = save_session(tmp_path / "lecture.aeviewer.json", full_session(two_models))
    opened = open_session(path)
    assert opened.problems == [] and opened.message == ""
    assert [m.config.kind for m in opened.models] == ["ae", "vae"]
    assert opened.session == SessionFile(**{**full_session(two_models).__dict__,
                                            "models": ["models/ae.safetensors", "models/vae.safetensors"]})


def test_model_paths_are_stored_relative_so_the_folder_can_move(tmp_path: Path, two_models: list[Path]) -> None:
    save_session(tmp_path / "s.aeviewer.json", full_session(two_models))
    moved = tmp_path.parent / (tmp_path.name + "-moved")
    tmp_path.rename(moved)
    opened = open_session(moved / "s.aeviewer.json")
    assert len(opened.models) == 2 and opened.problems == []


def test_a_failed_save_keeps_the_previous_file(tmp_path: Path, two_models: list[Path], monkeypatch) -> None:
    path = save_session(tmp_path / "s.aeviewer.json", full_session(two_models))
    before = path.read_bytes()
    with pytest.raises(SessionError, match="cannot save the session"):
        save_session(path, SessionFile(current_z=[float("nan")]))  # JSON has no NaN

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("aeviewer.util.atomic.os.replace", full_disk)
    with pytest.raises(AeviewerError, match="No space left on device"):
        save_session(path, SessionFile(selection=[1]))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "s.aeviewer.json"]  # no temp file left


def test_a_missing_model_is_named_in_one_line_and_the_others_open(tmp_path: Path, two_models: list[Path]) -> None:
    path = save_session(tmp_path / "s.aeviewer.json", full_session(two_models))
    two_models[0].unlink()
    opened = open_session(path)
    assert [m.config.kind for m in opened.models] == ["vae"]
    assert "\n" not in opened.message
    assert "could not open" in opened.message and "ae.safetensors (no such file)" in opened.message
    assert opened.session.bookmarks and opened.session.selection == [4, 8, 15]


def test_damaged_parts_are_left_out_and_named(tmp_path: Path, two_models: list[Path]) -> None:
    body = json.loads(full_session(two_models).to_json())
    body["bookmarks"].append({"name": 3})
    body["selection"] = [1, "two"]
    body["current_z"] = [0.0, 1.0, 2.0]  # 3 dims for a 2-dim model
    path = tmp_path / "s.aeviewer.json"
    path.write_text(json.dumps(body))
    opened = open_session(path)
    assert len(opened.models) == 2
    assert opened.session.selection == [] and opened.session.current_z is None
    assert [b.name for b in opened.session.bookmarks] == ["a thin seven", "the hole"]
    assert "bookmark 3 (not a name and a point)" in opened.message
    assert "selection (not a list of image indices)" in opened.message
    assert "the current point (3 dims, the model has 2)" in opened.message


@pytest.mark.parametrize("text, fragment", [
    ("{not json", "damaged session file (not valid JSON"),
    ('{"format": "something else"}', "not an aeviewer session file"),
    ("[1, 2]", "not an aeviewer session file"),
    ('{"format": "aeviewer-session", "format_version": 99}', "written by a newer aeviewer"),
])
def test_an_unreadable_file_is_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "s.aeviewer.json"
    path.write_text(text)
    with pytest.raises(SessionError, match=re.escape(fragment)) as err:
        open_session(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_a_missing_session_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match="cannot open"):
        open_session(tmp_path / "none.aeviewer.json")


def test_json_round_trip_keeps_every_field(two_models: list[Path]) -> None:
    session = full_session(two_models)
    again, problems = SessionFile.from_json(session.to_json())
    assert again == session and problems == []
