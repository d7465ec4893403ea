"""Welch spectra, band powers and their figures on real recordings."""

import mne
import numpy as np
import pytest
from scipy import signal

from backend.browse import figures, spectra
from backend.errors import EEGError


def test_blockwise_welch_matches_welch_on_the_whole_recording(eeglab_recording):
    raw = eeglab_recording.raw
    freqs, psd, names = spectra.welch(raw)
    picks = mne.pick_types(raw.info, eeg=True)
    assert names == [raw.ch_names[p] for p in picks]
    ref_f, ref = signal.welch(raw.get_data(picks=picks), fs=raw.info["sfreq"], nperseg=256)
    np.testing.assert_allclose(freqs, ref_f)
    # Block edges drop a few segments: the averages agree to a few per cent.
    ratio = np.median(psd[:, 2:-2] / ref[:, 2:-2])
    assert 0.95 < ratio < 1.05


def test_band_powers_integrate_the_spectrum(physionet_recording):
    raw = physionet_recording.raw
    freqs, psd, names = spectra.welch(raw, start=10, duration=30, fmax=60)
    assert freqs[-1] <= 60 and psd.shape == (64, len(freqs))
    powers = spectra.band_powers(freqs, psd)
    assert list(powers) == ["delta", "theta", "alpha", "beta", "gamma"]
    df = freqs[1] - freqs[0]
    in_alpha = (freqs >= 8) & (freqs < 13)
    np.testing.assert_allclose(powers["alpha"], psd[:, in_alpha].sum(axis=1) * df)
    assert all((p > 0).all() for p in powers.values())


def test_psd_and_band_topomap_figures(physionet_recording):
    raw = physionet_recording.raw
    freqs, psd, names = spectra.welch(raw, start=0, duration=10)
    fig = figures.psd_figure(freqs, psd, names)
    assert len(fig.data) == 64 and fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(fig.data[0].y, psd[0] * 1e12)
    assert {a.text for a in fig.layout.annotations} >= {"delta", "alpha", "beta"}  # the shaded bands
    assert sum(s.type == "rect" for s in fig.layout.shapes) == 5
    picks = mne.pick_channels(raw.ch_names, names, ordered=True)
    topo = figures.band_topomaps_figure(spectra.band_powers(freqs, psd), raw.info, picks)
    heatmaps = [t for t in topo.data if t.type == "heatmap"]
    assert len(heatmaps) == 5
    assert len(topo.layout.shapes) == 5 * 4  # head, nose and two ears on each map
    # Each map has its own colour scale, centred under it.
    assert all(h.showscale for h in heatmaps)
    centres = [h.colorbar.x for h in heatmaps]
    domains = [topo.layout[f"xaxis{'' if k == 1 else k}"].domain for k in range(1, 6)]
    assert all(lo < c < hi for c, (lo, hi) in zip(centres, domains))


def test_psd_log_axis_labels_decades_only(physionet_recording):
    """Plotly's default log axis labels the 2s and 5s between decades ("5", "2"): only decades here."""
    freqs, psd, names = spectra.welch(physionet_recording.raw, start=0, duration=10)
    yaxis = figures.psd_figure(freqs, psd, names).layout.yaxis
    assert yaxis.dtick == 1 and yaxis.exponentformat == "power"


def test_spectrum_refuses_a_span_without_channels(physionet_recording):
    raw = physionet_recording.raw.copy()
    raw.info["bads"] = list(raw.ch_names)
    with pytest.raises(EEGError, match="no EEG channels"):
        spectra.welch(raw)
