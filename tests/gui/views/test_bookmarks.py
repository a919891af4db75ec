"""Undo/redo of the current point (Ctrl+Z, Ctrl+Shift+Z on the map) and bookmarks (Ctrl+D, the list)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from aeviewer.gui.views.latent.bookmarks import BookmarkList
from aeviewer.gui.views.codebook.codebook_view import CodebookView
from aeviewer.gui.views.latent.latent_view import LatentView
from aeviewer.gui.state.session import Session

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def map_and_list(qtbot, make_tiny_model, digits_test):
    session = Session()
    host = QWidget()
    layout = QHBoxLayout(host)
    latent = LatentView(session)
    marks = BookmarkList(latent.navigation)
    codebook = CodebookView(session)
    for widget in (latent, marks, codebook):
        layout.addWidget(widget)
    qtbot.addWidget(host)
    host.resize(1200, 500)
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    host.show()
    qtbot.waitExposed(host)
    host.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is host)
    yield session, latent, marks, codebook


def click_at(qtbot, latent: LatentView, x: float, y: float) -> None:
    QTest.mouseClick(latent.plot.viewport(), Qt.MouseButton.LeftButton, pos=latent.view_to_widget(x, y).toPoint())
    qtbot.wait(5)


def points_of(latent: LatentView) -> list[tuple[float, float]]:
    (x0, x1), (y0, y1) = latent.visible_range()
    return [(x0 + (x1 - x0) * f, y0 + (y1 - y0) * g) for f, g in ((0.3, 0.3), (0.6, 0.4), (0.5, 0.7))]


def current_2d(session: Session) -> tuple[float, float]:
    p = session.projection.to_2d(session.current_z)[0]
    return float(p[0]), float(p[1])


def test_undo_and_redo_of_the_current_point_while_the_map_has_focus(qtbot, map_and_list):
    session, latent, _, _ = map_and_list
    targets = points_of(latent)
    for x, y in targets:
        click_at(qtbot, latent, x, y)
    where = [current_2d(session)]
    latent.plot.setFocus()
    QTest.keyClick(latent.plot, Qt.Key.Key_Z, CTRL)
    where.append(current_2d(session))
    QTest.keyClick(latent.plot, Qt.Key.Key_Z, CTRL)
    where.append(current_2d(session))
    QTest.keyClick(latent.plot, Qt.Key.Key_Z, CTRL | SHIFT)
    where.append(current_2d(session))
    tol = 2 * max(latent.viewbox.viewPixelSize())  # a click lands on a whole pixel
    expected = [targets[2], targets[1], targets[0], targets[1]]
    for got, want in zip(where, expected):
        assert got == pytest.approx(want, abs=tol)
    assert latent.crosshair_pos() == pytest.approx(targets[1], abs=tol)  # the map shows where undo went


def test_a_drag_is_one_step_of_the_history(qtbot, map_and_list):
    session, latent, _, _ = map_and_list
    (ax, ay), (bx, by), _ = points_of(latent)
    click_at(qtbot, latent, ax, ay)
    viewport = latent.plot.viewport()
    start, end = latent.view_to_widget(bx, by), latent.view_to_widget(ax + (bx - ax) / 2, by)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, pos, button, buttons):
        QApplication.sendEvent(viewport, QMouseEvent(kind, pos, QPointF(viewport.mapToGlobal(pos.toPoint())),
                                                     button, buttons, Qt.KeyboardModifier.NoModifier))

    send(QEvent.Type.MouseButtonPress, start, left, left)
    for t in np.linspace(0, 1, 6)[1:]:
        qtbot.wait(15)
        send(QEvent.Type.MouseMove, QPointF(start.x() + (end.x() - start.x()) * t, start.y()), none, left)
    qtbot.wait(15)
    send(QEvent.Type.MouseButtonRelease, end, left, none)
    latent.plot.setFocus()
    QTest.keyClick(latent.plot, Qt.Key.Key_Z, CTRL)  # back to where the drag started (its press picked there)
    tol = 2 * max(latent.viewbox.viewPixelSize())
    assert current_2d(session) == pytest.approx((bx, by), abs=tol)
    QTest.keyClick(latent.plot, Qt.Key.Key_Z, CTRL)  # and then to the click before it
    assert current_2d(session) == pytest.approx((ax, ay), abs=tol)


def test_ctrl_z_elsewhere_does_not_move_the_point(qtbot, map_and_list):
    """The codebook view has its own Ctrl+Z (repainting a cell): the map's is scoped to the map."""
    session, latent, marks, codebook = map_and_list
    for x, y in points_of(latent):
        click_at(qtbot, latent, x, y)
    before = session.current_z.copy()
    for elsewhere in (marks.list, codebook):
        elsewhere.setFocus()
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, CTRL)
        np.testing.assert_array_equal(session.current_z, before)


def test_bookmarks_add_rename_jump_and_delete(qtbot, map_and_list):
    session, latent, marks, _ = map_and_list
    targets = points_of(latent)
    latent.plot.setFocus()
    for x, y in targets[:2]:
        click_at(qtbot, latent, x, y)
        latent.plot.setFocus()
        QTest.keyClick(latent.plot, Qt.Key.Key_D, CTRL)
    saved = [m.z.copy() for m in latent.navigation.bookmarks.items]
    assert marks.list.count() == 2 and marks.names() == ["Bookmark 1", "Bookmark 2"]

    # rename in place: F2 opens the editor on the item
    marks.list.setFocus()
    marks.list.setCurrentRow(0)
    QTest.keyClick(marks.list, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert editor is not marks.list
    editor.selectAll()
    QTest.keyClicks(editor, "left loop")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: marks.names()[0] == "left loop")
    assert marks.list.item(0).text() == "left loop"

    click_at(qtbot, latent, *targets[2])
    rect = marks.list.visualItemRect(marks.list.item(0))
    QTest.mouseClick(marks.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    np.testing.assert_allclose(session.current_z, saved[0])
    latent.plot.setFocus()
    QTest.keyClick(latent.plot, Qt.Key.Key_Z, CTRL)  # a jump is a move: undo comes back from it
    assert current_2d(session) == pytest.approx(targets[2], abs=2 * max(latent.viewbox.viewPixelSize()))

    marks.list.setFocus()
    marks.list.setCurrentRow(0)
    QTest.keyClick(marks.list, Qt.Key.Key_Delete)
    assert marks.names() == ["Bookmark 2"]
    np.testing.assert_array_equal(latent.navigation.bookmarks.point(0), saved[1])


def test_bookmarks_round_trip_through_a_session_file(qtbot, map_and_list, tmp_path):
    from aeviewer.explore.session_file import Bookmark, SessionFile, open_session, save_session

    session, latent, marks, _ = map_and_list
    for (x, y), name in zip(points_of(latent)[:2], ("first", "second")):
        click_at(qtbot, latent, x, y)
        latent.navigation.add_bookmark(name)
    file = SessionFile(bookmarks=[Bookmark(b.name, [float(v) for v in b.z]) for b in latent.navigation.bookmarks.items])
    path = save_session(tmp_path / "s.aeviewer.json", file)
    saved = [m.z.copy() for m in latent.navigation.bookmarks.items]
    latent.navigation.set_bookmarks([])
    assert marks.list.count() == 0
    latent.navigation.set_bookmarks(open_session(path).session.bookmarks)
    assert marks.names() == ["first", "second"]
    for mark, z in zip(latent.navigation.bookmarks.items, saved):
        np.testing.assert_allclose(mark.z, z, rtol=1e-6)
