"""A large scatter is drawn as density while zoomed out and as points once zoomed in; hiding a class takes its
colour out of the density; the KD-tree finds the same nearest point as a scan of every point."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aeviewer.explore import latent_space
from aeviewer.data.imageset import ImageSet
from aeviewer.gui.widgets.image_utils import class_color
from aeviewer.gui.views.latent.latent_view import LatentView
from aeviewer.gui.views.latent.scatter_density import DENSITY_MIN_POINTS, POINTS_WHEN_VISIBLE, PointIndex
from aeviewer.gui.state.session import Session


def show_points(session: Session, n: int, classes: int = 4) -> np.ndarray:
    """``n`` points in one blob per class, as if encoded by a 2-D model."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, classes, n)
    coords = (rng.normal(0, 4, (classes, 2))[labels] + rng.normal(0, 1, (n, 2))).astype(np.float32)
    session.test_set = ImageSet(torch.zeros((n, 1, 2, 2), dtype=torch.uint8), torch.from_numpy(labels),
                                tuple(f"c{k}" for k in range(classes)))
    session.latents = session.coords = coords
    session.projection = latent_space.make_projection("identity", coords)
    session.encodingsChanged.emit()
    return coords


@pytest.fixture
def view(qtbot):
    session = Session()
    view = LatentView(session)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    return view


def colour_cells(view: LatentView, k: int) -> int:
    rgba = view.density.image.image
    return int(np.count_nonzero(np.all(rgba[..., :3] == class_color(k), axis=-1) & (rgba[..., 3] > 0)))


def test_a_large_set_zoomed_out_is_density_and_zoomed_in_is_points(qtbot, view):
    coords = show_points(view.session, DENSITY_MIN_POINTS + 10_000)
    view.viewbox.autoRange()
    assert view.showing_density() and view.density.image.isVisible()
    assert all(item.opacity() == 0.0 for item in view.class_items())
    image = view.density.image
    drawn = image.mapRectToParent(image.boundingRect())  # where the histogram lies in view coordinates
    lo, hi = coords.min(0), coords.max(0)
    np.testing.assert_allclose([drawn.left(), drawn.top(), drawn.right(), drawn.bottom()],
                               [lo[0], lo[1], hi[0], hi[1]], atol=1e-3)
    x, y = (float(v) for v in coords[0])
    view.viewbox.setRange(xRange=(x - 0.2, x + 0.2), yRange=(y - 0.2, y + 0.2), padding=0)
    inside = np.count_nonzero((np.abs(coords[:, 0] - x) <= 0.2) & (np.abs(coords[:, 1] - y) <= 0.2))
    assert 0 < inside <= POINTS_WHEN_VISIBLE
    assert not view.showing_density() and not view.density.image.isVisible()
    assert all(item.opacity() == 1.0 for item in view.class_items())
    view.viewbox.autoRange()
    assert view.showing_density()


def test_a_small_set_is_always_points(qtbot, view):
    show_points(view.session, 5_000)
    view.viewbox.autoRange()
    assert not view.showing_density() and all(item.opacity() == 1.0 for item in view.class_items())


def test_hiding_a_class_takes_its_colour_out_of_the_density(qtbot, view):
    show_points(view.session, DENSITY_MIN_POINTS + 1_000)
    view.viewbox.autoRange()
    assert colour_cells(view, 2) > 0
    view.set_class_visible(2, False)
    assert colour_cells(view, 2) == 0 and colour_cells(view, 1) > 0
    view.set_class_visible(2, True)
    assert colour_cells(view, 2) > 0


def test_the_kd_tree_finds_the_point_a_scan_of_every_point_finds():
    rng = np.random.default_rng(1)
    coords = rng.normal(0, 1, (30_000, 2)).astype(np.float32)
    excluded = rng.random(len(coords)) < 0.3
    index = PointIndex(coords)
    index.wait()
    assert index.ready
    px, py = 0.01, 0.02  # view units per pixel, not square
    for x, y in rng.normal(0, 1.2, (50, 2)):
        d2 = ((coords[:, 0] - x) / px) ** 2 + ((coords[:, 1] - y) / py) ** 2
        d2[excluded] = np.inf
        best = int(np.argmin(d2))
        expected = best if d2[best] <= 8.0**2 else -1
        assert index.nearest(float(x), float(y), px, py, 8.0, excluded) == expected
