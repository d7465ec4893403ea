"""The Library (Load) page's summary of the open recording: the start whole, the open sample marked, no repeats."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from backend.config import BUNDLED_SAMPLES
from backend.io import load_recording
from tests.conftest import open_app


def test_channels_without_a_position_are_named_once_not_also_as_a_load_warning(tmp_path):
    info = mne.create_info(["Cz", "Pz", "X1"], 100.0, "eeg")
    path = tmp_path / "odd_raw.fif"
    mne.io.RawArray(np.random.default_rng(0).normal(0, 1e-5, (3, 1000)), info).save(path)
    summary = load_recording([path]).summary()
    assert summary["montage"]["unmatched"] == ["X1"]  # the page's caption and the CLI's montage line
    assert not any("X1" in w for w in summary["warnings"])


@pytest.mark.slow
def test_start_is_shown_whole_and_the_open_sample_is_marked():
    at = open_app(timeout=120)  # opens on the default sample (EEGLAB, anonymised)
    assert "**Start** anonymised" in [m.value for m in at.markdown]
    assert "Start" not in [m.label for m in at.metric]  # a metric's narrow column cut the date off
    eeglab, physionet = list(BUNDLED_SAMPLES)
    assert f"Open now: **{eeglab}**" in [c.value for c in at.caption]

    at.selectbox(key="sample_choice").set_value(physionet).run()
    at.button(key="open_sample").click().run()
    assert not at.exception
    assert "**Start** 2009-08-12 16:15 UTC" in [m.value for m in at.markdown]
    assert f"Open now: **{physionet}**" in [c.value for c in at.caption]
    assert at.selectbox(key="sample_choice").value == physionet  # the choice is kept
