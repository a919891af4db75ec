"""Latent walks: between two test images' codes, along a polyline drawn on the map, along one dimension."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aeviewer.explore import latent_space
from aeviewer.explore import walks
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models import build_model, default_config


def tiny_set(n: int = 12) -> ImageSet:
    g = torch.Generator().manual_seed(0)
    images = (torch.rand((n, 1, 8, 8), generator=g) * 255).to(torch.uint8)
    return ImageSet(images, torch.arange(n) % 3, ("a", "b", "c"), "tiny")


def tiny_model(latent_dim: int = 4):
    torch.manual_seed(0)
    return build_model(default_config("vae", image_shape=(1, 8, 8), latent_dim=latent_dim)).eval()


def test_polyline_points_are_equally_spaced_by_arc_length_and_keep_both_ends() -> None:
    corner = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 1.0]])  # legs of length 3 and 1
    points = walks.along_polyline(corner, 5)
    assert np.allclose(points, [[0, 0], [1, 0], [2, 0], [3, 0], [3, 1]])
    steps = np.linalg.norm(np.diff(walks.along_polyline(corner, 41), axis=0), axis=1)
    assert np.allclose(steps[steps > 0.099], 0.1, atol=1e-6)  # only the step cutting the corner is shorter


def test_repeated_vertices_do_not_stall_the_walk() -> None:
    points = walks.along_polyline(np.array([[0, 0], [0, 0], [2, 0], [2, 0]]), 3)
    assert np.allclose(points, [[0, 0], [1, 0], [2, 0]])
    assert np.allclose(walks.along_polyline(np.array([[1, 1], [1, 1]]), 4), 1.0)


def test_a_path_needs_two_points() -> None:
    with pytest.raises(ConfigError, match="at least 2 points"):
        walks.along_polyline(np.array([[0.0, 0.0]]), 5)


def test_a_map_path_goes_through_the_projections_inverse() -> None:
    latents = np.random.default_rng(0).normal(size=(200, 5)).astype(np.float32)
    projection = latent_space.make_projection("pca", latents)
    z = walks.along_map_path(projection, np.array([[-1.0, 0.0], [1.0, 0.0], [1.0, 2.0]]), 9)
    assert z.shape == (9, 5)
    assert np.allclose(projection.to_2d(z), walks.along_polyline(np.array([[-1, 0], [1, 0], [1, 2]]), 9), atol=1e-5)


def test_interpolation_between_test_images_starts_and_ends_at_their_codes() -> None:
    model, images = tiny_model(), tiny_set()
    codes = latent_space.encode_set(model, images)
    for mode in ("lerp", "slerp"):
        z = walks.between_images(model, images, 2, 9, 6, mode)
        assert z.shape == (6, 4)
        assert np.allclose(z[0], codes[2], atol=1e-5) and np.allclose(z[-1], codes[9], atol=1e-5)


@pytest.mark.parametrize("bad", [-1, 12])
def test_a_test_image_that_does_not_exist_is_named(bad: int) -> None:
    with pytest.raises(ConfigError, match=rf"no test image {bad}: the tiny test split has 12 images \(0 to 11\)"):
        walks.between_images(tiny_model(), tiny_set(), 0, bad, 5)


def test_dimension_sweep_moves_one_dimension_only() -> None:
    base = np.array([0.5, -1.0, 2.0], np.float32)
    z = walks.dimension_sweep(base, 1, -3.0, 3.0, 7)
    assert np.allclose(z[:, 1], np.linspace(-3, 3, 7))
    assert np.allclose(z[:, [0, 2]], base[[0, 2]])
    with pytest.raises(ConfigError, match="no latent dimension 3"):
        walks.dimension_sweep(base, 3, 0, 1, 5)


def test_traversal_grid_spans_the_central_region_of_the_map() -> None:
    coords = np.random.default_rng(1).uniform(-5, 5, size=(1000, 2)).astype(np.float32)
    projection = latent_space.make_projection("identity", coords)
    z = walks.traversal_grid(projection, coords, 4)
    (x0, x1), (y0, y1) = walks.map_region(coords)
    assert np.allclose(z[0], [x0, y1]) and np.allclose(z[-1], [x1, y0])  # top-left first, bottom-right last
    assert -5 < x0 < -4.5 and 4.5 < x1 < 5
