"""The template head is built from installed packages alone, and its layers are consistent."""

import socket

import mne
import numpy as np
import pytest

import tests.sources_support as sources_support  # noqa: F401  (sets the cache folder)
from backend.sources import atlas, forward, template


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_template_builds_offline(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("EEG_EXPLORER_CACHE", str(tmp_path))
    template.cortex_mesh.cache_clear()
    template._nilearn_meshes.cache_clear()
    atlas.seitzman_rois.cache_clear()
    subjects = template.subjects_dir()
    for name in ("lh.white", "rh.pial", "lh.sphere", "rh.inflated"):
        rr, tris = mne.read_surface(subjects / "fsaverage" / "surf" / name)
        assert rr.shape == (10242, 3) and tris.shape == (20480, 3)
    for name in ("inner_skull", "outer_skull", "outer_skin"):
        assert (subjects / "fsaverage" / "bem" / f"{name}.surf").exists()
    xyz, networks = atlas.seitzman_rois()
    assert len(xyz) > 200 and "DefaultMode" in set(networks)


@pytest.mark.slow
def test_bem_layers_nest():
    # What MNE's make_bem_model checks before it accepts three layers.
    inner, outer, scalp = template.inner_skull_surface(), template.outer_skull_surface(), template.scalp_surface()
    assert mne.surface._CheckInside(outer)(inner["rr"]).all()
    assert mne.surface._CheckInside(scalp)(outer["rr"]).all()
    thickness = np.linalg.norm(outer["rr"] - inner["rr"], axis=1) * 1000
    assert thickness.min() >= 1.9 and thickness.max() <= 7.1


@pytest.mark.slow
def test_cortex_lies_inside_inner_skull_and_sphere():
    src = forward.source_space(sources_support.ICO)
    rr = np.concatenate([s["rr"][s["vertno"]] for s in src])
    inside = mne.surface._CheckInside(template.inner_skull_surface())(rr)
    assert inside.mean() > 0.99
    centre, radii = template.head_sphere()
    to_head = mne.transforms.invert_transform(template.trans())
    dist = np.linalg.norm(mne.transforms.apply_trans(to_head, rr) - centre, axis=1)
    # MNE drops sources outside the sphere model's innermost shell (the inner skull).
    assert np.mean(dist < radii[0]) > 0.98


def test_sphere_shells_follow_the_template_layers():
    centre, (inner, outer, scalp) = template.head_sphere()
    # Adult skull and scalp are each several millimetres thick.
    assert 0.004 <= outer - inner <= 0.008 and 0.004 <= scalp - outer <= 0.010
    # The scalp shell passes close to where the standard electrodes sit.
    info = mne.create_info(["Fz", "Cz", "Pz", "C3", "C4", "F3", "F4", "P3", "P4", "Oz"], 100.0, "eeg")
    pos = np.array([ch["loc"][:3] for ch in forward.electrodes(info).info["chs"]])
    assert np.all(np.abs(np.linalg.norm(pos - centre, axis=1) - scalp) < 0.012)
    sphere = forward.head_model("sphere")
    np.testing.assert_allclose([layer["rad"] for layer in sphere["layers"]], [inner, outer, scalp])
    np.testing.assert_allclose([layer["sigma"] for layer in sphere["layers"]], forward.BEM_CONDUCTIVITY)


def test_standard_electrodes_sit_on_the_template_scalp():
    info = mne.create_info(["Fp1", "Cz", "O2", "T7", "P8", "Fz", "C3", "C4"], 100.0, "eeg")
    elec = forward.electrodes(info)
    to_mri = template.trans()
    pos = mne.transforms.apply_trans(to_mri, np.array([ch["loc"][:3] for ch in elec.info["chs"]]))
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(template.scalp_surface()["rr"]).query(pos)
    assert dist.max() < 0.01  # within 1 cm of the template scalp


def test_region_names_follow_coordinates():
    assert atlas.region_name([-30, -90, 0]).startswith("left occipital")
    assert atlas.region_name([55, -15, -15]).startswith("right temporal")
    assert atlas.region_name([30, 40, 30]).startswith("right frontal")
