"""The Compare view with the three pretrained 2-D MNIST models (AE, VAE, AAE): linked hover, lasso and
rectangle selection in every scatter and the gallery, click to reconstruct, mixed data sets refused."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from aeviewer.explore import compare
from aeviewer.cli.commands import main
from aeviewer.data.loader import load_split
from aeviewer.gui.views.compare.compare_view import GALLERY_LIMIT, CompareView, open_compare_with

TRAINED = Path(__file__).resolve().parents[3] / "trained"
KINDS = ("ae", "vae", "aae")


@pytest.fixture(scope="module")
def mnist_test():
    return load_split("mnist", "test")  # the test split ships in resources/data/mnist


@pytest.fixture(scope="module")
def encoded(mnist_test):
    """The three models, encoded once for the module (each test gets its own entries around them)."""
    models = compare.load_models([TRAINED / f"{kind}-mnist-2d.safetensors" for kind in KINDS])
    compare.encode_all(models, mnist_test)
    return models


@pytest.fixture
def view(qtbot, encoded, mnist_test):
    entries = [compare.ComparedModel(m.model, m.dataset, m.name, m.latents) for m in encoded]
    window = CompareView(entries, mnist_test)
    qtbot.addWidget(window)
    window.resize(1500, 900)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(window.is_ready)
    QApplication.processEvents()
    return window


def send_mouse(widget, kind, pos: QPointF, button, buttons) -> None:
    event = QMouseEvent(kind, pos, QPointF(widget.mapToGlobal(pos.toPoint())), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def drag(qtbot, widget, points: list[QPointF]) -> None:
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send_mouse(widget, QEvent.Type.MouseButtonPress, points[0], left, left)
    for p in points[1:]:
        qtbot.wait(12)  # pyqtgraph drops moves closer than 10 ms apart
        send_mouse(widget, QEvent.Type.MouseMove, p, none, left)
    qtbot.wait(12)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, points[-1], left, none)
    qtbot.wait(5)


def isolated_point(panel) -> int:
    """The on-screen test image whose dot lies farthest (at least 10 screen px) from every other dot of
    ``panel``'s scatter: the cursor on it can mean no other image."""
    from scipy.spatial import cKDTree

    px, py = panel.viewbox.viewPixelSize()
    screen = panel.coords / np.array([px, py], np.float32)
    (x0, x1), (y0, y1) = panel.viewbox.viewRange()
    on_screen = np.flatnonzero((panel.coords[:, 0] > x0 + 30 * px) & (panel.coords[:, 0] < x1 - 30 * px)
                               & (panel.coords[:, 1] > y0 + 30 * py) & (panel.coords[:, 1] < y1 - 30 * py))
    distances, _ = cKDTree(screen).query(screen[on_screen], k=2)
    best = int(np.argmax(distances[:, 1]))
    assert distances[best, 1] > 10, "no isolated point to hover"
    return int(on_screen[best])


def test_each_scatter_is_titled_with_its_kind_and_latent_size(view):
    titles = [panel.title.text() for panel in view.panels]
    assert [t.split(" · ")[0] for t in titles] == ["AE", "VAE", "AAE"]
    assert all("2-D latent" in t for t in titles)
    assert all(len(panel.coords) == 10_000 for panel in view.panels)


def test_hovering_a_point_in_one_scatter_highlights_the_same_test_image_in_the_others(qtbot, view):
    source = view.panels[0]
    index = isolated_point(source)
    QTest.mouseMove(source.plot.viewport(), source.view_to_widget(*source.coords[index]).toPoint())
    qtbot.waitUntil(lambda: view.selection.hovered == index)
    markers = [panel.hover_marker for panel in view.panels]
    for panel in view.panels:
        # each scatter marks where *its* model put that image, which differs from model to model
        assert panel.hover_position() == pytest.approx(tuple(panel.coords[index]))
    assert len({tuple(np.round(p.coords[index], 4)) for p in view.panels}) == 3
    assert view.hover_label.text().startswith(f"#{index}:")
    first = markers[1]
    qtbot.wait(15)  # pyqtgraph drops moves closer than 10 ms apart
    QTest.mouseMove(source.plot.viewport(), QPoint(2, 2))  # off every dot: the highlight goes
    qtbot.waitUntil(lambda: view.selection.hovered == -1)
    assert view.panels[1].hover_position() is None
    assert view.panels[1].hover_marker is first  # moved, never re-created


def test_a_lasso_selection_shows_in_all_three_scatters_and_in_the_gallery(qtbot, view, mnist_test):
    source = view.panels[1]  # the VAE's scatter
    view.select_mode("lasso")
    centre = np.median(source.coords[view.labels == 1], axis=0)  # the ones' cluster
    c = source.view_to_widget(*centre)
    # a freehand pentagon of radius 40 px around the cluster's centre
    angles = np.linspace(0, 2 * np.pi, 6)[:-1]
    outline = [QPointF(c.x() + 40 * np.cos(a), c.y() + 40 * np.sin(a)) for a in angles]
    drag(qtbot, source.plot.viewport(), outline + outline[:1])
    selected = view.selection.selected
    assert len(selected) > 20
    # every selected dot lies within the lasso's 40 px of the centre (as the VAE draws them), none far out
    pos = np.array([[source.view_to_widget(*source.coords[i]).x(), source.view_to_widget(*source.coords[i]).y()]
                    for i in selected])
    assert (np.hypot(pos[:, 0] - c.x(), pos[:, 1] - c.y()) <= 41).all()
    assert (mnist_test.labels.numpy()[selected] == 1).mean() > 0.8
    for panel in view.panels:
        assert panel.marker_indices(panel.selection_marker).tolist() == selected.tolist()
    assert view.gallery_indices() == selected.tolist()[: view.gallery.count()]
    assert view.gallery.count() == min(len(selected), GALLERY_LIMIT)
    assert f"{len(selected):,} test images" in view.gallery_box.title()
    if len(selected) > GALLERY_LIMIT:
        assert f"the first {GALLERY_LIMIT} shown" in view.gallery_box.title()


