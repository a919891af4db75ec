"""Saving the screen to a session file and opening it again: the glue between the GUI's Session (and wherever
the window keeps its bookmarks) and :mod:`aeviewer.explore.session_file`. The window's File menu calls these.

Opening goes through the window's own ``open_model`` (so a bad model gets the usual message and the data set
is found as usual); what cannot be opened is named in one line and the rest is restored.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from aeviewer.projections.registry import KINDS, MAP_KINDS
from aeviewer.explore.session_file import Bookmark, SessionFile, open_session, save_session


def capture(session: Any, bookmarks: Sequence[Bookmark] = (), selection: Sequence[int] = (),
            data_dir: str | None = None) -> SessionFile:
    """The session file describing what the window shows now."""
    return SessionFile(
        models=[str(session.model_path)] if getattr(session, "model_path", None) else [],
        dataset=getattr(session, "dataset_name", "") or "",
        data_dir=data_dir,
        projection=getattr(session, "projection_kind", "auto"),
        projection_params={"dims": list(getattr(session, "projection_dims", (0, 1)))},
        current_z=None if session.current_z is None else [float(v) for v in np.asarray(session.current_z).ravel()],
        bookmarks=[Bookmark(b.name, [float(v) for v in np.asarray(b.z).ravel()]) for b in bookmarks],
        selection=[int(i) for i in selection],
    )


def save(path: str | Path, session: Any, bookmarks: Sequence[Bookmark] = (), selection: Sequence[int] = (),
         data_dir: str | None = None) -> Path:
    """``bookmarks``: anything with ``name`` and ``z`` (the window's own bookmark objects will do)."""
    return save_session(path, capture(session, bookmarks, selection, data_dir))


def restore(path: str | Path, session: Any, open_model: Callable[[Path], bool],
            set_bookmarks: Callable[[list[Bookmark]], Any] | None = None) -> tuple[SessionFile, str]:
    """Open the session at ``path``: its first model that opens, through ``open_model``, then the map, the point
    and the bookmarks (handed to ``set_bookmarks``). Returns the session file and a one-line message naming what
    could not be opened ("" if everything did). Raises SessionError when the file cannot be read at all."""
    opened = open_session(path)  # loads each model once to name the ones that fail (the window loads its own)
    file = opened.session
    if not opened.models or not open_model(opened.models[0].path):
        return file, opened.message or f"{path}: could not open its model"
    notes = [opened.message] if opened.message else []
    if file.projection in MAP_KINDS:  # a UMAP or t-SNE map is fitted in the background, not stored
        notes.append(f"the {KINDS[file.projection].label} map is not stored: run it again from the Projection row")
    elif file.projection != "auto":  # a map this model cannot have is said on the status line by the session
        session.set_projection(file.projection, file.projection_params.get("dims", [0, 1]))
    if file.current_z is not None:
        session.set_current_z(np.asarray(file.current_z, np.float32))
    if set_bookmarks is not None:
        set_bookmarks(file.bookmarks)
    return file, "; ".join(notes)
