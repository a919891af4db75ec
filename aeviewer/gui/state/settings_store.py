"""What the app remembers between sessions (QSettings): the recent files; the window keeps its layout there too."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "aeviewer"
APPLICATION = "aeviewer"
MAX_RECENT = 8


def settings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


def recent_files() -> list[str]:
    value = settings().value("recentFiles", [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-element list
        value = [value]
    return [str(v) for v in (value or [])]


def remember_recent(path: str | Path) -> None:
    """Put ``path`` first in the recent files (once), keeping MAX_RECENT."""
    path = str(Path(path).resolve())
    recent = [path] + [p for p in recent_files() if p != path]
    settings().setValue("recentFiles", recent[:MAX_RECENT])
