"""Page slicing, display filters and min-max downsampling on real recordings."""

import base64
import json
import shutil
import subprocess
from pathlib import Path

import mne
import numpy as np
import plotly.graph_objects as go
import pytest
from scipy import signal

from backend.browse import display, figures
from backend.browse.montages import build_montage
from backend.errors import EEGError
from backend.io import load_recording


def test_display_filters_leave_the_recording_unchanged(physionet_recording):
    rec = physionet_recording
    before = rec.raw.get_data(start=1600, stop=3200)
    key = rec.key
    montage = build_montage(rec.raw.info, "double_banana")
    page = display.read_page(rec.raw, montage, 10, 10, display.DisplayFilter(1.0, 30.0, 60.0))
    assert page.values.shape[0] == 18
    np.testing.assert_array_equal(rec.raw.get_data(start=1600, stop=3200), before)
    assert rec.key == key and not rec.raw.preload


def test_filters_act_on_the_page(shared_data):
    # This BDF carries strong 50 Hz line noise: the notch must remove most of it.
    raw = load_recording([shared_data / "bdf" / "test_bdf_stim_channel.bdf"]).raw
    montage = build_montage(raw.info, "referential")
    plain = display.read_page(raw, montage, 2, 5, display.DisplayFilter(), n_points=10**6)
    notched = display.read_page(raw, montage, 2, 5, display.DisplayFilter(notch=50.0), n_points=10**6)

    def line_power(values):
        freqs, psd = signal.welch(values.astype(float), fs=raw.info["sfreq"], nperseg=500)
        return psd[:, np.argmin(np.abs(freqs - 50))]

    assert (line_power(notched.values) < 0.1 * line_power(plain.values)).all()
    # The low-frequency filter removes the electrode offset.
    lff = display.read_page(raw, montage, 2, 5, display.DisplayFilter(low=1.0), n_points=10**6)
    assert np.abs(lff.values.mean(axis=1)).max() < 0.1 * np.abs(plain.values.mean(axis=1)).max()
    assert "notch 50 Hz" in notched.filter_text and "zero-phase" in notched.filter_text


def test_filters_above_the_rate_are_reported_off(eeglab_recording):
    filt = display.DisplayFilter(0.5, 70.0, 60.0)
    assert filt.active(128.0) == display.DisplayFilter(0.5, None, None)
    assert "70 Hz, 60 Hz off" in filt.describe(128.0)


