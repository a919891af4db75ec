"""Layer widths as people write them ("512, 256") and back: the CLI's flags and the panel's fields read them alike."""
from __future__ import annotations

from aeviewer.errors import ConfigError


def parse_widths(text: str) -> tuple[int, ...]:
    """Layer widths written as "512, 256" -> (512, 256); ConfigError (one line) for anything else.

    The CLI's --hidden / --disc-hidden and the training panel's width fields read them the same way.
    """
    parts = [part.strip() for part in text.split(",")]
    if parts and not parts[-1]:
        parts.pop()  # a trailing comma, as in "512, 256,"
    if not parts or not all(part.isascii() and part.isdigit() for part in parts):
        raise ConfigError(f"expected comma-separated whole numbers such as 512,256, got {text!r}")
    widths = tuple(int(part) for part in parts)
    if min(widths) < 1:
        raise ConfigError(f"layer widths must be at least 1, got {text!r}")
    return widths


def widths_text(widths: tuple[int, ...]) -> str:
    """(512, 256) -> "512, 256": what ``parse_widths`` reads back."""
    return ", ".join(map(str, widths))
