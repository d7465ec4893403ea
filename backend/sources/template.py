"""The template head, built offline from what installed packages ship.

- Scalp and inner skull: ``mne/data/fsaverage`` (``fsaverage-head.fif``,
  ``fsaverage-inner_skull-bem.fif``) with the head -> MRI transform
  ``fsaverage-trans.fif``.
- Cortex: nilearn's fsaverage5 meshes (white, pial, inflated, sphere; 10242
  vertices per hemisphere, in the fsaverage MRI frame, mm).
- Outer skull: derived from the inner skull, pushed outwards (radially) by
  half the gap to the scalp (at most 7 mm), so the three BEM layers nest. The
  skull comes out 3.3-7 mm thick (median 6.5 mm), thinnest low on the sides
  at the back, where the template scalp lies closest to the inner skull.
- Sphere: three shells about a centre fitted to the scalp, at the median
  radii of the inner skull, outer skull and scalp (83, 89, 97 mm), so the
  spherical model describes the same head as the BEM.

These are written once as a FreeSurfer-style ``fsaverage`` subject in the user
cache folder, so MNE's own ``setup_source_space`` and ``make_bem_model`` build
the source space and the conductor model from them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import mne
import numpy as np

SUBJECT = "fsaverage"
HEMIS = ("lh", "rh")
_NILEARN_PARTS = {"lh": "left", "rh": "right"}
# fsaverage5 is the 5th subdivision of an icosahedron: its first 2562 (ico4) or
# 642 (ico3) vertices form the coarser subdivisions, used to invert.
ICO_VERTICES = {3: 642, 4: 2562, 5: 10242}
# Version of the files written below: bump when their recipe changes.
_TEMPLATE_VERSION = "1"


def mne_fsaverage_dir() -> Path:
    """MNE's shipped fsaverage files (head, inner skull, trans, fiducials)."""
    return Path(mne.__file__).parent / "data" / "fsaverage"


def cache_dir() -> Path:
    """The user cache folder for template files and forward solutions.

    ``$EEG_EXPLORER_CACHE`` overrides the platform's user cache folder.
    """
    override = os.environ.get("EEG_EXPLORER_CACHE")
    if override:
        root = Path(override)
    else:
        import platformdirs

        root = Path(platformdirs.user_cache_dir("eeg-explorer"))
    path = root / "sources"
    path.mkdir(parents=True, exist_ok=True)
    return path


def subjects_dir() -> Path:
    """A subjects folder holding the template subject, written on first use."""
    path = cache_dir() / f"subjects-v{_TEMPLATE_VERSION}"
    if not (path / SUBJECT / "done").exists():
        _write_subject(path)
    return path


@lru_cache(maxsize=1)
def trans() -> mne.transforms.Transform:
    """The head -> MRI transform of the fsaverage template."""
    return mne.read_trans(mne_fsaverage_dir() / "fsaverage-trans.fif")


@lru_cache(maxsize=1)
def _nilearn_meshes() -> dict:
    from nilearn import datasets

    return datasets.load_fsaverage("fsaverage5")


@lru_cache(maxsize=8)
def cortex_mesh(hemi: str, surface: str = "pial") -> tuple[np.ndarray, np.ndarray]:
    """One fsaverage5 hemisphere: ``(vertices (10242, 3) in m, MRI frame; faces (20480, 3))``.

    ``surface`` is ``'pial'``, ``'white'``, ``'inflated'`` or ``'sphere'``.
    """
    key = {"white": "white_matter"}.get(surface, surface)
    meshes = _nilearn_meshes()
    if key not in meshes:
        raise ValueError(f"surface must be pial, white, inflated or sphere, got {surface!r}")
    mesh = meshes[key].parts[_NILEARN_PARTS[hemi]]
    return np.asarray(mesh.coordinates, float) / 1000.0, np.asarray(mesh.faces, int)


@lru_cache(maxsize=2)
def medial_wall(hemi: str) -> np.ndarray:
    """Which fsaverage5 vertices of ``hemi`` lie on the medial wall (bool, 10242).

    The medial wall (corpus callosum, the cut to the brainstem) closes the
    surface but is not cortex. FreeSurfer's flattened patch of the hemisphere,
    which nilearn ships, leaves exactly it out: its vertices are those no
    triangle of the flat mesh uses (about 7 % of them; cortical thickness is
    about zero there).
    """
    flat = _nilearn_meshes()["flat"].parts[_NILEARN_PARTS[hemi]]
    wall = np.ones(ICO_VERTICES[5], bool)
    wall[np.unique(np.asarray(flat.faces))] = False
    return wall


