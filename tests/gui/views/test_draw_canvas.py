"""DrawCanvas: mouse drawing, debounced live encoding, its point marked in the scatter, its reconstruction."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from aeviewer.gui.views.denoise.draw_canvas import DrawCanvas
from aeviewer.gui.views.latent.latent_view import LatentView
from aeviewer.gui.state.session import Session


def mouse(widget: QWidget, kind: QEvent.Type, pos: QPointF, buttons: Qt.MouseButton) -> None:
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, pos, QPointF(widget.mapToGlobal(pos.toPoint())), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


@pytest.fixture
def make_views(side_by_side):
    return lambda model, test_set: side_by_side(model, test_set, LatentView, DrawCanvas, (900, 450))


def test_a_mouse_drawing_is_encoded_once_and_appears_in_the_scatter(qtbot, make_views, make_tiny_model, digits_test):
    host, session, latent, draw = make_views(make_tiny_model("ae"), digits_test)
    area = draw.area
    assert latent.drawn_point() is None
    path = [area.from_pixel(r, 4.5) for r in np.linspace(1.5, 6.5, 6)]  # a vertical stroke through pixel centres
    left = Qt.MouseButton.LeftButton
    with qtbot.waitSignal(draw.encoded, timeout=2000) as blocker:
        mouse(area, QEvent.Type.MouseButtonPress, path[0], left)
        for p in path[1:]:
            mouse(area, QEvent.Type.MouseMove, p, left)
        mouse(area, QEvent.Type.MouseButtonRelease, path[-1], Qt.MouseButton.NoButton)
    assert draw.encode_count == 1  # the moves were debounced into one encoding
    ink = draw.image()
    assert ink[1:7, 4].min() > 0.9 and ink[:, 0].max() == 0.0  # a line down column 4, nothing at the edge
    with torch.no_grad():
        x = torch.from_numpy(ink)[None, None]
        z = session.model.encode(x)[0].numpy()
        recon = session.model.decode(session.model.encode(x))[0, 0].numpy()
    np.testing.assert_allclose(blocker.args[0], z, atol=1e-6)
    np.testing.assert_allclose(draw.last_reconstruction[0], recon, atol=1e-6)
    assert not draw.recon_label.pixmap().isNull()
    np.testing.assert_allclose(latent.drawn_point(), session.projection.to_2d(z)[0], atol=1e-5)
    del host


def test_clearing_removes_the_mark_and_a_new_drawing_moves_it(qtbot, make_views, make_tiny_model, digits_test):
    host, session, latent, draw = make_views(make_tiny_model("vae", latent_dim=4), digits_test)
    draw.set_image(digits_test.float_batch(slice(0, 1))[0, 0].numpy())
    qtbot.waitUntil(lambda: latent.drawn_point() is not None, timeout=2000)
    np.testing.assert_allclose(draw.last_z, session.latents[0], atol=1e-5)  # a test image lands on its own point
    draw.clear()
    assert latent.drawn_point() is None and not draw.image().any()
    draw.stroke([(2.0, 2.0), (6.0, 6.0)])
    qtbot.waitUntil(lambda: latent.drawn_point() is not None, timeout=2000)
    np.testing.assert_allclose(latent.drawn_point(), session.projection.to_2d(draw.last_z)[0], atol=1e-5)
    del host


def test_the_canvas_takes_the_models_image_size(qtbot, make_tiny_model, digits_test):
    session = Session()
    draw = DrawCanvas(session)
    qtbot.addWidget(draw)
    assert not draw.isEnabled()
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    assert draw.isEnabled() and draw.image().shape == (8, 8)


def test_the_star_follows_a_change_of_projection(qtbot, make_views, make_tiny_model, digits_test):
    """A 4-d model: the star is placed by PCA, then by the pair of dimensions chosen, like the scatter."""
    host, session, latent, draw = make_views(make_tiny_model("vae", latent_dim=4), digits_test)
    draw.set_image(digits_test.float_batch(slice(3, 4))[0, 0].numpy())
    qtbot.waitUntil(lambda: latent.drawn_point() is not None, timeout=2000)
    assert session.projection.kind == "pca"
    session.set_projection("pair", (2, 3))
    np.testing.assert_allclose(latent.drawn_point(), draw.last_z[[2, 3]], atol=1e-5)
    np.testing.assert_allclose(latent.drawn_point(), session.latents[3, [2, 3]], atol=1e-5)  # on its image's dot
    del host
