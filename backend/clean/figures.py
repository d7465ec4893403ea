"""Before/after views of a cleaning pipeline: overlaid traces, spectra, step table.

The variance removed per channel is measured by :func:`backend.clean.metrics.variance_removed`
and drawn by :mod:`backend.viz.removal` (the Components page shows the same).

Signals are volts inside; the figures show µV (traces) and dB re 1 µV²/Hz (spectra).
"""

from __future__ import annotations

import json

import mne
import numpy as np
import plotly.graph_objects as go
from tsdownsample import MinMaxLTTBDownsampler

from backend import steps
from backend.clean.metrics import common_eeg, psd
from backend.errors import EEGError

UV = 1e6
MAX_POINTS = 2000  # per trace: what a screen can show, whatever the rate
BEFORE_COLOR = "rgba(120, 120, 120, 0.55)"
AFTER_COLOR = "#1f4e9c"
TRUTH_COLOR = "#2a9d3c"


def _thin(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_POINTS points keeping peaks (MinMax-LTTB), so blinks and pops stay visible."""
    if len(values) <= MAX_POINTS:
        return times, values
    index = MinMaxLTTBDownsampler().downsample(times, np.ascontiguousarray(values), n_out=MAX_POINTS)
    return times[index], values[index]


def overlay_figure(
    signals: list[tuple[str, np.ndarray, float, str, float]],
    names: list[str],
    start_s: float = 0.0,
    title: str = "",
    spacing_uv: float | None = None,
) -> go.Figure:
    """Stacked channels with several signals overlaid (e.g. original faint, cleaned bold).

    Parameters
    ----------
    signals : list of (label, data, sfreq, color, width)
        ``data`` is ``(n_channels, n_times)`` in volts, rows in the order of ``names``.
    names : list of str
    start_s : float
        Time of the first sample, in seconds.
    spacing_uv : float | None
        Distance between channels in µV; None picks 6 median standard deviations of the first signal.
    """
    first = signals[0][1]
    if spacing_uv is None:
        spacing_uv = float(6 * np.median(np.std(first, axis=1)) * UV) or 1.0
    fig = go.Figure()
    n = len(names)
    for label, data, sfreq, color, width in signals:
        times = start_s + np.arange(data.shape[1]) / sfreq
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        gap = np.array([np.nan])  # breaks the line between channels
        for i in range(n):
            t, v = _thin(times, data[i] * UV)
            xs += [t, gap]
            ys += [v - np.mean(v) + (n - 1 - i) * spacing_uv, gap]
        fig.add_trace(
            go.Scattergl(
                x=np.concatenate(xs),
                y=np.concatenate(ys),
                mode="lines",
                name=label,
                line={"color": color, "width": width},
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        title=title,
        height=max(320, 26 * n + 90),
        margin={"l": 60, "r": 10, "t": 40 if title else 10, "b": 40},
        xaxis_title="time (s)",
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        yaxis={
            "tickvals": [(n - 1 - i) * spacing_uv for i in range(n)],
            "ticktext": names,
            "showgrid": False,
            "zeroline": False,
        },
        plot_bgcolor="white",
    )
    fig.add_annotation(
        text=f"{spacing_uv:.0f} µV between channels",
        xref="paper",
        yref="paper",
        x=1,
        y=-0.12,
        showarrow=False,
        font={"size": 11, "color": "#666"},
    )
    return fig


def before_after_traces(
    before: mne.io.BaseRaw,
    after: mne.io.BaseRaw,
    start_s: float = 0.0,
    duration_s: float = 10.0,
    max_channels: int = 20,
) -> go.Figure:
    """The original (faint) and the cleaned signals (bold) of up to ``max_channels`` EEG channels."""
    names = common_eeg(before, after)[:max_channels]
    signals = []
    for label, raw, color, width in (("original", before, BEFORE_COLOR, 1.0), ("cleaned", after, AFTER_COLOR, 1.5)):
        sfreq = raw.info["sfreq"]
        start = int(round(start_s * sfreq))
        stop = min(raw.n_times, start + int(round(duration_s * sfreq)))
        if stop <= start:
            raise EEGError(f"the window starting at {start_s:g} s lies past the end of the recording")
        signals.append((label, raw.get_data(picks=names, start=start, stop=stop), sfreq, color, width))
    return overlay_figure(signals, names, start_s)


def _mean_psd_db(data: np.ndarray, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    freqs, power = psd(data, sfreq)
    return freqs, 10 * np.log10(np.maximum(power.mean(axis=0) * UV**2, 1e-20))


def psd_figure(signals: list[tuple[str, np.ndarray, float, str]], title: str = "") -> go.Figure:
    """Mean Welch spectra over channels, in dB re 1 µV²/Hz; ``signals`` are (label, data, sfreq, color)."""
    fig = go.Figure()
    for label, data, sfreq, color in signals:
        freqs, db = _mean_psd_db(data, sfreq)
        fig.add_trace(go.Scatter(x=freqs, y=db, mode="lines", name=label, line={"color": color}))
    fig.update_layout(
        title=title,
        height=340,
        xaxis_title="frequency (Hz)",
        yaxis_title="power (dB re 1 µV²/Hz)",
        margin={"l": 60, "r": 10, "t": 40 if title else 10, "b": 40},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
    )
    return fig


def before_after_psd(before: mne.io.BaseRaw, after: mne.io.BaseRaw) -> go.Figure:
    """Spectra of the EEG before and after cleaning (each at its own rate)."""
    names = common_eeg(before, after)
    return psd_figure(
        [
            ("original", before.get_data(picks=names), before.info["sfreq"], BEFORE_COLOR),
            ("cleaned", after.get_data(picks=names), after.info["sfreq"], AFTER_COLOR),
        ]
    )


def describe_report(name: str, report: dict) -> str:
    """One line saying what a step changed, from its report dict."""
    parts = []
    if "band_hz" in report:
        low, high = report["band_hz"]
        parts.append(f"kept {low or 0:g}–{high:g} Hz" if high else f"high-pass at {low:g} Hz")
    if "notch_hz" in report:
        parts.append("notched " + ", ".join(f"{f:g}" for f in report["notch_hz"]) + " Hz")
    if "sfreq_hz" in report:
        parts.append(f"rate {report['sfreq_hz'][0]:g} → {report['sfreq_hz'][1]:g} Hz")
    if "reference" in report:
        ref = report["reference"]
        parts.append("reference: " + (ref if isinstance(ref, str) else " + ".join(ref)))
    if "bad_channels" in report:
        parts.append("bad: " + (", ".join(report["bad_channels"]) or "none found"))
    if report.get("interpolated"):
        parts.append("interpolated " + ", ".join(report["interpolated"]))
    if "not_interpolated" in report:
        parts.append(report["not_interpolated"])
    for what, why in report.get("skipped", {}).items():
        parts.append(f"{what} skipped ({why})")
    if "seconds_reconstructed" in report:
        parts.append(
            f"ASR reconstructed {report['seconds_reconstructed']:g} s "
            f"({100 * report.get('fraction_reconstructed', 0):.1f}% of the time)"
        )
    if "warning" in report:
        parts.append("warning: " + report["warning"])
    if "components_removed" in report:
        removed = report["components_removed"]
        parts.append(f"removed {len(removed)} component(s)" + (f": {', '.join(map(str, removed))}" if removed else ""))
    if "channels_denoised" in report:
        parts.append(
            f"denoised {report['channels_denoised']} channel(s), removing "
            f"{100 * report.get('removed_rms_fraction', 0):.1f}% of their RMS"
        )
    if "imported" in report:
        parts.append(f"imported {report['imported']} annotation(s)")
    if "n_annotations" in report:
        parts.append(f"{report['n_annotations']} annotation(s) now")
    if report.get("channels_not_denoised"):
        parts.append("not denoised (no standard position): " + ", ".join(report["channels_not_denoised"]))
    known = {
        "band_hz",
        "notch_hz",
        "sfreq_hz",
        "n_samples",
        "reference",
        "bad_channels",
        "by_method",
        "interpolated",
        "not_interpolated",
        "skipped",
        "seconds_reconstructed",
        "fraction_reconstructed",
        "calibration_s",
        "warning",
        "components_removed",
        "channels_denoised",
        "channels_not_denoised",
        "removed_rms_fraction",
        "imported",
        "n_annotations",
    }
    rest = {k: v for k, v in report.items() if k not in known}
    if rest:  # a key no branch above puts in words (tests/test_step_reports.py keeps this empty)
        parts.append(json.dumps(rest, default=str))
    return "; ".join(parts) or "done"


def changes_table(history) -> list[dict[str, str]]:
    """Rows ``{"step", "parameters", "changed"}`` for the given history steps, in people's words."""
    return [
        {
            "step": steps.get(s.name).title,
            "parameters": steps.settings_words(s.name, s.params),
            "changed": describe_report(s.name, s.report),
        }
        for s in history
    ]


def changes_line(history) -> str:
    """The given history steps and what each changed, as one line ("Band-pass 1–40 Hz: kept 1–40 Hz; …")."""
    return "; ".join(f"{steps.describe(s.name, s.params)}: {describe_report(s.name, s.report)}" for s in history)


def teaching_traces(injection, cleaned: np.ndarray, max_channels: int = 12) -> go.Figure:
    """Known-truth view: noisy (faint), cleaned (bold) and the true clean signal (green) overlaid.

    Shows the ``max_channels`` channels the artifact hit hardest, in montage order.
    """
    hit = np.sqrt(np.mean(injection.artifact**2, axis=1))
    rows = np.sort(np.argsort(hit)[::-1][:max_channels])
    names = [injection.ch_names[i] for i in rows]
    sfreq = injection.sfreq
    return overlay_figure(
        [
            ("with artifacts", injection.noisy[rows], sfreq, BEFORE_COLOR, 1.0),
            ("true clean signal", injection.clean[rows], sfreq, TRUTH_COLOR, 1.0),
            ("cleaned", cleaned[rows], sfreq, AFTER_COLOR, 1.5),
        ],
        names,
        injection.start_s,
    )


def teaching_psd(injection, cleaned: np.ndarray) -> go.Figure:
    """Spectra of the clean, noisy and cleaned signals."""
    sfreq = injection.sfreq
    return psd_figure(
        [
            ("with artifacts", injection.noisy, sfreq, BEFORE_COLOR),
            ("true clean signal", injection.clean, sfreq, TRUTH_COLOR),
            ("cleaned", cleaned, sfreq, AFTER_COLOR),
        ]
    )
