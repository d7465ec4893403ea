"""Benchmark of the recording report on a 4-hour recording: build time and file size (HTML and PDF).

A synthetic 4-hour, 21-channel 10-20 recording at 200 Hz (noise with a 10 Hz rhythm,
an annotation every 10 s: 1440 in all) with a band-pass in its history; the report
holds three pages of traces, the whole recording's spectrum and band-power maps.
The issue's bar: under 20 MB and under 30 s each. Last line: one JSON object.
Run: ``nice python benchmarks/report.py``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mne  # noqa: E402
import numpy as np  # noqa: E402

from backend.browse import figures, spectra  # noqa: E402
from backend.recording import Recording, Step  # noqa: E402
from backend.report.build import Report, item_from_figure  # noqa: E402
from backend.report.items import browse_item  # noqa: E402

CHANNELS = "Fp1 Fp2 F7 F3 Fz F4 F8 T7 C3 Cz C4 T8 P7 P3 Pz P4 P8 O1 O2 A1 A2".split()


def four_hours(sfreq: float = 200.0, hours: float = 4.0) -> Recording:
    n = int(hours * 3600 * sfreq)
    rng = np.random.default_rng(0)
    t = np.arange(n) / sfreq
    data = rng.standard_normal((len(CHANNELS), n)).astype(np.float64) * 10e-6
    data += 20e-6 * np.sin(2 * np.pi * 10 * t)[None, :]
    info = mne.create_info(CHANNELS, sfreq, "eeg")
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_montage("standard_1020", on_missing="ignore")
    onsets = np.arange(0, hours * 3600 - 10, 10.0)
    raw.set_annotations(mne.Annotations(onsets, 1.0, ["event"] * len(onsets)))
    rec = Recording(
        raw, ("four_hours.fif",), "0" * 64, "FIF", (Step("load", {"files": ["four_hours.fif"], "format": "FIF"}),)
    )
    return rec.apply("bandpass", l_freq=1.0, h_freq=40.0)


def main() -> None:
    mne.set_log_level("error")
    t0 = time.perf_counter()
    rec = four_hours()
    made_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    items = [browse_item(rec, start) for start in (60.0, 3600.0, 10_000.0)]
    freqs, psd, names = spectra.welch(rec.raw)
    items.append(item_from_figure("spectra", "Spectrum", figures.psd_figure(freqs, psd, names, title="PSD")))
    picks = mne.pick_channels(rec.raw.ch_names, names, ordered=True)
    topo = figures.band_topomaps_figure(spectra.band_powers(freqs, psd), rec.raw.info, picks, title="Band power")
    items.append(item_from_figure("spectra", "Band power", topo))
    items_s = time.perf_counter() - t0
    report = Report(rec, items, reviewer="benchmark", impression="synthetic")
    t0 = time.perf_counter()
    html = report.html().encode()
    html_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pdf = report.pdf()
    pdf_s = time.perf_counter() - t0
    out = {
        "duration_h": round(rec.duration_s / 3600, 2),
        "channels": len(rec.raw.ch_names),
        "annotations": len(rec.raw.annotations),
        "synthesis_and_bandpass_s": round(made_s, 1),
        "items_s": round(items_s, 2),
        "html_s": round(html_s, 2),
        "html_MB": round(len(html) / 1e6, 2),
        "pdf_s": round(pdf_s, 2),
        "pdf_MB": round(len(pdf) / 1e6, 2),
    }
    for k, v in out.items():
        print(f"{k:26s} {v}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
