"""Exports of a localisation (MNE .stc, the peak table as CSV) and the averaged-response figure."""

import csv
import io
import zipfile

import mne
import numpy as np
import pytest

import tests.sources_support as sup
from backend.errors import EEGError
from backend.sources import export, figures, inverse


@pytest.fixture(scope="module")
def event_result(eeglab_recording):
    return inverse.localise(
        eeglab_recording.raw, "eLORETA", event="square", epoch=(-0.1, 0.4), model=sup.MODEL, ico=sup.ICO
    )


def test_epoch_is_the_users_and_checked(event_result):
    assert event_result.evoked.times[0] == pytest.approx(-0.1, abs=0.01)
    assert event_result.evoked.times[-1] == pytest.approx(0.4, abs=0.01)
    assert inverse.check_epoch(-0.5, 1) == (-0.5, 1.0)
    for bad, match in (((0.0, 0.5), "before the event"), ((-0.2, -0.1), "end after"), ((-1, 5), "at most")):
        with pytest.raises(EEGError, match=match):
            inverse.check_epoch(*bad)


def test_peak_table_starts_at_the_peak_and_keeps_peaks_apart(event_result):
    rows = export.peak_table(event_result, n=5, min_distance_mm=20)
    peak = event_result.peak
    assert len(rows) == 5 and [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    first = rows[0]
    assert (first["hemi"], first["vertex"], first["time_s"]) == (peak["hemi"], peak["vertex"], round(peak["time"], 4))
    assert first["value"] == pytest.approx(peak["value"])
    values = [abs(r["value"]) for r in rows]
    assert values == sorted(values, reverse=True)
    xyz = np.array([[r["x_mm"], r["y_mm"], r["z_mm"]] for r in rows])
    distances = np.linalg.norm(xyz[:, None] - xyz[None], axis=2)[np.triu_indices(5, 1)]
    assert distances.min() >= 20 - 0.2  # rounded to 0.1 mm
    assert all(r["time_s"] >= 0 for r in rows)  # searched from the event on, as the peak
    parsed = list(csv.DictReader(io.StringIO(export.peaks_csv(rows))))
    assert list(parsed[0]) == list(export.PEAK_COLUMNS) and len(parsed) == 5
    assert parsed[0]["region"] == first["region"] and parsed[0]["unit"] == "a.u."


def test_stc_download_round_trips(event_result, tmp_path):
    name, data = export.stc_bytes(event_result, "square")
    assert name == "square-stc.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["square-lh.stc", "square-rh.stc"]
        zf.extractall(tmp_path)
    stc = mne.read_source_estimate(tmp_path / "square")
    assert np.allclose(stc.data, event_result.stc.data, rtol=1e-4, atol=0)
    assert [len(v) for v in stc.vertices] == [len(v) for v in event_result.stc.vertices]


def test_h5_only_where_h5io_is_installed(event_result, tmp_path):
    if "h5" in export.formats():
        (written,) = export.write_stc(event_result, tmp_path / "x.h5")
        assert mne.read_source_estimate(written).data.shape == event_result.stc.data.shape
    else:
        with pytest.raises(EEGError, match="h5io"):
            export.write_stc(event_result, tmp_path / "x.h5")
    with pytest.raises(EEGError, match="does not exist"):
        export.write_stc(event_result, tmp_path / "missing" / "x")


def test_butterfly_marks_the_chosen_time(event_result):
    fig = figures.butterfly_figure(event_result.evoked, 0.123)
    assert len(fig.data) == len(event_result.evoked.ch_names)
    assert {round(s.x0, 3) for s in fig.layout.shapes} == {0.0, 0.123}  # the event and the chosen time
    assert "Averaged response" in fig.layout.title.text
    assert np.allclose(fig.data[0].y, event_result.evoked.data[0] * 1e6)


def test_butterfly_thins_a_long_window(physionet_recording):
    elec = inverse.fwd_mod.electrodes(physionet_recording.raw.info)
    evoked = inverse.window_evoked(physionet_recording.raw, elec, 10.0, 25.0)
    fig = figures.butterfly_figure(evoked, None, max_points=500)
    assert len(fig.data[0].x) <= 500 and not fig.layout.shapes
    assert fig.layout.title.text == "The window localised"
