"""A small real report shared by the report tests: a filtered, annotated PhysioNet run with hostile text in it."""

from __future__ import annotations

from backend.browse import figures, spectra
from backend.report.build import Report, item_from_figure
from backend.report.items import browse_item

HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>"


def sample_report(recording) -> Report:
    """A page of traces and a spectrum (captioned with script), a reviewer and an impression."""
    rec = (
        recording.apply("bandpass", l_freq=1.0, h_freq=30.0)
        .apply("notch", freq=50.0)
        .apply("add_annotation", onset=12.5, duration=1.25, description="spike?")
    )
    freqs, psd, names = spectra.welch(rec.raw, start=0.0, duration=20.0)
    items = [
        browse_item(rec, 10.0, sensitivity=20.0),
        item_from_figure("spectra", "Spectrum", figures.psd_figure(freqs, psd, names, title="PSD"), caption=HOSTILE),
    ]
    return Report(rec, items, reviewer="Dr. Ada Example", impression="Normal background.\n" + HOSTILE)
