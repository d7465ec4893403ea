"""Localisation error on simulated dipoles stays within a bound (sphere model, off-grid dipoles)."""

import numpy as np
import pytest

from backend.errors import EEGError
from backend.sources import simulate, template


def _white_vertices():
    return np.concatenate([template.cortex_mesh(h, "white")[0] for h in template.HEMIS])


@pytest.mark.slow
def test_simulated_dipoles_are_cortical_and_off_every_grid():
    rr, nn = simulate.random_dipoles(300, seed=3)
    assert rr.shape == nn.shape == (300, 3)
    np.testing.assert_allclose(np.linalg.norm(nn, axis=1), 1.0, atol=1e-6)
    vertices = _white_vertices()
    distance = np.linalg.norm(rr[:, None] - vertices[None], axis=2)
    # None coincides with a vertex of fsaverage5, whose subsets are the inverse grids.
    assert distance.min() > 1e-5
    # Inside the white surface's triangles: within one triangle side (~3.5 mm) of a vertex.
    assert distance.min(axis=1).max() < 0.004
    # None on the medial wall, which is not cortex.
    wall = np.concatenate([template.medial_wall(h) for h in template.HEMIS])
    assert not wall[distance.argmin(axis=1)].any()
    # Normals point outwards (the surface normal, not a random direction): along the
    # nearest vertex's normal, which the white surface gives.
    nearest_normals = np.concatenate([simulate.fwd_mod.source_space(5)[i]["nn"] for i in range(2)])[
        distance.argmin(axis=1)
    ]
    assert np.median(np.sum(nn * nearest_normals, axis=1)) > 0.9


def test_medial_wall_is_the_flat_patchs_gap():
    for hemi in template.HEMIS:
        wall = template.medial_wall(hemi)
        assert 0.04 < wall.mean() < 0.12  # FreeSurfer's medial wall: a few percent of the vertices
        # It lies on the midline side of the hemisphere.
        x = template.cortex_mesh(hemi, "white")[0][:, 0]
        assert np.median(np.abs(x[wall])) < np.median(np.abs(x[~wall]))


@pytest.mark.slow
def test_dipoles_follow_cortical_area_not_vertex_count():
    # Vertices of fsaverage5 are spread evenly on the sphere, not on the cortex: the
    # quarter of cortical vertices with the most surface around them should draw
    # about as many more dipoles as they hold more area.
    vertices = _white_vertices()
    wall = np.concatenate([template.medial_wall(h) for h in template.HEMIS])
    area = np.zeros(len(vertices))
    offset = 0
    for hemi in template.HEMIS:
        rr, tris = template.cortex_mesh(hemi, "white")
        corners = rr[tris]
        tri_area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
        np.add.at(area, tris.ravel() + offset, np.repeat(tri_area / 3, 3))
        offset += len(rr)
    cortical = np.flatnonzero(~wall)
    order = cortical[np.argsort(area[cortical])]
    small, large = order[: len(order) // 4], order[-len(order) // 4 :]
    rr, _ = simulate.random_dipoles(3000, seed=7)
    nearest = np.argmin(np.linalg.norm(rr[:, None] - vertices[None], axis=2), axis=1)
    drawn = np.bincount(nearest, minlength=len(vertices))
    area_ratio = area[large].sum() / area[small].sum()
    drawn_ratio = drawn[large].sum() / drawn[small].sum()
    assert area_ratio > 1.8  # 2.1 on fsaverage5
    assert 0.8 * area_ratio < drawn_ratio < 1.25 * area_ratio  # vertex sampling would give ~1


def test_same_seed_same_dipoles():
    a, _ = simulate.random_dipoles(20, seed=5)
    b, _ = simulate.random_dipoles(20, seed=5)
    c, _ = simulate.random_dipoles(20, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    with pytest.raises(EEGError):
        simulate.random_dipoles(0)
