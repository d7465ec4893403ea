"""Component figures: card grid, properties (topomap, activation, spectrum, ERP image), removal preview."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from backend.clean.metrics import variance_removed
from backend.components import figures
from backend.components.ica import ICLABEL_CLASSES, before_after, decompose
from backend.errors import EEGError
from backend.viz import removal


@pytest.fixture(scope="session")
def tutorial_ica(eeglab_recording):
    dec = decompose(eeglab_recording.raw, "fastica")
    _ = dec.probabilities  # labelled once for every test
    return dec


def test_card_order_filters_by_top_class_and_sorts(tutorial_ica):
    by_variance = figures.card_order(tutorial_ica, "variance")
    assert sorted(by_variance) == list(range(tutorial_ica.n_components))
    assert np.all(np.diff(tutorial_ica.variance[by_variance]) <= 0)
    brain = figures.card_order(tutorial_ica, "brain", ["brain"])
    assert brain and all(tutorial_ica.labels[i] == "brain" for i in brain)
    assert np.all(np.diff(tutorial_ica.probabilities[brain, 0]) <= 0)
    with pytest.raises(EEGError, match="cannot sort"):
        figures.card_order(tutorial_ica, "loudness")


def test_card_grid_draws_one_scalp_map_and_bar_per_component(tutorial_ica):
    order = figures.card_order(tutorial_ica, "index", ["eye", "line_noise"])
    fig = figures.card_grid(tutorial_ica, order, columns=4)
    heatmaps = [t for t in fig.data if isinstance(t, go.Heatmap)]
    bars = [t for t in fig.data if isinstance(t, go.Bar) and t.x[0] is not None]
    assert len(heatmaps) == len(order) == len(bars)
    assert np.allclose(bars[0].y, tutorial_ica.probabilities[order[0]])
    assert len(fig.layout.shapes) == 4 * len(order)  # head, nose and two ears each
    titles = [a.text for a in fig.layout.annotations if a.text]
    assert titles[0].startswith(f"IC{order[0]} ·")
    with pytest.raises(EEGError):
        figures.card_grid(tutorial_ica, [])


def test_full_view_figures(tutorial_ica):
    i = int(np.argmax(tutorial_ica.probabilities[:, ICLABEL_CLASSES.index("eye")]))
    topo = figures.topomap(tutorial_ica, i)
    assert any(isinstance(t, go.Heatmap) for t in topo.data)
    act = figures.activation(tutorial_ica, i)
    source = tutorial_ica.sources[i]
    assert len(act.data[0].x) == min(source.size, figures.MAX_TRACE_POINTS)
    # the downsampled trace keeps the extremes (the blinks)
    assert np.max(act.data[0].y) == source.max() and np.min(act.data[0].y) == source.min()
    psd = figures.spectrum(tutorial_ica, i)
    assert psd.data[0].x[0] >= 1.0 and psd.data[0].x[-1] <= tutorial_ica.prepared.info["sfreq"] / 2
    with pytest.raises(EEGError, match="component number"):
        figures.spectrum(tutorial_ica, tutorial_ica.n_components)


def test_erp_image_rows_are_events_or_segments(tutorial_ica):
    assert "square" in figures.event_types(tutorial_ica)
    n_square = int(np.sum(tutorial_ica.prepared.annotations.description == "square"))
    data, times, _ = figures.trials(tutorial_ica, 0, "square", -0.2, 0.8)
    assert 0 < len(data) <= n_square and times[0] == pytest.approx(-0.2, abs=0.01)
    segments, _, _ = figures.trials(tutorial_ica, 0, None, segment_s=2.0)
    assert len(segments) == tutorial_ica.sources.shape[1] // int(2 * tutorial_ica.prepared.info["sfreq"])
    smoothed = figures.erp_image(tutorial_ica, 0, "square", smooth=3)
    assert smoothed.data[0].z.shape[0] == len(data) - 2
    with pytest.raises(EEGError, match="no event"):
        figures.trials(tutorial_ica, 0, "nothing")


def test_preview_shows_the_blink_removed_at_the_front(eeglab_recording, tutorial_ica):
    eye = [int(np.argmax(tutorial_ica.probabilities[:, ICLABEL_CLASSES.index("eye")]))]
    before, after = before_after(eeglab_recording.raw, tutorial_ica, eye)
    names = tutorial_ica.ica.ch_names
    removed = variance_removed(before, after, names)
    assert list(removed) == names
    assert removed["Fpz"] > 30 and removed["Fpz"] > removed["Oz"]
    overlay = figures.overlay(before, after, names, 0.0, 5.0)
    assert len(overlay.data) == 2 * len(names)
    assert len(overlay.data[0].x) == int(5.0 * before.info["sfreq"])
    assert removal.variance_removed_figure(removed).data[0].y.shape == (len(names),)


def test_card_bars_are_labelled_under_each_card_on_hover_and_in_a_legend(tutorial_ica):
    fig = figures.card_grid(tutorial_ica, [0, 1, 2], columns=3)
    bars = [t for t in fig.data if isinstance(t, go.Bar) and t.x[0] is not None]
    names = [figures.CLASS_NAMES[c] for c in ICLABEL_CLASSES]
    for bar in bars:
        assert list(bar.x) == names and "%{x}" in bar.hovertemplate  # the class's name on hover
        axis = fig.layout[bar.xaxis.replace("x", "xaxis")]
        assert axis.visible is not False and list(axis.ticktext) == ["Br", "Mu", "Ey", "He", "LN", "CN", "Ot"]
    assert [t.name for t in fig.data if t.showlegend] == names  # the colour key
