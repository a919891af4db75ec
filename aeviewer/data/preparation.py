"""Preparation: how images of a path source (folder, .npz/.npy, CIFAR) become the arrays a model sees.

It is recorded in every checkpoint trained on such a source, with the source's path, so that a model
finds and prepares its data again exactly as it was trained.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from aeviewer.util.records import record_fields
from aeviewer.errors import ConfigError

CHANNELS = ("auto", "1", "3")
FITS = ("crop", "pad")
BACKGROUNDS = ("white", "black")
DEFAULT_FOLDER_SIZE = 64  # image folders hold images of any size; arrays keep their own size unless told
MIN_SIDE, MAX_SIDE = 1, 4096


@dataclass(frozen=True)
class Preparation:
    """``image_size``: the square side (None: a folder's default 64, an array's own size).
    ``channels``: "1", "3" or "auto" (1 when every image is grey). ``fit``: "crop" (fill the square,
    cut the overflow) or "pad" (the whole image, the rest filled with the background). ``background``:
    what alpha is composited on, and the padding. ``test_fraction`` and ``seed``: the stratified split
    of a source that has none."""

    image_size: int | None = None
    channels: str = "auto"
    fit: str = "crop"
    background: str = "white"
    test_fraction: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        size = self.image_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not MIN_SIDE <= size <= MAX_SIDE):
            raise ConfigError(f"image size must be a whole number from {MIN_SIDE} to {MAX_SIDE}, got {size!r}")
        _check_choice("channels", str(self.channels), CHANNELS)
        object.__setattr__(self, "channels", str(self.channels))
        _check_choice("fit", self.fit, FITS)
        _check_choice("background", self.background, BACKGROUNDS)
        if isinstance(self.test_fraction, bool) or not isinstance(self.test_fraction, (int, float)) \
                or not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"test fraction must lie between 0 and 1, got {self.test_fraction!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise ConfigError(f"split seed must be a whole number 0 or more, got {self.seed!r}")

    @property
    def background_value(self) -> int:
        return 255 if self.background == "white" else 0

    def size_for_folder(self) -> int:
        return self.image_size or DEFAULT_FOLDER_SIZE

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "Preparation":
        """The preparation a checkpoint recorded (ConfigError, one line, for a damaged record)."""
        values = record_fields(cls, data, "data preparation")
        try:
            return cls(**values)
        except TypeError as err:
            raise ConfigError(f"data preparation is damaged ({err})") from None


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
