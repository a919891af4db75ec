"""The compare core: models of one data set only, selection geometry, the linked selection's state."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aeviewer.explore import compare
from aeviewer.errors import ConfigError

TRAINED = Path(__file__).resolve().parents[2] / "trained"


def test_models_of_different_data_sets_are_refused_with_one_line_naming_both() -> None:
    with pytest.raises(ConfigError) as caught:
        compare.load_models([TRAINED / "ae-mnist-2d.safetensors", TRAINED / "ae-digits.safetensors"])
    text = str(caught.value)
    assert "\n" not in text
    assert "ae-mnist-2d.safetensors" in text and "ae-digits.safetensors" in text
    assert "mnist" in text and "digits" in text


@pytest.mark.parametrize("n", [1, 5])
def test_compare_takes_two_to_four_models(n: int) -> None:
    with pytest.raises(ConfigError, match="2 to 4"):
        compare.load_models([TRAINED / "ae-mnist-2d.safetensors"] * n)


def test_points_in_a_concave_polygon_follow_its_notch() -> None:
    # an L: the square [0,2]x[0,2] without its top-right quarter [1,2]x[1,2]
    ell = np.array([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)], float)
    points = np.array([(0.5, 0.5), (1.5, 0.5), (0.5, 1.5), (1.5, 1.5), (2.5, 0.5), (-0.1, 1.0)])
    assert compare.points_in_polygon(points, ell).tolist() == [0, 1, 2]


def test_points_in_polygon_agree_with_a_circle_on_random_points() -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(-1.5, 1.5, (5000, 2))
    angles = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    circle = np.stack([np.cos(angles), np.sin(angles)], 1)
    inside = compare.points_in_polygon(points, circle)
    radius = np.hypot(points[:, 0], points[:, 1])
    clear = np.abs(radius - 1) > 0.01  # the 400-gon and the circle differ by < 0.0001 of the radius
    assert set(inside[clear[inside]]) == set(np.flatnonzero(clear & (radius < 1)))


def test_a_polygon_of_fewer_than_three_vertices_selects_nothing() -> None:
    assert len(compare.points_in_polygon(np.zeros((4, 2)), np.array([(0, 0), (1, 1)]))) == 0


def test_rectangle_selection_takes_corners_in_any_order() -> None:
    points = np.array([(0, 0), (1, 1), (2, 2), (1, 3)])
    assert compare.points_in_rect(points, (2, 0.5), (0.5, 2.5)).tolist() == [1, 2]


def test_nearest_index_scales_axes_and_honours_the_radius() -> None:
    points = np.array([(0.0, 0.5), (3.0, 0.0)])
    assert compare.nearest_index(points, 1.0, 0.0) == 0
    # with y drawn 100x larger than x, point 0 lies 50 units up on the screen and point 1 is nearer
    assert compare.nearest_index(points, 1.0, 0.0, scale=(1.0, 0.01)) == 1
    assert compare.nearest_index(points, 5.0, 5.0, scale=(1.0, 1.0), radius=1.0) == -1


def test_the_linked_selection_tells_each_change_once() -> None:
    heard: list[str] = []
    selection = compare.LinkedSelection()
    selection.listeners.append(heard.append)
    selection.hover(3)
    selection.hover(3)  # no move, no news
    selection.select([5, 2, 5])
    selection.click(7)
    assert heard == ["hover", "selection", "click"]
    assert selection.selected.tolist() == [2, 5]
