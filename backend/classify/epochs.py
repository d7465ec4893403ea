"""Trials for classification: epochs cut around annotations, from one or several runs of a subject.

Every run is band-passed on the continuous signal (4th-order Butterworth IIR, zero phase, as
MOABB does) before cutting, so trial edges carry no filter transient; the sliding windows of the
probability timeline are cut from the same filtered signal (:func:`filtered_eeg`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

from backend.errors import EEGError
from backend.recording import Recording

MIN_TRIALS_PER_CLASS = 3


@dataclass(frozen=True)
class TaskSpec:
    """What a model classifies and how its input is cut.

    Attributes
    ----------
    events : tuple of str
        Annotation labels, one class each (e.g. ``("T1", "T2")``).
    tmin, tmax : float
        Trial window relative to the annotation onset, in seconds.
    band : tuple of float
        Pass band ``(low, high)`` in Hz applied to the continuous signal.
    """

    events: tuple[str, ...]
    tmin: float = 0.5
    tmax: float = 2.5
    band: tuple[float, float] = (8.0, 30.0)

    def __post_init__(self):
        events = tuple(str(e).strip() for e in self.events if str(e).strip())
        if len(events) < 2 or len(set(events)) != len(events):
            raise EEGError(f"a task needs at least two distinct event labels, got {list(self.events)}")
        if not self.tmax > self.tmin:
            raise EEGError(f"epoch window must end after it starts, got tmin={self.tmin} s, tmax={self.tmax} s")
        if self.tmax - self.tmin < 0.25:
            raise EEGError(f"epoch window of {self.tmax - self.tmin:g} s is too short; use at least 0.25 s")
        low, high = (float(b) for b in self.band)
        if not 0 < low < high:
            raise EEGError(f"band must be two increasing positive frequencies in Hz, got {self.band}")
        object.__setattr__(self, "events", events)
        object.__setattr__(self, "band", (low, high))
        object.__setattr__(self, "tmin", float(self.tmin))
        object.__setattr__(self, "tmax", float(self.tmax))

    @classmethod
    def from_options(cls, events: str, tmin: float, tmax: float, band: str) -> TaskSpec:
        """The task of the command line's ``--events T1,T2 --tmin --tmax --band LOW,HIGH``."""
        from backend.cli import parse_floats

        low, high = parse_floats(band, "--band", 2)
        return cls(tuple(events.split(",")), tmin, tmax, (low, high))

    @property
    def window_s(self) -> float:
        return self.tmax - self.tmin

    def to_dict(self) -> dict:
        return {"events": list(self.events), "tmin": self.tmin, "tmax": self.tmax, "band": list(self.band)}


@dataclass(frozen=True)
class Trials:
    """Epoched data of one subject, ready for a scikit-learn estimator.

    Attributes
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Band-passed EEG in volts.
    y : ndarray of str, shape (n_trials,)
        Class label (the annotation description) of each trial.
    runs : ndarray of int, shape (n_trials,)
        Index of the run (recording) each trial comes from.
    onsets : ndarray of float, shape (n_trials,)
        Annotation onset of each trial in its run, in seconds.
    sfreq : float
        Sampling rate in Hz.
    ch_names : tuple of str
        EEG channels, in the order of ``X``'s second axis.
    task : TaskSpec
        Events, window and band the trials were cut with.
    run_names : tuple of str
        Name of each run's recording.
    """

    X: np.ndarray
    y: np.ndarray
    runs: np.ndarray
    onsets: np.ndarray
    sfreq: float
    ch_names: tuple[str, ...]
    task: TaskSpec
    run_names: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        return {e: int(np.sum(self.y == e)) for e in self.task.events}


def eeg_picks(raw: mne.io.BaseRaw) -> list[str]:
    """Good EEG channel names of ``raw`` (the channels a model is trained on)."""
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if len(picks) < 2:
        raise EEGError(f"classification needs at least 2 good EEG channels; this recording has {len(picks)}")
    return [raw.ch_names[i] for i in picks]


