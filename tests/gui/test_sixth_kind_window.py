"""The throw-away sixth kind of tests/models/test_sixth_kind.py opens in the window as launched: registered in models/ and
the spec only, the window, the session and the background encoding take it with no branch of their own."""
from __future__ import annotations

from pathlib import Path

from tests.models import test_sixth_kind

SIXTH = test_sixth_kind.SIXTH
sixth_kind = test_sixth_kind.sixth_kind  # the fixtures that register the kind and train it, shared with the core test
sixth_checkpoint = test_sixth_kind.sixth_checkpoint


def test_a_sixth_kind_opens_in_the_window(qtbot, sixth_checkpoint: Path) -> None:
    from aeviewer.gui.app import create_main_window

    window = create_main_window(open_default=False, background_encoding=True)
    qtbot.addWidget(window)
    assert window.open_model(sixth_checkpoint)
    qtbot.waitUntil(lambda: not window.session.encoding, timeout=60_000)
    assert window.session.model.config.kind == SIXTH
    assert len(window.session.latents) == len(window.session.test_set)
    assert not window.regulariser_dock.isVisibleTo(window)  # its class claims no regulariser picture
