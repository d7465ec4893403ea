"""Known-truth cases and the before/after figures built from real recordings."""

import numpy as np
import pytest

from backend.clean import figures
from backend.clean.metrics import variance_removed
from backend.clean.pipeline import parse_pipeline, run_pipeline
from backend.clean.teach import known_truth_case, run_on_case, score_case
from backend.errors import EEGError
from backend.viz import removal


@pytest.fixture(scope="module")
def case(eeglab_recording):
    return known_truth_case(eeglab_recording, "muscle", snr_db=-3.0, seed=1, duration_s=30)


def test_case_is_band_passed_and_at_snr(case):
    inj = case.injection
    assert abs(inj.measured_snr_db() + 3.0) < 0.1
    assert inj.clean.shape == (len(case.info["ch_names"]), 30 * 128)
    # The clean reference was high-passed at 1 Hz: no offset left.
    assert np.abs(inj.clean.mean(axis=1)).max() < 0.1 * inj.clean.std(axis=1).min()


def test_band_pass_helps_against_muscle(case):
    cleaned, reports, seconds = run_on_case(case, parse_pipeline("bandpass:1,30"))
    before, after = score_case(case, case.injection.noisy), score_case(case, cleaned)
    assert after["removed_pct"] > 30 and after["rrmse_t"] < before["rrmse_t"] and after["cc"] > before["cc"]
    assert reports[0]["report"] == {"band_hz": [1.0, 30.0]} and seconds >= 0


def test_rate_changes_cannot_be_scored(case):
    with pytest.raises(EEGError, match="cannot be scored"):
        run_on_case(case, parse_pipeline("resample:64"))


def test_teaching_figures(case):
    cleaned, _, _ = run_on_case(case, parse_pipeline("bandpass:1,30"))
    traces = figures.teaching_traces(case.injection, cleaned, max_channels=6)
    assert [t.name for t in traces.data] == ["with artifacts", "true clean signal", "cleaned"]
    # The channels shown are those the muscle artifact hit hardest: temporal ones.
    shown = set(traces.layout.yaxis.ticktext)
    assert len(shown) == 6 and {"T7", "T8"} & shown
    assert len(figures.teaching_psd(case.injection, cleaned).data) == 3


def test_before_after_views(eeglab_recording):
    after = run_pipeline(eeglab_recording, parse_pipeline("bandpass:1,20;bad_channels:methods=flat"))
    before = eeglab_recording
    fig = figures.before_after_traces(before.raw, after.raw, start_s=10.0, duration_s=5.0, max_channels=8)
    assert [t.name for t in fig.data] == ["original", "cleaned"] and len(fig.layout.yaxis.ticktext) == 8
    assert fig.data[0].x[0] == pytest.approx(10.0)
    removed = variance_removed(before.raw, after.raw)
    assert set(removed) == {n for n, t in zip(before.raw.ch_names, before.raw.get_channel_types()) if t == "eeg"}
    assert all(0 < v < 100 for v in removed.values())  # a band-pass only removes variance
    assert removal.variance_removed_topomap(removed, after.raw.info) is not None
    psd = figures.before_after_psd(before.raw, after.raw)
    low_db, high_db = psd.data[0].y, psd.data[1].y
    freqs = np.asarray(psd.data[0].x)
    assert np.mean(np.asarray(high_db)[freqs > 35]) < np.mean(np.asarray(low_db)[freqs > 35]) - 20
    rows = figures.changes_table(after.history[1:])
    assert rows[0]["changed"] == "kept 1–20 Hz" and rows[1]["changed"].startswith("bad: none found")


def test_describe_reports():
    assert (
        figures.describe_report("asr", {"seconds_reconstructed": 8.5, "fraction_reconstructed": 0.14})
        == "ASR reconstructed 8.5 s (14.0% of the time)"
    )
    assert figures.describe_report("ica_iclabel", {"components_removed": [0, 3]}) == "removed 2 component(s): 0, 3"
    assert figures.describe_report("art", {"windows": 12}) == '{"windows": 12}'


@pytest.mark.slow
def test_ica_iclabel_removes_injected_eye_artifacts(eeglab_recording):
    """The Components stage's ICA + ICLabel step, reused as a cleaning method, scored on known truth."""
    case = known_truth_case(eeglab_recording, "eye", snr_db=-3.0, seed=0, duration_s=30)
    cleaned, reports, _ = run_on_case(case, parse_pipeline("ica_iclabel"))
    assert reports[0]["report"]["components_removed"]
    assert score_case(case, cleaned)["removed_pct"] > 40