def filtered_eeg(recording: Recording, band: Sequence[float], ch_names: Sequence[str] | None = None) -> np.ndarray:
    """The recording's EEG band-passed as in training.

    Parameters
    ----------
    recording : Recording
    band : (float, float)
        Pass band in Hz.
    ch_names : sequence of str or None
        Channels to return, in this order; default: the good EEG channels.

    Returns
    -------
    data : ndarray, shape (n_channels, n_samples)
        Volts.
    """
    raw = recording.raw
    names = list(ch_names) if ch_names is not None else eeg_picks(raw)
    missing = [n for n in names if n not in raw.ch_names]
    if missing:
        raise EEGError(f"{recording.name} lacks channels {', '.join(missing[:5])}")
    low, high = float(band[0]), float(band[1])
    nyquist = raw.info["sfreq"] / 2
    if high >= nyquist:
        raise EEGError(
            f"band upper edge {high:g} Hz must be below the Nyquist frequency {nyquist:g} Hz of {recording.name}"
        )
    data = raw.get_data(picks=names)
    iir = dict(order=4, ftype="butter", output="sos")
    return mne.filter.filter_data(data, raw.info["sfreq"], low, high, method="iir", iir_params=iir, verbose="error")


def _onsets(recording: Recording, label: str) -> np.ndarray:
    ann = recording.raw.annotations
    return np.asarray([o for o, d in zip(ann.onset, ann.description) if str(d) == label], dtype=float)


def annotation_labels(recording: Recording) -> dict[str, int]:
    """Annotation labels of a recording and how often each occurs."""
    counts: dict[str, int] = {}
    for d in recording.raw.annotations.description:
        counts[str(d)] = counts.get(str(d), 0) + 1
    return counts


def make_trials(recordings: Sequence[Recording], task: TaskSpec) -> Trials:
    """Cut labelled trials out of one or several runs of one subject.

    Parameters
    ----------
    recordings : sequence of Recording
        The runs; they must share channels and sampling rate.
    task : TaskSpec

    Returns
    -------
    Trials
        Trials whose window falls entirely inside their run.
    """
    if not recordings:
        raise EEGError("no recording given")
    first = recordings[0]
    ch_names = eeg_picks(first.raw)
    sfreq = float(first.raw.info["sfreq"])
    n_times = int(round(task.window_s * sfreq))
    xs, ys, runs, onsets = [], [], [], []
    for index, rec in enumerate(recordings):
        if float(rec.raw.info["sfreq"]) != sfreq:
            raise EEGError(
                f"runs must share a sampling rate: {rec.name} has {rec.raw.info['sfreq']:g} Hz, {first.name} {sfreq:g} Hz"
            )
        missing = [n for n in ch_names if n not in rec.raw.ch_names]
        if missing:
            raise EEGError(f"runs must share channels: {rec.name} lacks {', '.join(missing[:5])}")
        present = [e for e in task.events if len(_onsets(rec, e))]
        if not present:
            continue
        data = filtered_eeg(rec, task.band, ch_names)
        for label in task.events:
            for onset in _onsets(rec, label):
                start = int(round((onset + task.tmin) * sfreq))
                if start < 0 or start + n_times > data.shape[1]:
                    continue
                xs.append(data[:, start : start + n_times])
                ys.append(label)
                runs.append(index)
                onsets.append(onset)
    y = np.asarray(ys, dtype=object).astype(str)
    counts = {e: int(np.sum(y == e)) for e in task.events}
    short = [f"{e} ×{n}" for e, n in counts.items() if n < MIN_TRIALS_PER_CLASS]
    if short:
        available = ", ".join(f"{k} ×{v}" for k, v in annotation_labels(first).items()) or "none"
        raise EEGError(
            f"too few trials for {', '.join(short)} (need {MIN_TRIALS_PER_CLASS} per class within the recording); "
            f"annotations in {first.name}: {available}"
        )
    order = np.lexsort((np.asarray(onsets), np.asarray(runs)))  # time order within each run
    return Trials(
        X=np.stack(xs)[order],
        y=y[order],
        runs=np.asarray(runs)[order],
        onsets=np.asarray(onsets)[order],
        sfreq=sfreq,
        ch_names=tuple(ch_names),
        task=task,
        run_names=tuple(r.name for r in recordings),
    )


def load_runs(paths: Sequence[str | Path]) -> list[Recording]:
    """Read several runs given as files on the command line; a run's companion files are grouped with it by stem
    (or found beside its header)."""
    from backend.io import load_recording

    groups: dict[str, list[Path]] = {}
    for p in map(Path, paths):
        groups.setdefault(str(p.with_suffix("")), []).append(p)
    return [load_recording(g, look_beside=True) for g in groups.values()]
