"""Selections that stay (issue 34), without Qt: lasso and rectangle hits, exports of exactly the selected images."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from aeviewer.data.arrays import load_array_file
from aeviewer.data.preparation import Preparation
from aeviewer.explore.export import ExportError
from aeviewer.explore.selections import (
    NamedSelection, points_in_lasso, points_in_rect, unique_name, write_selection_images, write_selection_set,
    write_selection_table,
)
from aeviewer.explore.session_file import SessionFile


def test_lasso_and_rectangle_select_the_points_inside():
    xy = np.array([[0.2, 0.2], [1.5, 0.5], [0.6, 0.6], [3, 3], [0.7, 0.1]], np.float32)
    triangle = np.array([[0, 0], [1, 0], [0, 1]])
    assert points_in_lasso(xy, triangle).tolist() == [0, 4]
    assert points_in_rect(xy, np.array([[1, 1], [0, 0]])).tolist() == [0, 2, 4]  # corners in any order
    square = np.array([[0, 0], [2, 0], [2, 1], [0, 1]])
    assert points_in_lasso(xy, square).tolist() == [0, 1, 2, 4]
    assert points_in_lasso(xy, triangle[:2]).tolist() == []  # a line encloses nothing


def test_unique_names():
    assert unique_name("fours", ["fours", "fours (2)"]) == "fours (3)"
    assert unique_name("  ", []) == "Selection"


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 1, 6, 6), dtype=np.uint8)
    return images, rng.integers(0, 3, 20), rng.normal(size=(20, 4)).astype(np.float32), rng.normal(size=(20, 2))


def test_export_writes_exactly_the_selected_indices(tmp_path: Path, data):
    images, labels, latents, coords = data
    chosen = [3, 7, 11, 19]
    pngs = write_selection_images(tmp_path / "images", images, chosen)
    assert sorted(p.name for p in pngs) == ["00003.png", "00007.png", "00011.png", "00019.png"]
    table = write_selection_table(tmp_path / "sel.csv", chosen, latents, labels, ("a", "b", "c"), coords)
    rows = list(csv.DictReader(table.open()))
    assert [int(r["index"]) for r in rows] == chosen
    assert [int(r["label"]) for r in rows] == labels[chosen].tolist()
    np.testing.assert_allclose([[float(r[f"z{d}"]) for d in range(4)] for r in rows], latents[chosen], rtol=1e-6)
    npz = np.load(write_selection_table(tmp_path / "sel.npz", chosen, latents, labels, ("a", "b", "c"), coords),
                  allow_pickle=False)
    assert npz["index"].tolist() == chosen
    np.testing.assert_array_equal(npz["z"], latents[chosen])
    image_set = write_selection_set(tmp_path / "set.npz", images, labels, ("a", "b", "c"), chosen)
    with np.load(image_set, allow_pickle=False) as z:
        assert z["index"].tolist() == chosen
        np.testing.assert_array_equal(z["images"], images[chosen])
    loaded = load_array_file(image_set, Preparation(test_fraction=0.5))  # it opens as a data set
    assert len(loaded.train) + len(loaded.test) == len(chosen)


def test_empty_selection_is_one_line_error(tmp_path: Path, data):
    with pytest.raises(ExportError, match="empty"):
        write_selection_set(tmp_path / "set.npz", data[0], data[1], ("a",), [])


def test_named_selections_round_trip_the_session_file():
    file = SessionFile(models=["m.safetensors"], selections=[NamedSelection("fours", [1, 4, 9])])
    back, problems = SessionFile.from_json(file.to_json())
    assert not problems and back.selections == [NamedSelection("fours", [1, 4, 9])]
    damaged = file.to_json().replace('"indices": [', '"indices": ["x", ')
    back, problems = SessionFile.from_json(damaged)
    assert back.selections == [] and problems == ["selection 1 (not a name and image indices)"]
