"""Classifier outputs over time: a trained model applied on sliding windows of a whole recording.

This is the one service function pages and the CLI call for a probability timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from backend.classify.epochs import filtered_eeg
from backend.classify.persistence import TrainedModel, check_compatible
from backend.errors import EEGError
from backend.recording import Recording

MAX_WINDOWS = 20000


@dataclass(frozen=True)
class Timeline:
    """Class probabilities of sliding windows.

    Attributes
    ----------
    times : ndarray, shape (n_windows,)
        Window centres in seconds from the recording's start (Browse's time axis).
    starts : ndarray, shape (n_windows,)
        Window starts in seconds.
    proba : ndarray, shape (n_windows, n_classes)
        Class probabilities; rows sum to one.
    classes : list of str
    window_s, step_s : float
        Window length and hop, in seconds.
    events : list of (float, float, str)
        The recording's annotations of the model's classes: onset (s), duration (s), label.
    """

    times: np.ndarray
    starts: np.ndarray
    proba: np.ndarray
    classes: list[str]
    window_s: float
    step_s: float
    events: list[tuple[float, float, str]]

    def to_rows(self) -> list[dict]:
        """One dict per window (``start_s``, ``center_s``, ``p_<class>``), e.g. for a CSV."""
        return [
            {
                "start_s": round(float(s), 4),
                "center_s": round(float(t), 4),
                **{f"p_{c}": float(p[i]) for i, c in enumerate(self.classes)},
            }
            for s, t, p in zip(self.starts, self.times, self.proba)
        ]


def predict_timeline(recording: Recording, model: TrainedModel, step_s: float = 0.5) -> Timeline:
    """Sliding-window class probabilities of ``model`` over ``recording``.

    The recording is band-passed as in training, cut into windows of the model's length every
    ``step_s`` seconds, and each window classified. The recording is first checked against the
    model (channels, rate, band, length): a mismatch is an :class:`EEGError`.

    Parameters
    ----------
    recording : Recording
    model : TrainedModel
    step_s : float
        Hop between windows in seconds.

    Returns
    -------
    Timeline
    """
    if not step_s > 0:
        raise EEGError(f"timeline step must be positive, got {step_s} s")
    check_compatible(model, recording)
    sfreq = model.sfreq
    n_win = int(round(model.task.window_s * sfreq))
    hop = max(1, int(round(step_s * sfreq)))
    data = filtered_eeg(recording, model.task.band, model.ch_names)
    n_windows = (data.shape[1] - n_win) // hop + 1
    if n_windows > MAX_WINDOWS:
        raise EEGError(
            f"{n_windows} windows is too many; use a step of at least {step_s * n_windows / MAX_WINDOWS:.2f} s"
        )
    # (n_channels, n_windows, n_win) view, no copy, then windows first.
    windows = sliding_window_view(data, n_win, axis=1)[:, ::hop][:, :n_windows].transpose(1, 0, 2)
    proba = model.predict_proba(np.ascontiguousarray(windows))
    starts = np.arange(n_windows) * hop / sfreq
    ann = recording.raw.annotations
    events = [
        (float(o), float(d), str(s))
        for o, d, s in zip(ann.onset, ann.duration, ann.description)
        if str(s) in model.classes
    ]
    return Timeline(
        starts + model.task.window_s / 2, starts, proba, model.classes, model.task.window_s, hop / sfreq, events
    )
