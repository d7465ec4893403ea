"""Plotly figures of a study: quality metrics across the cohort, group classification, grand averages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

METRIC_LABELS = {
    "duration_s": "Duration (s)",
    "n_bad": "Bad channels",
    "asr_s": "Seconds reconstructed by ASR",
    "variance_removed": "Variance removed by ICA (fraction)",
    "line_noise_ratio": "Line-noise ratio",
    "high_amplitude_fraction": "Fraction of samples > 100 µV",
}
OUTLIER_COLOR = "#d62728"
POINT_COLOR = "#1f77b4"


def _label(row: dict) -> str:
    parts = [f"sub-{row.get('subject')}"] + [
        f"{k}-{row[v]}" for k, v in (("ses", "session"), ("task", "task"), ("run", "run")) if row.get(v)
    ]
    return "_".join(parts)


def quality_figure(rows: Sequence[dict], metric: str) -> go.Figure:
    """One metric across the cohort: a box and a point per recording, outliers in red with their reason.

    ``rows`` are the quality table's (after :func:`backend.study.quality.flag_outliers`).
    """
    usable = [r for r in rows if r.get("status") in ("done", "skipped") and isinstance(r.get(metric), (int, float))]
    values = [float(r[metric]) for r in usable]
    labels = [_label(r) for r in usable]
    colors = [
        OUTLIER_COLOR if r.get("outlier") and metric in (r.get("outlier_reason") or "") else POINT_COLOR for r in usable
    ]
    hover = [
        f"{lab}<br>{v:g}" + (f"<br>{r['outlier_reason']}" if c == OUTLIER_COLOR else "")
        for lab, v, r, c in zip(labels, values, usable, colors)
    ]
    fig = go.Figure()
    fig.add_trace(go.Box(y=values, name="cohort", boxpoints=False, marker_color="#aaaaaa", showlegend=False))
    fig.add_trace(
        go.Scatter(
            x=["cohort"] * len(values),
            y=values,
            mode="markers",
            marker=dict(color=colors, size=9),
            text=hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig.update_layout(
        title=METRIC_LABELS.get(metric, metric),
        yaxis_title=METRIC_LABELS.get(metric, metric),
        margin=dict(l=60, r=20, t=50, b=40),
        height=380,
    )
    return fig


def classification_figure(result: dict) -> go.Figure:
    """Within-subject ROC-AUC per subject, with the group mean and its 95 % confidence interval.

    ``result`` is :func:`backend.study.group.classify_study`'s.
    """
    rows = [r for r in result["subjects"] if r.get("status") == "done"]
    names = [f"sub-{r['subject']}" + (f" ses-{r['session']}" if r.get("session") else "") for r in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=names,
            y=[r["roc_auc"] for r in rows],
            mode="markers",
            name="subject (k-fold mean)",
            error_y=dict(type="data", array=[r.get("roc_auc_std", 0.0) for r in rows], visible=True),
            marker=dict(size=10, color=POINT_COLOR),
        )
    )
    mean, (low, high) = result["roc_auc_mean"], result["roc_auc_ci95"]
    if names and np.isfinite(mean):
        fig.add_hline(y=mean, line_color="black", annotation_text=f"group mean {mean:.3f}")
        if np.isfinite(low) and np.isfinite(high):
            fig.add_hrect(
                y0=low,
                y1=high,
                fillcolor="black",
                opacity=0.1,
                line_width=0,
                annotation_text="95 % CI",
                annotation_position="bottom right",
            )
    if result.get("loso"):
        loso = [r for r in result["loso"]["subjects"] if r.get("status") == "done"]
        fig.add_trace(
            go.Scatter(
                x=[f"sub-{r['subject']}" for r in loso],
                y=[r["roc_auc"] for r in loso],
                mode="markers",
                name="leave-one-subject-out",
                marker=dict(size=9, symbol="diamond", color="#ff7f0e"),
            )
        )
    fig.add_hline(y=0.5, line_dash="dot", line_color="#888888", annotation_text="chance")
    fig.update_layout(
        title=f"ROC-AUC per subject · {result['pipeline']}",
        yaxis_title="ROC-AUC",
        yaxis_range=[0, 1.05],
        margin=dict(l=60, r=20, t=50, b=40),
        height=400,
    )
    return fig


def spectra_figure(averages: dict) -> go.Figure:
    """Each subject's spectrum (thin) and the grand average (thick); ``averages`` from ``averages_study``."""
    fig = go.Figure()
    for r in averages["subjects"]:
        if r.get("status") == "done":
            fig.add_trace(
                go.Scatter(
                    x=r["freqs"],
                    y=r["psd_db"],
                    mode="lines",
                    name=f"sub-{r['subject']}",
                    line=dict(width=1),
                    opacity=0.6,
                )
            )
    grand = averages.get("grand", {})
    if "psd_db" in grand:
        fig.add_trace(
            go.Scatter(
                x=grand["freqs"],
                y=grand["psd_db"],
                mode="lines",
                name="grand average",
                line=dict(width=3, color="black"),
            )
        )
    fig.update_layout(
        title="EEG spectrum",
        xaxis_title="Frequency (Hz)",
        yaxis_title="Power (dB re 1 V²/Hz)",
        margin=dict(l=60, r=20, t=50, b=40),
        height=400,
    )
    return fig


def event_average_figure(averages: dict, condition: str) -> go.Figure:
    """Event average of one condition: each subject's line and the grand average, in µV."""
    fig = go.Figure()
    channel = None
    for r in averages["subjects"]:
        if r.get("status") == "done" and condition in r.get("erp", {}):
            channel = r["channel"]
            fig.add_trace(
                go.Scatter(
                    x=r["times"],
                    y=np.asarray(r["erp"][condition]) * 1e6,
                    mode="lines",
                    name=f"sub-{r['subject']}",
                    line=dict(width=1),
                    opacity=0.6,
                )
            )
    grand = averages.get("grand", {})
    if condition in grand.get("erp", {}):
        fig.add_trace(
            go.Scatter(
                x=grand["times"],
                y=np.asarray(grand["erp"][condition]) * 1e6,
                mode="lines",
                name="grand average",
                line=dict(width=3, color="black"),
            )
        )
    fig.update_layout(
        title=f"{condition} average" + (f" · {channel}" if channel else ""),
        xaxis_title="Time from event (s)",
        yaxis_title="Amplitude (µV)",
        margin=dict(l=60, r=20, t=50, b=40),
        height=400,
    )
    return fig
