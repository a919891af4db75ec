"""Adding a view is one folder plus one row of the views table (issue 30): a throw-away view registered in
``aeviewer.gui.views.VIEWS`` gets its dock, its View-menu entry and its File › Export entry in the window as
launched, is shown only for a model with its capability, and is drawn from the Session's state.

The files a new view touches:
  1. ``aeviewer/gui/views/<view>/`` (a folder of its own): a QWidget built as ``cls(session)`` that reads the
     Session (and its parts: ``session.selection``, ``session.navigation``) and writes to it, never to another view;
  2. ``aeviewer/gui/views/__init__.py``: one ``ViewSpec`` row in ``VIEWS``.
Nothing in ``gui/window/`` changes (here the row is added with monkeypatch, so 1. is this file's NotesView).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDockWidget, QLabel

import aeviewer.gui.views as views_table
from aeviewer.gui.views import BOTTOM, ViewSpec
from aeviewer.training.checkpoint import save_checkpoint


class NotesView(QLabel):
    """The throw-away view: says which test images the Session has selected."""

    def __init__(self, session) -> None:
        super().__init__()
        self.setObjectName("notesView")
        self.session = session
        session.selection.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.setText(f"selected: {self.session.selection.tolist()}")


NOTES = ViewSpec("notes", NotesView, "notesDock", "Notes", BOTTOM, shown_when=lambda m: m.has_prior,
                 export_name="notes", export_label="Notes", export_tip="The selected images' indices")


def menu_texts(window, title: str) -> list[str]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == title)
    return [a.text() for a in menu.actions()]


def test_a_view_added_as_one_row_gets_its_dock_menu_and_export(qtbot, monkeypatch, tmp_path: Path,
                                                               make_tiny_model, wait_encoded) -> None:
    from aeviewer.gui.app import create_main_window

    monkeypatch.setattr(views_table, "VIEWS", (*views_table.VIEWS, NOTES))
    window = create_main_window(open_default=False, background_encoding=True)
    qtbot.addWidget(window)
    dock = window.findChild(QDockWidget, "notesDock")
    assert dock is not None and dock is window.docks["notes"]
    assert isinstance(window.views["notes"], NotesView)
    assert "Notes" in menu_texts(window, "&View")
    export_menu = window.findChild(type(window.menuBar().actions()[0].menu()), "exportMenu")
    assert "Notes as PNG…" in [a.text() for a in export_menu.actions()]
    assert not dock.toggleViewAction().isEnabled()  # no model: nothing to show

    ae = save_checkpoint(tmp_path / "ae.safetensors", make_tiny_model("ae"), dataset="digits")
    vae = save_checkpoint(tmp_path / "vae.safetensors", make_tiny_model("vae"), dataset="digits")
    assert window.open_model(ae)
    wait_encoded(window)
    assert not dock.isVisibleTo(window)  # an AE has no prior: the row's capability says hidden
    assert window.open_model(vae)
    wait_encoded(window)
    assert dock.isVisibleTo(window) and dock.toggleViewAction().isEnabled()
    window.denoise_view.set_indices([4, 2])  # another view writes the Session; the new one follows it
    assert window.views["notes"].text() == "selected: [4, 2]"
    assert window.export_image(tmp_path / "notes.png", "notes").is_file()