@lru_cache(maxsize=1)
def scalp_surface() -> dict:
    """The fsaverage scalp (MRI frame, m): dict with ``rr`` and ``tris``."""
    return mne.read_bem_surfaces(mne_fsaverage_dir() / "fsaverage-head.fif", verbose="error")[0]


@lru_cache(maxsize=1)
def inner_skull_surface() -> dict:
    """The fsaverage inner skull, brought down to ico4 (2562 vertices), MRI frame, m."""
    surf = mne.read_bem_surfaces(mne_fsaverage_dir() / "fsaverage-inner_skull-bem.fif", verbose="error")[0]
    return mne.bem._ico_downsample(dict(surf), 4)


def outer_skull_surface() -> dict:
    """The outer skull: inner skull pushed out by half the gap to the scalp (2-7 mm)."""
    from scipy.spatial import cKDTree

    inner = inner_skull_surface()
    rr, tris = inner["rr"], inner["tris"]
    gap, _ = cKDTree(scalp_surface()["rr"]).query(rr)
    offset = np.clip(0.5 * gap, 0.002, 0.007)
    # Smooth the offsets over neighbours so the surface stays regular.
    neighbours: list[list[int]] = [[] for _ in range(len(rr))]
    for a, b, c in tris:
        neighbours[a] += [b, c]
        neighbours[b] += [a, c]
        neighbours[c] += [a, b]
    for _ in range(3):
        offset = np.minimum(offset, np.array([offset[n].mean() for n in neighbours]))
    # Radially from the centroid: the inner skull is star-shaped about it, so
    # scaling each ray outwards keeps the layers nested where normals would fold.
    centre = rr.mean(0)
    rays = rr - centre
    length = np.linalg.norm(rays, axis=1, keepdims=True)
    return {"rr": centre + rays * (1 + offset[:, None] / length), "tris": tris}


def _write_subject(path: Path) -> None:
    """Write the fsaverage template as a FreeSurfer subject (surfaces in mm)."""
    subject = path / SUBJECT
    (subject / "surf").mkdir(parents=True, exist_ok=True)
    (subject / "bem").mkdir(parents=True, exist_ok=True)
    for hemi in HEMIS:
        for surface in ("white", "pial", "inflated", "sphere"):
            rr, tris = cortex_mesh(hemi, surface)
            mne.write_surface(subject / "surf" / f"{hemi}.{surface}", rr * 1000.0, tris, overwrite=True)
    layers = {
        "inner_skull": inner_skull_surface(),
        "outer_skull": outer_skull_surface(),
        "outer_skin": scalp_surface(),
    }
    for name, surf in layers.items():
        mne.write_surface(subject / "bem" / f"{name}.surf", surf["rr"] * 1000.0, surf["tris"], overwrite=True)
    (subject / "done").write_text(_TEMPLATE_VERSION)


def _fit_sphere(rr: np.ndarray) -> tuple[np.ndarray, float]:
    """Algebraic least-squares sphere: ``|x|^2 = 2 c.x + (r^2 - |c|^2)``."""
    design = np.c_[2 * rr, np.ones(len(rr))]
    sol, *_ = np.linalg.lstsq(design, np.sum(rr**2, axis=1), rcond=None)
    centre = sol[:3]
    return centre, float(np.sqrt(sol[3] + centre @ centre))


def _above_fiducial_plane(surf: dict) -> np.ndarray:
    """A template surface's vertices in the head frame (m), those above the fiducial plane."""
    rr = mne.transforms.apply_trans(mne.transforms.invert_transform(trans()), surf["rr"])
    return rr[rr[:, 2] > 0.0]


@lru_cache(maxsize=1)
def head_sphere() -> tuple[np.ndarray, tuple[float, float, float]]:
    """The spherical head model fitted to the template: centre and three shell radii.

    Returns
    -------
    centre : ndarray, shape (3,)
        Centre (head frame, m) of a least-squares sphere fitted to the scalp
        above the fiducial plane, where the electrodes sit (the neck and face
        below would pull it off).
    radii : tuple of float
        Inner skull, outer skull and scalp radii (m): the median distance from
        the centre to each template surface above the fiducial plane. With the
        BEM's conductivities these shells model the same head as the BEM.
    """
    centre, _ = _fit_sphere(_above_fiducial_plane(scalp_surface()))
    surfaces = (inner_skull_surface(), outer_skull_surface(), scalp_surface())
    inner, outer, scalp = (
        float(np.median(np.linalg.norm(_above_fiducial_plane(s) - centre, axis=1))) for s in surfaces
    )
    return centre, (inner, outer, scalp)
