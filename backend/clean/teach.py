"""Known-truth cleaning: inject artifacts on a clean stretch, run a pipeline, score it.

Used by the Clean page's teaching mode and by ``benchmarks/clean.py``; the
transformer denoiser is scored the same way once it is a registered step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import mne
import numpy as np

from backend import steps
from backend.clean import metrics
from backend.clean.inject import Injection, inject_raw
from backend.errors import EEGError

# EEGdenoiseNet's clean segments were band-passed 1–80 Hz; ours are too, below Nyquist.
CLEAN_BAND_HZ = (1.0, 80.0)


@dataclass(frozen=True)
class KnownTruthCase:
    """An injection and the Info of its channels (positions included)."""

    injection: Injection
    info: mne.Info


def known_truth_case(
    raw,
    kinds="eye",
    snr_db: float = -3.0,
    seed: int = 0,
    duration_s: float = 30.0,
    start_s: float | None = None,
    line_freq: float = 50.0,
) -> KnownTruthCase:
    """The quietest (or chosen) stretch of ``raw``'s good EEG plus seeded artifacts at ``snr_db``.

    The clean signal is band-passed like EEGdenoiseNet's (1–80 Hz, below
    Nyquist); the filter runs on the whole recording before the stretch is cut,
    so it has no edge effects.

    Parameters
    ----------
    raw : mne.io.BaseRaw | Recording
    """
    raw = getattr(raw, "raw", raw)
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if len(picks) < 2:
        raise EEGError("the teaching mode needs at least 2 good EEG channels")
    high = min(CLEAN_BAND_HZ[1], 0.45 * raw.info["sfreq"])
    filtered = raw.copy().pick(picks).load_data().filter(CLEAN_BAND_HZ[0], high, verbose="error")
    injection, info = inject_raw(filtered, kinds, snr_db, seed, start_s, duration_s, line_freq)
    return KnownTruthCase(injection, info)


def run_on_case(case: KnownTruthCase, pipeline: list[dict]) -> tuple[np.ndarray, list[dict], float]:
    """Run pipeline steps on the noisy signal of ``case``.

    Returns
    -------
    cleaned : ndarray, shape (n_channels, n_times), volts
    reports : list of dict
        Each step's ``{"name", "params", "report"}``.
    seconds : float
        Compute time of the pipeline.
    """
    raw = case.injection.to_raw(case.info, "noisy")
    reports = []
    started = time.perf_counter()
    for step in pipeline:
        raw, report = steps.get(step["name"]).run(raw, step.get("params", {}))
        reports.append({"name": step["name"], "params": step.get("params", {}), "report": dict(report)})
        if raw.info["sfreq"] != case.injection.sfreq or raw.ch_names != case.injection.ch_names:
            raise EEGError(
                f"{step['name']} changes the rate or the channels: it cannot be scored against the clean signal"
            )
    seconds = time.perf_counter() - started
    return raw.get_data(), reports, seconds


def score_case(case: KnownTruthCase, cleaned: np.ndarray) -> dict[str, float]:
    """EEGdenoiseNet metrics of ``cleaned`` against the case's clean signal."""
    inj = case.injection
    return metrics.score(inj.clean, inj.noisy, cleaned, inj.sfreq)