def test_minmax_downsampling_keeps_a_one_sample_spike(physionet_recording):
    raw = physionet_recording.raw
    data = raw.get_data(start=0, stop=16000)
    spiked = data.copy()
    spiked[5, 7777] += 500e-6
    array = mne.io.RawArray(spiked, raw.info.copy(), verbose="error")
    montage = build_montage(array.info, "referential")
    page = display.read_page(array, montage, 0, 100, n_points=800)
    assert page.values.shape == (64, 800)
    assert page.values[5].max() == pytest.approx(spiked[5].max(), rel=1e-6)
    # Every other row keeps its own extremes too.
    np.testing.assert_allclose(page.values.max(axis=1), spiked.max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(page.values.min(axis=1), spiked.min(axis=1), rtol=1e-6)
    # The spike stays near its time: within one bin of 100 s / 400 bins.
    t_spike = page.x0 + page.dx * int(np.argmax(page.values[5]))
    assert abs(t_spike - 7777 / raw.info["sfreq"]) <= 100 / 400


def test_page_bounds_clamp_to_the_recording(physionet_recording):
    raw = physionet_recording.raw
    montage = build_montage(raw.info, "referential")
    end = raw.n_times / raw.info["sfreq"]
    page = display.read_page(raw, montage, end + 50, 10)
    assert page.start == pytest.approx(end - 10) and page.duration == pytest.approx(10)
    assert display.read_page(raw, montage, -5, 10).start == 0
    with pytest.raises(EEGError):
        display.read_page(raw, montage, 0, 0)


def test_page_start_keeps_a_full_page_in_the_recording():
    assert display.page_start(-3, 10, 125) == 0
    assert display.page_start(50, 10, 125) == 50
    assert display.page_start(120, 10, 125) == 115  # the last full page
    assert display.page_start(4, 10, 6) == 0  # a recording shorter than a page starts at 0


def test_autoscale_picks_a_preset_that_fits_a_row(physionet_recording):
    raw = physionet_recording.raw
    page = display.read_page(raw, build_montage(raw.info, "referential"), 20, 10, display.DisplayFilter(0.5, 70.0))
    sensitivity = display.autoscale(page.values, row_mm=5.0)
    assert sensitivity in display.SENSITIVITIES_UV_MM
    spread = np.median(np.percentile(page.values, 99, axis=1) - np.percentile(page.values, 1, axis=1)) * 1e6
    assert spread / sensitivity <= 5.0


def test_page_figure_is_valid_plotly_with_hover_in_microvolts(physionet_recording):
    raw = physionet_recording.raw
    page = display.read_page(raw, build_montage(raw.info, "double_banana"), 20, 10, n_points=1000)
    fig = figures.page_figure(
        page,
        7.0,
        annotations=[{"onset": 21, "duration": 2, "description": "T1"}],
        events=[{"time": 25.0, "value": 3, "channel": "STI"}],
        all_labels=["T1"],
        clip=False,
    )
    go.Figure(fig.to_dict())  # the unvalidated fast path must satisfy Plotly's schema
    assert len(fig.data) == 18 and all(t.type == "scatter" for t in fig.data)
    webgl = figures.page_figure(page, 7.0, webgl=True)
    go.Figure(webgl.to_dict())
    assert all(t.type == "scattergl" for t in webgl.data)
    row = 3
    trace = fig.data[row]
    np.testing.assert_allclose(trace.customdata, page.values[row] * 1e6, rtol=1e-5)
    # y is the value at 7 µV/mm, in 1/40 mm, about the row's offset.
    units = fig.layout.meta["y_units_per_mm"]
    offset = fig.layout.yaxis.tickvals[row]
    np.testing.assert_allclose((np.asarray(trace.y) - offset) / units * 7.0, trace.customdata, atol=7.0 / units)
    assert fig.layout.yaxis.ticktext[row] == page.labels[row]
    assert any(a.text == "T1" for a in fig.layout.annotations)
    assert any(a.text.endswith(" µV") for a in fig.layout.annotations)  # the scale bar
    assert len(fig.to_json()) < 1_500_000


def test_overview_amplitude_and_band_power(eeglab_recording):
    raw = eeglab_recording.raw
    times, amp = display.overview(raw, "amplitude", n_windows=100)
    assert len(times) == len(amp) and 50 <= len(times) <= 240
    assert times[0] > 0 and times[-1] < raw.n_times / raw.info["sfreq"]
    assert np.isfinite(amp).all() and (amp > 0).all() and amp.max() < 1e-3
    _, alpha = display.overview(raw, "band", "alpha", n_windows=100)
    assert (alpha > 0).all()
    with pytest.raises(EEGError):
        display.overview(raw, "loudness")


def test_minmax_bins_never_straddle_rows(physionet_recording):
    # 2560 samples into at most 2400 points: bins of 3 samples, the last one padded.
    rows = physionet_recording.raw.get_data(start=0, stop=2560).astype(np.float32)
    values, w = display.minmax_downsample(rows, 2400)
    assert w == 3 and values.shape == (64, 2 * 854)
    padded = np.concatenate([rows, rows[:, -1:], rows[:, -1:]], axis=1).reshape(64, 854, 3)
    pairs = values.reshape(64, 854, 2)
    np.testing.assert_array_equal(pairs.min(axis=2), padded.min(axis=2))
    np.testing.assert_array_equal(pairs.max(axis=2), padded.max(axis=2))
    same, w1 = display.minmax_downsample(rows[:, :1000], 2400)
    assert w1 == 1 and np.array_equal(same, rows[:, :1000])


def test_canvas_view_data_decodes_to_the_page_in_microvolts(physionet_recording):
    raw = physionet_recording.raw
    page = display.read_page(raw, build_montage(raw.info, "double_banana"), 20, 10, n_points=1000)
    data = figures.page_view_data(
        page,
        7.0,
        annotations=[{"onset": 21, "duration": 2, "description": "T1"}],
        events=[{"time": 25.0, "value": 3, "channel": "STI"}],
        all_labels=["T1"],
        clip=False,
    )
    json.dumps(data)  # travels to the browser as JSON
    ys = np.frombuffer(base64.b64decode(data["ys"]), dtype="<i2").reshape(len(data["rows"]), data["n_points"])
    # What the view's hover reads out: (y - row offset) in µV, within one y unit.
    offsets = np.asarray(data["offsets_mm"])[:, None] * data["y_units_per_mm"]
    np.testing.assert_allclose((ys - offsets) * data["uv_per_unit"], page.values * 1e6, atol=data["uv_per_unit"])
    # The same layout as the Plotly figure of the page.
    fig = figures.page_figure(page, 7.0, clip=False)
    assert [r["name"] for r in data["rows"]] == [t.name for t in fig.data]
    assert [r["color"] for r in data["rows"]] == [t.line.color for t in fig.data]
    np.testing.assert_allclose(offsets[:, 0], fig.layout.yaxis.tickvals)
    assert (data["start"], data["end"]) == tuple(fig.layout.xaxis.range)
    assert data["annotations"] == [{"x0": 21, "x1": 23, "label": "T1", "color": figures.label_color("T1", ["T1"])}]
    assert data["events"] == [{"t": 25.0, "label": "▲3"}]
    assert data["bar"]["uv"] == figures.page_geometry(page, 7.0).bar_uv and data["clip_units"] is None
    assert len(json.dumps(data)) < 400_000  # a third of the Plotly figure's payload


def test_overview_view_data_marks_the_page_and_the_annotations(eeglab_recording):
    raw = eeglab_recording.raw
    times, amp = display.overview(raw, "amplitude", n_windows=100)
    notes = [{"onset": 12.0, "duration": 0.0, "description": "square"}]
    data = figures.overview_view_data(times, amp * 1e6, "µV", 30.0, 10.0, raw.times[-1], notes, ["square"])
    json.dumps(data)
    assert data["page"] == [30.0, 40.0] and len(data["values"]) == len(times) > 50
    assert data["marks"] == [{"t": 12.0, "color": figures.label_color("square", ["square"])}]
    finite = amp[np.isfinite(amp)] * 1e6
    assert finite.min() <= data["top"] <= finite.max()
    assert data["ticks"][0] == [0.0, "0"] and data["ticks"][-1][0] <= raw.times[-1]


@pytest.fixture(scope="module")
def nihon_kohden(shared_data):
    return load_recording([shared_data / "clinical_nihonkohden" / "MB0400FU.EDF"])


def test_traces_are_clipped_at_their_row_band_by_default(nihon_kohden):
    """The $A1/$A2 spikes of the Nihon Kohden file must not cross the other rows unless asked."""
    raw = nihon_kohden.raw
    page = display.read_page(raw, build_montage(raw.info, "referential"), 0, 29, n_points=1200)
    for geo, data in (
        (figures.page_geometry(page, 7.0), figures.page_view_data(page, 7.0)),
        (figures.page_geometry(page, 7.0, clip=False), figures.page_view_data(page, 7.0, clip=False)),
    ):
        half = geo.row_mm / 2 * figures.Y_UNITS_PER_MM
        excursion = np.abs(geo.ys - (geo.offsets_mm * figures.Y_UNITS_PER_MM)[:, None]).max(axis=1)
        if geo.clip_units is None:
            assert (excursion > 3 * half).any() and data["clip_units"] is None  # the spikes cross rows
        else:
            assert geo.clip_units == pytest.approx(half) and data["clip_units"] == pytest.approx(half)
            assert (excursion <= half + 1).all() and (excursion >= half - 1).any()
    # The Plotly view clips the drawn line but its hover keeps the true value.
    fig = figures.page_figure(page, 7.0)
    big = int(np.argmax(np.abs(page.values).max(axis=1)))
    assert np.abs(fig.data[big].customdata).max() == pytest.approx(np.abs(page.values[big]).max() * 1e6, rel=1e-5)


def test_fit_to_window_keeps_the_height_whatever_the_rows():
    assert figures.fit_height(1000) == figures.fit_height(1000) < 1000
    assert figures.page_height(64, 20) > 1000 > figures.fit_height(1000)
    for n in (18, 64):  # rows share the window: fewer rows, taller rows
        assert figures.row_height_mm(n, height=figures.fit_height(1000)) * n == pytest.approx(
            figures.row_height_mm(1, height=figures.fit_height(1000))
        )
    assert figures.fit_height(100) >= 280  # never a sliver


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("$A1", "A1 (aux)"),
        ("POL X1", "X1"),
        ("POL $A2", "A2 (aux)"),
        ("EEG Fp1-Ref", "Fp1"),
        ("Fc5.", "FC5"),
        ("Fp1-F7", "Fp1-F7"),
        ("Cz-avg", "Cz-avg"),
        ("X1", "X1"),
        ("A1", "A1"),
    ],
)
def test_channel_names_are_cleaned_for_display(raw, clean):
    assert figures.clean_name(raw) == clean


