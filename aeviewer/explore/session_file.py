"""The session document (``.aeviewer.json``), without Qt: the models, the data, the map, the current point,
the bookmarks and the selection, so that opening it gives the same screen again.

Written atomically. Read leniently: a file that is not JSON, or not a session, is refused in one line; in a
session, each part that is damaged (a bookmark that is not a name and a point, a selection with a word in it)
or names a model that cannot be opened is left out and named in one line, and the rest is opened.

Model paths are stored relative to the session file's folder when they lie under it, so a folder of models
and their session can be moved or shared together; relative paths are read against that folder.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from aeviewer.util import atomic
from aeviewer.errors import AeviewerError

SESSION_SUFFIX = ".aeviewer.json"
FORMAT = "aeviewer-session"
FORMAT_VERSION = 1


class SessionError(AeviewerError):
    """A session file cannot be read at all (not JSON, not a session, from a newer version)."""


@dataclass
class Bookmark:
    name: str
    z: list[float]  # the latent point


@dataclass
class SessionFile:
    models: list[str] = field(default_factory=list)  # checkpoint paths; the first is the one explored
    dataset: str = ""
    data_dir: str | None = None
    projection: str = "auto"
    projection_params: dict[str, Any] = field(default_factory=dict)  # e.g. {"dims": [0, 2]}, UMAP's n_neighbors
    current_z: list[float] | None = None
    bookmarks: list[Bookmark] = field(default_factory=list)
    selection: list[int] = field(default_factory=list)  # test-image indices

    def to_json(self) -> str:
        body = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "models": list(self.models), "dataset": self.dataset, "data_dir": self.data_dir,
            "projection": self.projection, "projection_params": self.projection_params,
            "current_z": self.current_z,
            "bookmarks": [{"name": b.name, "z": list(b.z)} for b in self.bookmarks],
            "selection": list(self.selection),
        }
        return json.dumps(body, indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "session") -> tuple["SessionFile", list[str]]:
        """The session and what was left out of it (one short phrase each); raises SessionError if unreadable."""
        try:
            body = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise SessionError(f"{source}: damaged session file (not valid JSON: {str(err).splitlines()[0]})") from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise SessionError(f"{source}: not an aeviewer session file")
        version = body.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise SessionError(f"{source}: damaged session file (bad format_version)")
        if version > FORMAT_VERSION:
            raise SessionError(f"{source}: written by a newer aeviewer (session version {version}; this one reads "
                               f"up to {FORMAT_VERSION})")
        return _parse(body)


def _parse(body: dict[str, Any]) -> tuple[SessionFile, list[str]]:
    problems: list[str] = []
    session = SessionFile()

    def take(key: str, check: Callable[[Any], bool], what: str) -> Any:
        if key not in body or body[key] is None:
            return None
        if check(body[key]):
            return body[key]
        problems.append(f"{key} (not {what})")
        return None

    models = take("models", lambda v: isinstance(v, list), "a list of paths") or []
    session.models = [m for m in models if isinstance(m, str) and m]
    if len(session.models) < len(models):
        problems.append(f"{len(models) - len(session.models)} model entries (not paths)")
    session.dataset = take("dataset", lambda v: isinstance(v, str), "a name") or ""
    session.data_dir = take("data_dir", lambda v: isinstance(v, str), "a folder")
    session.projection = take("projection", lambda v: isinstance(v, str) and v, "a name") or "auto"
    session.projection_params = take("projection_params", lambda v: isinstance(v, dict), "an object") or {}
    session.current_z = take("current_z", _is_point, "a list of numbers")
    for k, entry in enumerate(take("bookmarks", lambda v: isinstance(v, list), "a list") or []):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and _is_point(entry.get("z")):
            session.bookmarks.append(Bookmark(entry["name"], [float(v) for v in entry["z"]]))
        else:
            problems.append(f"bookmark {k + 1} (not a name and a point)")
    session.selection = take("selection", _is_index_list, "a list of image indices") or []
    if session.current_z is not None:
        session.current_z = [float(v) for v in session.current_z]
    return session, problems


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_point(v: Any) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(_is_number(x) for x in v)


def _is_index_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in v)


# -- files ---------------------------------------------------------------------------------------------
def save_session(path: str | Path, session: SessionFile) -> Path:
    """Write ``session`` to ``path`` atomically, its model paths relative to the file's folder where they lie under it."""
    path = Path(path)
    folder = path.parent.resolve()
    stored = SessionFile(**{**session.__dict__, "models": [_relative_to(folder, m) for m in session.models]})
    try:
        text = stored.to_json()
    except ValueError as err:  # NaN or infinity in a point: JSON has no such numbers
        raise SessionError(f"{path}: cannot save the session ({err})") from None
    return atomic.write_bytes(path, text.encode("utf-8"))


def _relative_to(folder: Path, model: str) -> str:
    target = Path(model).resolve()
    return os.path.relpath(target, folder) if target.is_relative_to(folder) else str(target)


def model_paths(path: str | Path, session: SessionFile) -> list[Path]:
    """The session's model paths, relative ones read against the session file's folder."""
    folder = Path(path).parent
    return [Path(m) if Path(m).is_absolute() else folder / m for m in session.models]


@dataclass
class OpenedSession:
    session: SessionFile
    models: list[Any]  # the checkpoints that opened, in the session's order
    problems: list[str]  # what could not be opened, one short phrase each
    path: Path | None = None

    @property
    def message(self) -> str:
        """One line naming what was left out, or "" when everything opened."""
        if not self.problems:
            return ""
        return f"{self.path}: could not open {'; '.join(self.problems)}; opened the rest"


def open_session(path: str | Path, load: Callable[[Path], Any] | None = None) -> OpenedSession:
    """Read the session at ``path`` and open its models with ``load`` (default: ``load_checkpoint``).

    Models that fail are named in ``problems`` and left out; a current point or bookmark whose length is not the
    first opened model's latent size is left out too. Raises SessionError only when nothing can be read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or "not UTF-8 text"
        raise SessionError(f"{path}: cannot open ({reason})") from None
    session, problems = SessionFile.from_json(text, str(path))
    if load is None:
        from aeviewer.training.checkpoint import load_checkpoint as load
    models = []
    for model_path in model_paths(path, session):
        try:
            models.append(load(model_path))
        except AeviewerError as err:
            problems.append(_reason(model_path, err))
    if models:
        _drop_points_of_another_size(session, _latent_size(models[0]), problems)
    return OpenedSession(session, models, problems, path)


def _reason(model_path: Path, err: AeviewerError) -> str:
    """'m.safetensors (no such file)' from a checkpoint error that begins with the path."""
    text = str(err)
    prefix = f"{model_path}: "
    return f"{model_path} ({text[len(prefix):] if text.startswith(prefix) else text})"


def _latent_size(checkpoint: Any) -> int:
    model = getattr(checkpoint, "model", checkpoint)
    return int(model.latent_size)


def _drop_points_of_another_size(session: SessionFile, size: int, problems: list[str]) -> None:
    if session.current_z is not None and len(session.current_z) != size:
        problems.append(f"the current point ({len(session.current_z)} dims, the model has {size})")
        session.current_z = None
    kept = [b for b in session.bookmarks if len(b.z) == size]
    for b in session.bookmarks:
        if len(b.z) != size:
            problems.append(f"bookmark {b.name!r} ({len(b.z)} dims, the model has {size})")
    session.bookmarks = kept
