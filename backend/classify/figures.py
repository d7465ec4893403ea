"""Plotly figures of the Classify stage (pages only place them)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from backend.classify.chance import PermutationTest
from backend.classify.embedding import PotatoFlags
from backend.classify.timeline import Timeline
from backend.classify.validate import CVResult

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=20, t=40, b=40))


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def fold_scores_figure(result: CVResult) -> go.Figure:
    """Accuracy and ROC-AUC of each fold, with the chance level."""
    folds = [f"fold {f.fold}" for f in result.folds]
    fig = go.Figure()
    fig.add_bar(x=folds, y=[f.accuracy for f in result.folds], name="accuracy")
    fig.add_bar(x=folds, y=[f.roc_auc for f in result.folds], name="ROC-AUC")
    fig.add_hline(
        y=1 / len(result.classes) if len(result.classes) > 2 else 0.5, line_dash="dot", annotation_text="chance"
    )
    fig.update_layout(title=f"{result.pipeline}: per-fold scores", yaxis=dict(range=[0, 1]), barmode="group", **_LAYOUT)
    return fig


def comparison_figure(results: Sequence[CVResult]) -> go.Figure:
    """Mean ROC-AUC of several pipelines, with its 95 % interval as error bars and each fold as a dot."""
    fig = go.Figure()
    names = [r.pipeline for r in results]
    means = np.array([r.roc_auc_mean for r in results])
    intervals = np.array([r.roc_auc_ci95 for r in results]).reshape(len(results), 2)
    fig.add_bar(
        x=names,
        y=means,
        error_y=dict(type="data", symmetric=False, array=intervals[:, 1] - means, arrayminus=means - intervals[:, 0]),
        customdata=np.column_stack([intervals, [r.roc_auc_std for r in results]]),
        hovertemplate="mean %{y:.2f} ± %{customdata[2]:.2f} over folds<br>"
        "95 % interval %{customdata[0]:.2f}–%{customdata[1]:.2f}<extra></extra>",
        marker_color=[_colour(i) for i in range(len(results))],
        name="mean ROC-AUC",
    )
    for r in results:
        fig.add_scatter(
            x=[r.pipeline] * len(r.folds),
            y=[f.roc_auc for f in r.folds],
            mode="markers",
            marker=dict(color="black", size=6),
            showlegend=False,
            hovertemplate="%{y:.2f}<extra>fold</extra>",
        )
    fig.add_hline(y=0.5, line_dash="dot", annotation_text="chance")
    fig.update_layout(
        title="Pipelines compared (ROC-AUC, 95 % interval)", yaxis=dict(range=[0, 1], title="ROC-AUC"), **_LAYOUT
    )
    return fig


def permutation_figure(test: PermutationTest, pipeline: str = "") -> go.Figure:
    """Histogram of the mean ROC-AUC over shuffled labels, with the chance level and the observed score marked."""
    fig = go.Figure()
    # Counted here, drawn as bars: the report's PDF redraws bars (not Plotly's own histograms).
    counts, edges = np.histogram(test.null[np.isfinite(test.null)], bins=40, range=(0.0, 1.0))
    fig.add_bar(
        x=(edges[:-1] + edges[1:]) / 2,
        y=counts,
        width=edges[1] - edges[0],
        marker_color="#9e9e9e",
        name="shuffled labels",
        customdata=np.column_stack([edges[:-1], edges[1:]]),
        hovertemplate="ROC-AUC %{customdata[0]:.3f}–%{customdata[1]:.3f}: %{y} shuffles<extra></extra>",
    )
    fig.add_vline(
        x=test.chance_95, line_dash="dot", line_color="black", annotation_text=f"chance (95th pct) {test.chance_95:.2f}"
    )
    fig.add_vline(
        x=test.observed,
        line_color=PALETTE[1],
        line_width=3,
        annotation_text=f"observed {test.observed:.2f} (p = {test.p_value:.3f})",
        annotation_position="top left",
    )
    title = f"{pipeline + ': ' if pipeline else ''}permutation test, {test.n} label shuffles"
    fig.update_layout(
        title=title,
        xaxis=dict(range=[0, 1], title="mean ROC-AUC over folds"),
        yaxis_title="shuffles",
        showlegend=False,
        **_LAYOUT,
    )
    return fig


def confusion_figure(result: CVResult) -> go.Figure:
    """Out-of-fold confusion matrix (counts, rows true class)."""
    matrix = result.confusion()
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=result.classes,
            y=result.classes,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            showscale=False,
        )
    )
    fig.update_layout(
        title=f"{result.pipeline}: confusion (out-of-fold)",
        xaxis_title="predicted",
        yaxis=dict(title="true", autorange="reversed"),
        **_LAYOUT,
    )
    return fig


def roc_figure(results: Sequence[CVResult]) -> go.Figure:
    """ROC curves of the pooled out-of-fold probabilities of one or more pipelines."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), name="chance")
    for i, r in enumerate(results):
        for c, (fpr, tpr) in r.roc().items():
            label = r.pipeline if len(r.classes) == 2 else f"{r.pipeline} · {c}"
            fig.add_scatter(x=fpr, y=tpr, mode="lines", name=label, line=dict(color=_colour(i)))
    fig.update_layout(
        title="ROC (out-of-fold)", xaxis_title="false-positive rate", yaxis_title="true-positive rate", **_LAYOUT
    )
    return fig


