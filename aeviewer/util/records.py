"""Reading a dataclass back from the JSON record it was saved as: the checks every such record shares."""
from __future__ import annotations

import dataclasses
from typing import Any

from aeviewer.errors import ConfigError


def record_fields(cls: type, data: Any, what: str) -> dict[str, Any]:
    """``data`` as a dict of ``cls``'s fields; ConfigError (one line, naming ``what``) for a record that is not a JSON
    object or that has fields ``cls`` does not know."""
    if not isinstance(data, dict):
        raise ConfigError(f"{what} is not a JSON object")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{what} has unknown fields: {', '.join(unknown)}")
    return dict(data)