def test_a_rectangle_selects_what_it_covers(qtbot, view):
    source = view.panels[2]
    view.select_mode("rect")
    a, b = QPointF(300, 200), QPointF(360, 260)
    drag(qtbot, source.plot.viewport(), [a, QPointF(330, 230), b])
    corner_a = source.viewbox.mapSceneToView(source.plot.mapToScene(a.toPoint()))
    corner_b = source.viewbox.mapSceneToView(source.plot.mapToScene(b.toPoint()))
    lo = np.minimum([corner_a.x(), corner_a.y()], [corner_b.x(), corner_b.y()])
    hi = np.maximum([corner_a.x(), corner_a.y()], [corner_b.x(), corner_b.y()])
    inside = np.flatnonzero(((source.coords >= lo) & (source.coords <= hi)).all(1))
    assert len(inside) > 0
    assert view.selection.selected.tolist() == inside.tolist()
    assert view.panels[0].marker_indices(view.panels[0].selection_marker).tolist() == inside.tolist()


def test_a_click_shows_every_models_reconstruction_of_the_nearest_test_image(qtbot, view, mnist_test):
    source = view.panels[2]
    index = isolated_point(source)
    spot = source.coords[index] + np.array(source.viewbox.viewPixelSize()) * 3  # 3 px off the dot
    QTest.mouseClick(source.plot.viewport(), Qt.MouseButton.LeftButton, pos=source.view_to_widget(*spot).toPoint())
    qtbot.waitUntil(lambda: view.selection.clicked == index)
    x = mnist_test.float_batch(slice(index, index + 1), torch.device("cpu"))
    for entry, shown in zip(view.models, view.shown_reconstructions):
        with torch.inference_mode():
            expected = entry.model.decode(entry.model.encode(x))[0, 0].numpy()
        np.testing.assert_allclose(shown, expected, atol=1e-5)
    assert view.recon_cells[0].image.pixmap() is not None and not view.recon_cells[0].image.pixmap().isNull()
    assert f"#{index}" in view.recon_box.title()
    for panel in view.panels:
        assert panel.marker_indices(panel.click_marker).tolist() == [index]


def test_each_scatter_has_its_own_projection(qtbot, view):
    before = [panel.coords.copy() for panel in view.panels]
    combo = view.panels[0].projection_combo
    combo.setCurrentIndex(combo.findText("PCA"))
    assert view.panels[0].plot.getPlotItem().getAxis("bottom").labelText.startswith("PC1")
    assert not np.allclose(view.panels[0].coords, before[0])
    for panel, old in zip(view.panels[1:], before[1:]):
        np.testing.assert_array_equal(panel.coords, old)


def test_the_models_are_encoded_off_the_gui_thread_and_fill_in(qtbot, encoded, mnist_test, monkeypatch):
    from PySide6.QtCore import QThread

    from aeviewer.gui.views.compare.compare_view import ModelPanel

    filled_on_gui_thread: list[bool] = []
    original = ModelPanel.set_latents

    def spy(panel, latents):
        filled_on_gui_thread.append(QThread.currentThread() is QApplication.instance().thread())
        original(panel, latents)

    monkeypatch.setattr(ModelPanel, "set_latents", spy)
    entries = [compare.ComparedModel(m.model, m.dataset, m.name) for m in encoded]
    window = CompareView(entries, mnist_test)
    qtbot.addWidget(window)
    assert not window.is_ready()  # the constructor returned before encoding finished
    qtbot.waitUntil(window.is_ready, timeout=30_000)
    assert filled_on_gui_thread == [True, True, True]  # the scatters are filled in by the GUI thread
    for panel, done in zip(window.panels, encoded):
        np.testing.assert_allclose(panel.entry.latents, done.latents, atol=1e-5)
    window.close()


def test_models_of_different_data_sets_are_refused_with_one_line_in_the_window(qtbot, tmp_path):
    from aeviewer.gui.window.main_window import MainWindow

    window = MainWindow(data_dir=tmp_path)
    qtbot.addWidget(window)
    errors: list[str] = []
    window.show_error = lambda title, text: errors.append(text)
    assert window.open_model(TRAINED / "ae-mnist-2d.safetensors")
    assert open_compare_with(window, [TRAINED / "ae-digits.safetensors"]) is None
    assert len(errors) == 1 and "\n" not in errors[0] and "digits" in errors[0]
    compare_view = open_compare_with(window, [TRAINED / "vae-mnist-2d.safetensors"])
    assert compare_view is not None and len(compare_view.panels) == 2
    assert "Compare with…" in [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    qtbot.waitUntil(compare_view.is_ready, timeout=30_000)
    compare_view.close()


def test_the_cli_refuses_mixed_data_sets_with_one_line_and_exit_2(capsys):
    code = main(["compare", str(TRAINED / "vae-mnist-2d.safetensors"), str(TRAINED / "vae-digits.safetensors")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("aeviewer: error: ") and "\n" not in err and "vae-digits.safetensors" in err