def timeline_figure(
    timeline: Timeline, potato: PotatoFlags | None = None, t_range: tuple[float, float] | None = None
) -> go.Figure:
    """Probability strips, one row per class, on the recording's time axis (seconds, as Browse),
    with the true annotations of the classes shaded and the potato's artifact windows marked."""
    n = len(timeline.classes)
    rows = n + (1 if potato is not None else 0)
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        subplot_titles=[f"P({c})" for c in timeline.classes] + (["potato z-score"] if potato is not None else []),
    )
    for i, c in enumerate(timeline.classes):
        fig.add_scatter(
            x=timeline.times,
            y=timeline.proba[:, i],
            mode="lines",
            line=dict(color=_colour(i), width=1.5),
            fill="tozeroy",
            name=f"P({c})",
            row=i + 1,
            col=1,
        )
        fig.update_yaxes(range=[0, 1], row=i + 1, col=1)
        for onset, duration, label in timeline.events:
            if label == c:
                fig.add_vrect(
                    x0=onset,
                    x1=onset + max(duration, timeline.step_s),
                    fillcolor=_colour(i),
                    opacity=0.15,
                    line_width=0,
                    row=i + 1,
                    col=1,
                )
    if potato is not None:
        centres = potato.starts + potato.window_s / 2
        fig.add_scatter(
            x=centres, y=potato.zscore, mode="lines", line=dict(color="grey"), name="potato z", row=rows, col=1
        )
        flagged = potato.artifact
        fig.add_scatter(
            x=centres[flagged],
            y=potato.zscore[flagged],
            mode="markers",
            marker=dict(color="black", symbol="x"),
            name="artifact window",
            row=rows,
            col=1,
        )
        fig.add_hline(y=potato.threshold, line_dash="dot", row=rows, col=1)
    fig.update_xaxes(title_text="time (s)", row=rows, col=1)
    if t_range is not None:
        fig.update_xaxes(range=list(t_range))
    fig.update_layout(height=140 * rows + 80, title="Classifier output over time (shaded: true annotations)", **_LAYOUT)
    return fig


def covariance_map_figure(coords: np.ndarray, labels: np.ndarray, classes: Sequence[str], method: str) -> go.Figure:
    """Scatter of the trials' 2-D covariance map, coloured by class."""
    fig = go.Figure()
    for i, c in enumerate(classes):
        mask = np.asarray(labels) == c
        fig.add_scatter(
            x=coords[mask, 0],
            y=coords[mask, 1],
            mode="markers",
            name=c,
            marker=dict(color=_colour(i), size=8),
            hovertemplate=f"{c} · trial %{{customdata}}<extra></extra>",
            customdata=np.flatnonzero(mask),
        )
    title = (
        "Trial covariances: tangent-space PCA"
        if method == "tangent-pca"
        else "Trial covariances: Riemannian spectral embedding"
    )
    fig.update_layout(title=title, xaxis_title="dimension 1", yaxis_title="dimension 2", **_LAYOUT)
    return fig
