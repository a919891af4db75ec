"""SkipReport: the files a load passed over, each with its reason, for one stderr line and a report file."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SHOWN = 3  # names in the one-line summary


@dataclass
class SkipReport:
    """Skipped files (relative paths) with why, in the order of the sorted file list."""

    entries: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, reason: str) -> None:
        self.entries.append((name, reason))

    def __len__(self) -> int:
        return len(self.entries)

    def summary(self) -> str:
        """'skipped 3 files: a.png (empty file (0 bytes)), b.txt (not an image ...), ...' ('' when none)."""
        if not self.entries:
            return ""
        shown = ", ".join(f"{name} ({reason})" for name, reason in self.entries[:SHOWN])
        more = f", and {len(self.entries) - SHOWN} more" if len(self.entries) > SHOWN else ""
        return f"skipped {len(self.entries)} file{'s' if len(self.entries) != 1 else ''}: {shown}{more}"

    def write(self, path: str | Path) -> None:
        """One 'name<TAB>reason' line per skipped file."""
        Path(path).write_text("".join(f"{name}\t{reason}\n" for name, reason in self.entries), encoding="utf-8")
