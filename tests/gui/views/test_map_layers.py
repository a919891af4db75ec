"""The latent view's image layers (issue 34): thumbnails one per grid cell, the decoded manifold under the dots."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QHBoxLayout, QWidget

from aeviewer.explore.map_cells import tile_latents
from aeviewer.gui.state.session import Session
from aeviewer.gui.views.latent.latent_view import LatentView


@pytest.fixture
def view(qtbot, make_tiny_model, digits_test):
    """A 2-D AE on digits in a shown LatentView of 900x700."""
    session = Session()
    host = QWidget()
    QHBoxLayout(host).addWidget(latent := LatentView(session))
    qtbot.addWidget(host)
    host.resize(900, 700)
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    host.show()
    qtbot.waitExposed(host)
    qtbot.wait(20)
    yield session, latent
    del host


def zoom_to(qtbot, latent: LatentView, centre: np.ndarray, half: float) -> None:
    latent.viewbox.setRange(xRange=(centre[0] - half, centre[0] + half), yRange=(centre[1] - half, centre[1] + half),
                            padding=0)
    latent.layers.refresh()
    qtbot.wait(5)


def manifold_shown(qtbot, latent: LatentView):
    """The manifold layer on over the whole map, once every visible tile is decoded."""
    latent.layers.set_manifold(True)
    item = latent.layers.manifold
    latent.viewbox.autoRange()
    latent.layers.refresh()
    qtbot.waitUntil(lambda: item.shown_count() == len(item.visible_tiles) > 0, timeout=10_000)
    return item


def test_thumbnails_do_not_overlap_and_each_is_its_cells_nearest_point(qtbot, view):
    session, latent = view
    latent.layers.set_thumbnails(True)
    latent.viewbox.autoRange()
    latent.layers.refresh()
    item = latent.layers.thumbnails
    rects = [r for _, r in item.shown_rects_px()]
    assert len(rects) >= 5
    for a in range(len(rects)):
        for b in range(a + 1, len(rects)):
            assert not rects[a].intersected(rects[b]).isValid() or rects[a].intersected(rects[b]).isEmpty()
    # each pick is the point nearest its cell's centre among the points in that cell
    grid = item.grid()
    coords = np.asarray(session.coords, np.float64)
    (x0, x1), (y0, y1) = latent.visible_range()
    inside = (coords[:, 0] >= x0) & (coords[:, 0] <= x1) & (coords[:, 1] >= y0) & (coords[:, 1] <= y1)
    cells = grid.cell_of(coords)
    scale = np.array([grid.cell_x, grid.cell_y])
    for i in item.picked:
        same = np.flatnonzero(inside & (cells == cells[i]).all(axis=1))
        dist = (((coords[same] - grid.centre_of(cells[i][None])) / scale) ** 2).sum(axis=1)
        assert same[np.argmin(dist)] == i
    # one per occupied cell
    occupied = {tuple(c) for c in cells[inside]}
    assert len(item.picked) == len(occupied)


def test_zooming_in_shows_more_thumbnails_until_each_point_has_its_own(qtbot, view):
    session, latent = view
    latent.layers.set_thumbnails(True)
    latent.viewbox.autoRange()
    latent.layers.refresh()
    (x0, x1), (y0, y1) = latent.visible_range()
    centre = np.asarray(session.coords[0], np.float64)  # on a point: the closest zoom still shows some
    half = max(x1 - x0, y1 - y0) / 2
    counts, inside = [], []
    for factor in (1.0, 0.3, 0.1, 0.01):
        zoom_to(qtbot, latent, centre, half * factor)
        counts.append(len(latent.layers.thumbnails.picked))
        (a, b), (c, d) = latent.visible_range()
        xy = session.coords
        inside.append(int(((xy[:, 0] >= a) & (xy[:, 0] <= b) & (xy[:, 1] >= c) & (xy[:, 1] <= d)).sum()))
    # more images per visible point as the view closes in, and at the end every visible point shows its own
    density = [n / max(m, 1) for n, m in zip(counts, inside)]
    assert density == sorted(density) and density[0] < density[-1]
    assert counts[-1] == inside[-1]


def test_hidden_class_shows_no_thumbnails(qtbot, view):
    session, latent = view
    latent.layers.set_thumbnails(True)
    latent.viewbox.autoRange()
    latent.set_class_visible(3, False)
    latent.layers.refresh()
    assert not np.isin(session.labels[latent.layers.thumbnails.picked], [3]).any()


def test_manifold_tiles_equal_decode_of_the_inverse_of_their_centre(qtbot, view):
    session, latent = view
    item = manifold_shown(qtbot, latent)
    assert item.zValue() < min(it.zValue() for it in latent.class_items())  # under the dots
    side_px = item.level.side_x / latent.viewbox.viewPixelSize()[0]
    assert side_px >= 40
    tiles = item.visible_tiles
    expected = session.decode(tile_latents(session.projection, item.level, tiles))
    got = np.stack([item.tiles[item.key(t)] for t in tiles])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_manifold_pan_decodes_only_the_new_tiles(qtbot, view):
    _session, latent = view
    item = manifold_shown(qtbot, latent)
    before = set(item.tiles)
    (x0, x1), (y0, y1) = latent.visible_range()
    shift = (x1 - x0) * 0.3
    latent.viewbox.setRange(xRange=(x0 + shift, x1 + shift), yRange=(y0, y1), padding=0)
    latent.layers.refresh()
    qtbot.waitUntil(lambda: item.shown_count() == len(item.visible_tiles), timeout=10_000)
    assert before <= set(item.tiles)  # nothing decoded before was thrown away or decoded again


def test_a_new_view_is_decoded_first_and_the_old_views_rest_is_dropped(qtbot, view):
    """Zoomed in on one corner, then at once (before the event loop turns) on the opposite one: the second view's
    tiles all arrive, and nothing of the first view's job (superseded by key in gui/jobs.py) lands after the move."""
    from aeviewer.gui.views.latent.manifold import CHUNK

    _session, latent = view
    latent.layers.set_manifold(True)
    item = latent.layers.manifold
    latent.viewbox.autoRange()
    (x0, x1), (y0, y1) = latent.visible_range()
    w, h = (x1 - x0) / 6, (y1 - y0) / 6
    latent.viewbox.setRange(xRange=(x0, x0 + w), yRange=(y0, y0 + h), padding=0)
    latent.layers.refresh()
    first = {item.key(t) for t in item.visible_tiles}
    latent.viewbox.setRange(xRange=(x1 - w, x1), yRange=(y1 - h, y1), padding=0)
    latent.layers.refresh()  # before the event loop turns: the first view's job is superseded
    second = {item.key(t) for t in item.visible_tiles}
    assert len(first - second) > CHUNK  # more than one chunk of tiles only the first view wanted
    qtbot.waitUntil(lambda: item.shown_count() == len(item.visible_tiles), timeout=10_000)
    qtbot.wait(50)  # anything of the first job still on its way would land now
    assert second <= set(item.tiles)
    assert len((first - second) & set(item.tiles)) == 0


def test_colour_256_px_images_are_drawn_at_the_cells_size(qtbot, view):
    """A 256 px RGB set (e.g. a photo folder) shrinks to the cell; a 28 px grey one grows to it."""
    from aeviewer.gui.widgets.thumbnails import PointSource, ThumbnailItem

    _session, latent = view
    rng = np.random.default_rng(0)
    xy = np.array([[0, 0], [5, 5], [-5, 5], [5, -5]], np.float32)
    for images in (rng.integers(0, 256, (4, 3, 256, 256), dtype=np.uint8),
                   rng.integers(0, 256, (4, 1, 28, 28), dtype=np.uint8)):
        item = ThumbnailItem(latent.viewbox, lambda images=images: PointSource(xy, np.arange(4), images))
        latent.plot.addItem(item, ignoreBounds=True)
        latent.viewbox.setRange(xRange=(-8, 8), yRange=(-8, 8), padding=0)
        item.refresh()
        assert len(item.picked) == 4
        pix = item._pixmap(int(item.picked[0]), item._side_px())
        assert max(pix.width(), pix.height()) == item._side_px()
        assert not latent.plot.grab().isNull()  # paints every thumbnail once, for either size
        latent.plot.removeItem(item)
