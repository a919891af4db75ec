"""PriorMatchView: the codes over the prior's 50/90/99% contours, drawn where the prior's density says."""
from __future__ import annotations

import math

import numpy as np
import pytest

from aeviewer.gui.views.regulariser.prior_match_view import PriorMatchView


def contour_radii(item) -> np.ndarray:
    """Distances from the origin of an isocurve's vertices, in latent coordinates."""
    item.boundingRect()  # the path is built on demand
    path, transform = item.path, item.transform()
    points = [transform.map(path.elementAt(i).x, path.elementAt(i).y) for i in range(path.elementCount())]
    return np.array([math.hypot(*p) for p in points])


def test_a_vaes_contours_are_the_circles_holding_50_90_and_99_percent(qtbot, make_tiny_model) -> None:
    view = PriorMatchView()
    qtbot.addWidget(view)
    codes = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32)
    view.show_codes(make_tiny_model("vae", latent_dim=2), codes, np.arange(500) % 3)
    for item, p in zip(view.contours, (0.5, 0.9, 0.99)):
        radii = contour_radii(item)
        assert len(radii) > 20
        assert radii == pytest.approx(math.sqrt(-2 * math.log(1 - p)), abs=0.06)  # r with 1 - exp(-r²/2) = p


def test_codes_are_drawn_one_scatter_per_class(qtbot, make_tiny_model, digits_test) -> None:
    view = PriorMatchView()
    qtbot.addWidget(view)
    model = make_tiny_model("aae", latent_dim=2)
    view.show_model(model, digits_test)
    assert len(view.scatters) == 10
    assert sum(len(s.data) for s in view.scatters) == len(digits_test)
    view.show_model(model, digits_test)  # again: replaced, not added
    assert len(view.scatters) == 10 and sum(len(s.data) for s in view.scatters) == len(digits_test)
