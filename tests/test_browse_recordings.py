"""Navigation and figure building on every real recording in ../shared/data."""

from pathlib import Path

import numpy as np
import pytest

from backend.browse import annotations, display, figures
from backend.browse.montages import MONTAGES, build_montage, parse_pairs
from backend.errors import EEGError
from backend.io import load_recording

# Primary files of the recordings with signals (the hypnogram holds annotations only).
RECORDINGS = [
    "eeglab_sample/eeglab_data.set",
    "eeglab_sample/eeglab_data_epochs_ica.set",
    "bdf/multiple_annotation_chans.bdf",
    "bdf/test.bdf",
    "bdf/test_bdf_stim_channel.bdf",
    "brainvision/test_CA_208.vhdr",
    "brainvision/bv_dig_test.vhdr",
    "clinical_nihonkohden/MB0400FU.EDF",
    "clinical_nihonkohden/MB0400FU.EEG",
    "edf_biosemi/test.edf",
    "fif_yasa/data_resting_EO_200Hz_raw.fif",
    "sleep/data_N2_spindles_15sec_200Hz.txt",
    "sleep/data_N3_no-spindles_30sec_100Hz.txt",
]
PHYSIONET_RUNS = [f"eegbci_physionet/S{s:03d}/S{s:03d}R{r:02d}.edf" for s in range(1, 11) for r in (4, 8, 12)]


def _load(shared_data: Path, relative: str):
    primary = shared_data / relative
    if not primary.exists():
        pytest.skip(f"{relative} is not in this copy of shared data")
    files = (
        [p for p in primary.parent.glob(primary.stem + ".*")]
        if primary.suffix.lower() in (".vhdr", ".set", ".eeg")
        else [primary]
    )
    return load_recording(files)


def _pages(raw, timebase):
    """Page starts visited by pressing Next from the start to the end."""
    duration = raw.n_times / raw.info["sfreq"]
    starts, start = [], 0.0
    while True:
        first, _ = display.page_bounds(raw, start, timebase)
        starts.append(first / raw.info["sfreq"])
        if first / raw.info["sfreq"] + timebase >= duration - 1e-9 or len(starts) > 100:
            return starts
        start += timebase


@pytest.mark.parametrize("relative", RECORDINGS)
def test_every_montage_pages_and_figures(shared_data, relative):
    rec = _load(shared_data, relative)
    raw = rec.raw
    duration = rec.duration_s
    labels = annotations.labels(raw)
    events = annotations.stim_events(raw)
    built = 0
    for name in MONTAGES:
        text = ", ".join(f"{a}-{b}" for a, b in zip(raw.ch_names[:3], raw.ch_names[1:4])) or raw.ch_names[0]
        pairs = parse_pairs(text, raw.ch_names) if name == "custom" else ()
        try:
            montage = build_montage(raw.info, name, pairs)
        except EEGError as err:  # a montage this cap cannot make: a one-line reason, never a crash
            assert "\n" not in str(err)
            continue
        for start in (0.0, duration / 2, duration):
            page = display.read_page(raw, montage, start, 10, display.DisplayFilter(0.5, 70.0, 50.0), n_points=1200)
            assert 0 <= page.start and page.start + page.duration <= duration + 1e-6
            assert page.values.shape[0] == len(montage.labels) and np.isfinite(page.values).all()
            fig = figures.page_figure(
                page,
                display.autoscale(page.values, 5.0),
                annotations=annotations.in_window(raw, page.start, page.start + page.duration),
                events=events,
                all_labels=labels,
            )
            # Each row shows its cleaned name, with the recorded one in brackets where they differ.
            shown = [figures.clean_name(n) + (f" [{n}]" if figures.clean_name(n) != n else "") for n in page.labels]
            assert [t.name.replace(" (bad)", "") for t in fig.data] == shown
            assert fig.layout.xaxis.range[0] == pytest.approx(page.start)
        built += 1
    assert built >= 1  # at least "as recorded" always works


@pytest.mark.parametrize(
    "relative", ["edf_biosemi/test.edf", "brainvision/test_CA_208.vhdr", "eeglab_sample/eeglab_data.set"]
)
def test_next_page_walks_the_whole_recording(shared_data, relative):
    rec = _load(shared_data, relative)
    raw = rec.raw
    for timebase in (5, 10):
        starts = _pages(raw, timebase)
        assert starts[0] == 0
        assert starts[-1] + min(timebase, rec.duration_s) == pytest.approx(rec.duration_s, abs=1 / raw.info["sfreq"])
        assert all(b > a for a, b in zip(starts, starts[1:]))


def test_138_channel_biosemi_page_keeps_every_row_and_stim_events(shared_data):
    rec = _load(shared_data, "edf_biosemi/test.edf")
    raw = rec.raw
    montage = build_montage(raw.info, "referential")
    assert len(montage.labels) == 138  # the Status channel is drawn as events, not a trace
    page = display.read_page(raw, montage, 0, 10, n_points=2400)
    fig = figures.page_figure(page, 50.0)
    assert len(fig.data) == 138
    assert len(fig.to_json()) < 3_000_000


def test_stim_events_and_annotation_jumps(shared_data):
    rec = _load(shared_data, "bdf/test_bdf_stim_channel.bdf")
    events = annotations.stim_events(rec.raw)
    assert events and all(0 <= e["time"] <= rec.duration_s and e["channel"] == "Status" for e in events)
    physio = _load(shared_data, PHYSIONET_RUNS[0]).raw
    t1 = [r["onset"] for r in annotations.table(physio) if r["description"] == "T1"]
    assert annotations.next_onset(physio, "T1", 0.0) == pytest.approx(t1[0])
    assert annotations.next_onset(physio, "T1", t1[0]) == pytest.approx(t1[1])
    assert annotations.next_onset(physio, "T1", t1[1], -1) == pytest.approx(t1[0])
    assert annotations.next_onset(physio, "T1", t1[-1]) is None


@pytest.mark.parametrize("relative", PHYSIONET_RUNS)
def test_physionet_runs_in_double_banana(shared_data, relative):
    raw = _load(shared_data, relative).raw
    montage = build_montage(raw.info, "double_banana")
    assert len(montage.labels) == 18 and not montage.missing
    page = display.read_page(raw, montage, 60, 10, display.DisplayFilter(0.5, 70.0, 60.0))
    fig = figures.page_figure(
        page, 7.0, annotations=annotations.in_window(raw, 60, 70), all_labels=annotations.labels(raw)
    )
    assert len(fig.data) == 18 and len(fig.layout.shapes) >= 2  # annotation spans plus the scale bar