def test_rows_show_the_clean_name_with_the_raw_one_on_hover(nihon_kohden):
    raw = nihon_kohden.raw
    page = display.read_page(raw, build_montage(raw.info, "referential"), 0, 10, n_points=400)
    rows = {r["name"]: r["raw"] for r in figures.page_view_data(page, 10.0)["rows"]}
    assert rows["A1 (aux)"] == "POL $A1" and rows["X1"] == "POL X1" and rows["Fp1"] == ""
    fig = figures.page_figure(page, 10.0)
    assert "A1 (aux)" in fig.layout.yaxis.ticktext and "A1 (aux) [POL $A1]" in [t.name for t in fig.data]


def test_filter_boxes_offer_only_what_applies():
    at_128 = display.applicable(display.HIGH_CUTS_HZ, 128.0)
    assert at_128 == (None, 15.0, 30.0, 35.0, 40.0)  # 70 Hz is above 0.45 × 128 = 57.6 Hz
    assert display.applicable(display.NOTCHES_HZ, 128.0) == (None, 50.0)
    assert display.applicable(display.HIGH_CUTS_HZ, 256.0) == display.HIGH_CUTS_HZ
    assert display.applicable(display.HIGH_CUTS_HZ, 20.0) == (None,)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js checks the canvas view's syntax; it is not installed")
def test_the_canvas_view_script_parses(tmp_path):
    """A syntax error in ui/trace_view.js leaves the page without traces, and no AppTest sees it."""
    script = tmp_path / "trace_view.mjs"
    script.write_text((Path(__file__).parents[1] / "ui" / "trace_view.js").read_text(encoding="utf-8"))
    done = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
