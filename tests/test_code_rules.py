"""House rules that ruff and import-linter cannot express, checked by reading the source."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import aeviewer

PACKAGE = Path(aeviewer.__file__).parent


def _lines_matching(pattern: re.Pattern[str]) -> list[str]:
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    return hits


def test_signals_are_blocked_only_through_qsignalblocker():
    # A blockSignals(True) whose block raises leaves the widget deaf for good; QSignalBlocker restores it.
    hits = _lines_matching(re.compile(r"\.blockSignals\("))
    assert not hits, "use `with QSignalBlocker(widget):` instead of blockSignals:\n" + "\n".join(hits)


def test_the_scan_sees_the_package():
    # The rule above passes vacuously if the scan reads nothing; QSignalBlocker's own users prove it reads the GUI.
    assert _lines_matching(re.compile(r"with QSignalBlocker\("))


def _one_argument_renames() -> list[str]:
    """Calls ``x.replace(y)`` / ``x.rename(y)`` with one argument and no keywords: Path.replace/rename (str.replace
    takes two, dataclasses.replace keywords). ruff's banned-api sees os.replace and os.rename, not these."""
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "util" / "atomic.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("replace", "rename") and len(node.args) == 1 and not node.keywords):
                hits.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)}")
    return hits


def test_files_are_renamed_into_place_only_in_atomic():
    hits = _one_argument_renames()
    assert not hits, "write through aeviewer.util.atomic (replacing, write_bytes):\n" + "\n".join(hits)


# The spec (vocabulary, options) names the kinds and models/ implements them; everywhere else asks the model's
# capability flags (has_prior, has_codebook, regulariser, ...), so a new kind touches models/ and the spec only.
KIND_NAMES = ("ae", "dae", "vae", "aae", "vqvae")
KIND_NAME_HOMES = (PACKAGE / "models", PACKAGE / "spec")
KIND_NAME_EXCEPTIONS: dict[str, str] = {}  # "aeviewer/x.py": why it must name a kind (none today)


def _kind_name_literals() -> list[str]:
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(PACKAGE.parent))
        if any(path == home or home in path.parents for home in KIND_NAME_HOMES) or name in KIND_NAME_EXCEPTIONS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in KIND_NAMES:
                hits.append(f"{name}:{node.lineno}: {node.value!r}")
    return hits


def test_kind_names_appear_only_in_models_and_the_spec():
    hits = _kind_name_literals()
    assert not hits, "ask a capability of the model (models/base.py) instead of its kind's name:\n" + "\n".join(hits)


def test_the_kind_name_scan_finds_a_kind_name(tmp_path, monkeypatch):
    # The rule above passes vacuously if the scan cannot see a literal: planted in a scanned file, it must.
    planted = tmp_path / "aeviewer"
    planted.mkdir()
    (planted / "metrics.py").write_text('def f(kind):\n    return kind == "vae"\n', encoding="utf-8")
    monkeypatch.setitem(globals(), "PACKAGE", planted)
    monkeypatch.setitem(globals(), "KIND_NAME_HOMES", (planted / "models",))
    assert _kind_name_literals() == ["aeviewer/metrics.py:2: 'vae'"]
