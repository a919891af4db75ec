"""The latent view's and the decoder canvas's extension points (issue 30): the path tool and the bookmarks tab
come in through them (overlays, tools, plot input; tabs) and reach into neither the plot, the tab widget nor the
projection row; the bookmarks follow the Session's ``moving``, not the view's drag flag."""
from __future__ import annotations

import inspect
from pathlib import Path

from PySide6.QtWidgets import QMenu

from aeviewer.gui.state.session import Session
from aeviewer.gui.views.decoder.decoder_canvas import DecoderCanvas
from aeviewer.gui.views.latent import bookmarks
from aeviewer.gui.views.latent.latent_view import LatentView
from aeviewer.gui.views.path import path_tool


def test_the_path_tool_installs_through_the_extension_points(qtbot, monkeypatch, make_tiny_model, digits_test) -> None:
    calls: list[str] = []
    for cls, name in ((LatentView, "add_overlay"), (LatentView, "add_tool"), (LatentView, "filter_plot_input"),
                      (DecoderCanvas, "add_tab")):
        original = getattr(cls, name)
        monkeypatch.setattr(cls, name, lambda self, *a, _o=original, _n=name, **k: (calls.append(_n), _o(self, *a, **k))[1])
    session = Session()
    view, canvas = LatentView(session), DecoderCanvas(session)
    for widget in (view, canvas):
        qtbot.addWidget(widget)
    menu = QMenu()
    tool = path_tool.install_path_tool(session, view, canvas, menu)
    assert sorted(calls) == ["add_overlay", "add_tab", "add_tool", "filter_plot_input"]
    assert tool.line in view.plot.items() and canvas.tabs.indexOf(tool.panel) >= 0
    assert tool.toggle.parent() is view.projection_box
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    tool.add_vertex((0.0, 0.0))
    tool.add_vertex((0.5, 0.5))
    assert tool.finish() is not None  # the tool works with only what the points gave it


def test_no_tool_reaches_into_the_views_insides() -> None:
    tool_source = Path(inspect.getfile(path_tool)).read_text()
    for reach in (".plot.", "plot.addItem", ".tabs.", "projection_box.layout()"):
        assert reach not in tool_source, reach
    assert "dragging" not in Path(inspect.getfile(bookmarks)).read_text()
