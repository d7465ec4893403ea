"""The 3-D cortex, time course and dipole figures."""

import numpy as np
import pytest

import tests.sources_support as sup
from backend.errors import EEGError
from backend.sources import dipole, figures, inverse


@pytest.fixture(scope="module")
def result(eeglab_recording):
    return inverse.localise(eeglab_recording.raw, "sLORETA", event="square", model=sup.MODEL, ico=sup.ICO)


def test_cortex_figure_frames_and_payload(result):
    fig = figures.cortex_figure(result, surface="pial", view="left lateral", threshold=0.4, n_frames=20)
    meshes = [t for t in fig.data if t.type == "mesh3d"]
    assert len(meshes) == 2 and all(len(m.x) == 10242 for m in meshes)
    assert 20 <= len(fig.frames) <= 21
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)
    # The initial colours are the peak's moment, and the peak vertex is at the top level.
    peak_mesh = meshes[0 if result.peak["hemi"] == "lh" else 1]
    assert np.max(peak_mesh.intensity) == 255
    assert figures.payload_bytes(fig) <= 5_000_000
    # Grey below the threshold.
    assert fig.data[0].colorscale[1][0] == pytest.approx(0.4)


def test_the_scalp_map_beside_the_cortex_moves_with_it(result):
    from backend.viz.topomap import sensor_xy

    fig = figures.cortex_figure(result, surface="pial", view="left lateral", n_frames=10)
    heat = [i for i, t in enumerate(fig.data) if t.type == "heatmap"]
    assert len(heat) == 1
    evoked = result.evoked
    xy, names = sensor_xy(evoked.info)
    axis = np.asarray(fig.data[heat[0]].x)
    nearest = [(np.argmin(np.abs(axis - y)), np.argmin(np.abs(axis - x))) for x, y in xy]
    for frame in fig.frames:
        assert list(frame.traces)[-1] == heat[0]  # each frame redraws the scalp map too
        z = np.asarray(frame.data[-1].z)
        t = int(np.argmin(np.abs(evoked.times - float(frame.name))))
        at_electrodes = np.array([z[r, c] for r, c in nearest])
        values = np.array([evoked.data[evoked.ch_names.index(n), t] * 1e6 for n in names])
        assert np.corrcoef(at_electrodes, values)[0, 1] > 0.9
    # One colour range for every frame, so the maps compare.
    assert fig.data[heat[0]].zmin == -fig.data[heat[0]].zmax
    assert figures.payload_bytes(fig) <= 5_000_000
    alone = figures.cortex_figure(result, view="left lateral", scalp=False)
    assert not any(t.type == "heatmap" for t in alone.data)


def test_medial_view_shows_one_hemisphere_and_inflated_ones_do_not_overlap(result):
    fig = figures.cortex_figure(result, surface="inflated", view="right medial")
    assert [t.name for t in fig.data if t.type == "mesh3d"] == ["rh"]
    both = figures.cortex_figure(result, surface="inflated", view="top")
    lh, rh = [t for t in both.data if t.type == "mesh3d"]
    assert np.max(lh.x) < np.min(rh.x)
    with pytest.raises(EEGError):
        figures.cortex_figure(result, view="sideways")


def test_timecourse_and_dipole_figures(result):
    course = figures.timecourse_figure(result)
    np.testing.assert_allclose(course.data[0].y, result.stc.data[result.peak["index"]])
    import mne

    fit = dipole.fit_at(result.evoked, mne.make_ad_hoc_cov(result.electrodes.info), result.peak["time"], "sphere")
    fig = figures.dipole_figure(fit)
    assert any(t.type == "cone" for t in fig.data)
    assert f"{fit.gof:.1f}%" in fig.layout.title.text


def test_a_click_on_the_cortex_picks_the_source_shown_there(result):
    fig = figures.cortex_figure(result, surface="pial", view="left lateral")
    hemis = [t.name for t in fig.data if t.type == "mesh3d"]
    n_lh = len(result.stc.vertices[0])
    # A vertex that is itself a source (fsaverage5 numbers its coarser grids first).
    for curve, hemi in enumerate(hemis):
        h = 0 if hemi == "lh" else 1
        vertex = int(result.stc.vertices[h][7])
        assert figures.clicked_source(result, "left lateral", curve, vertex) == 7 + (n_lh if h else 0)
    # Any clicked vertex gets the source whose value colours it.
    t = int(np.argmin(np.abs(result.stc.times - result.peak["time"])))
    shown = figures.vertex_values(result.stc, t)
    for vertex in (5, 3000, 10241):
        row = figures.clicked_source(result, "left lateral", 1, vertex)
        assert row >= n_lh and abs(result.stc.data[row, t]) == pytest.approx(shown["rh"][vertex])
    # The peak's marker is the trace after the meshes; anything else picks nothing.
    if result.peak["hemi"] in hemis:
        assert figures.clicked_source(result, "left lateral", len(hemis), 0) == result.peak["index"]
    assert figures.clicked_source(result, "left lateral", 5, 0) is None
    assert figures.clicked_source(result, "left lateral", 0, 10242) is None
    # In a one-hemisphere view, the first trace is that hemisphere.
    assert figures.clicked_source(result, "right medial", 0, int(result.stc.vertices[1][0])) == n_lh
    course = figures.timecourse_figure(result, n_lh)
    assert figures.source_label(result, n_lh) in course.layout.title.text
    assert " mm" in figures.source_label(result, n_lh)


def test_the_first_view_shows_the_peak(result):
    view = figures.peak_view(result)
    assert view in figures.VIEWS
    assert ("left" in view) == (result.peak["hemi"] == "lh")
    fig = figures.cortex_figure(result, view=view)
    assert result.peak["hemi"] in [t.name for t in fig.data if t.type == "mesh3d"]
    assert any(t.name == "peak" for t in fig.data)
