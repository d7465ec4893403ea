"""Trials for classification: epochs cut around annotations, from one or several runs of a subject.

Every run is band-passed on the continuous signal (4th-order Butterworth IIR, zero phase, as
MOABB does) before cutting, so trial edges carry no filter transient; the sliding windows of the
probability timeline are cut from the same filtered signal (:func:`filtered_eeg`).

A task whose window or band is left unset is *automatic*: :func:`make_trials` then cuts the same
trials once for every point of a small grid (:func:`window_band_grid`, derived from the events),
each run filtered once per grid band, and each training fold picks its point by an inner
cross-validation on its own trials (:mod:`backend.classify.window_band`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import mne
import numpy as np

from backend.browse import annotations as notes
from backend.errors import EEGError
from backend.recording import Recording

MIN_TRIALS_PER_CLASS = 3
# The grid of an automatic task, in order of preference on ties (the first is MOABB's PhysionetMI
# setting): windows after the onset (s), kept where the trials last that long, and pass bands (Hz),
# kept where they lie below Nyquist and inside the recording's own pass band. 3 × 3 = 9 points.
GRID_WINDOWS = ((0.0, 3.0), (0.5, 2.5), (0.5, 4.0))
GRID_BANDS = ((8.0, 32.0), (8.0, 30.0), (6.0, 35.0))


def add_task_arguments(parser) -> None:
    """The command line's ``--events``, ``--tmin``, ``--tmax`` and ``--band`` (read with :meth:`TaskSpec.from_options`)."""
    parser.add_argument(
        "--events", default="T1,T2", help="annotation labels to classify, comma-separated (default T1,T2)"
    )
    auto = "omitted: chosen per training fold by inner cross-validation from a small grid"
    parser.add_argument("--tmin", type=float, default=None, help=f"window start after the annotation onset, s ({auto})")
    parser.add_argument("--tmax", type=float, default=None, help=f"window end after the annotation onset, s ({auto})")
    parser.add_argument("--band", default=None, help=f"pass band low,high in Hz ({auto})")


@dataclass(frozen=True)
class TaskSpec:
    """What a model classifies and how its input is cut.

    Attributes
    ----------
    events : tuple of str
        Annotation labels, one class each (e.g. ``("T1", "T2")``).
    tmin, tmax : float or None
        Trial window relative to the annotation onset, in seconds; both None (the default): chosen
        per training fold from :func:`window_band_grid` by inner cross-validation.
    band : tuple of float or None
        Pass band ``(low, high)`` in Hz applied to the continuous signal; None (the default): chosen
        as the window is.
    """

    events: tuple[str, ...]
    tmin: float | None = None
    tmax: float | None = None
    band: tuple[float, float] | None = None

    def __post_init__(self):
        events = tuple(str(e).strip() for e in self.events if str(e).strip())
        if len(events) < 2 or len(set(events)) != len(events):
            raise EEGError(f"a task needs at least two distinct event labels, got {list(self.events)}")
        object.__setattr__(self, "events", events)
        if (self.tmin is None) != (self.tmax is None):
            raise EEGError(
                f"give both ends of the epoch window or neither (neither: chosen automatically), got tmin={self.tmin}, tmax={self.tmax}"
            )
        if self.tmin is not None and self.tmax is not None:
            if not self.tmax > self.tmin:
                raise EEGError(f"epoch window must end after it starts, got tmin={self.tmin} s, tmax={self.tmax} s")
            if self.tmax - self.tmin < 0.25:
                raise EEGError(f"epoch window of {self.tmax - self.tmin:g} s is too short; use at least 0.25 s")
            object.__setattr__(self, "tmin", float(self.tmin))
            object.__setattr__(self, "tmax", float(self.tmax))
        if self.band is not None:
            low, high = (float(b) for b in self.band)
            if not 0 < low < high:
                raise EEGError(f"band must be two increasing positive frequencies in Hz, got {self.band}")
            object.__setattr__(self, "band", (low, high))

    @classmethod
    def from_options(cls, events: str, tmin: float | None, tmax: float | None, band: str | None) -> TaskSpec:
        """The task of the command line's ``--events T1,T2 --tmin --tmax --band LOW,HIGH`` (omitted: automatic)."""
        from backend.cli import parse_floats

        pass_band = None
        if band is not None:
            low, high = parse_floats(band, "--band", 2)
            pass_band = (low, high)
        return cls(tuple(events.split(",")), tmin, tmax, pass_band)

    @property
    def window_auto(self) -> bool:
        return self.tmin is None

    @property
    def band_auto(self) -> bool:
        return self.band is None

    @property
    def auto(self) -> bool:
        """Whether the window or the band is chosen by inner cross-validation."""
        return self.window_auto or self.band_auto

    @property
    def mode(self) -> str:
        """``"auto"`` when anything is chosen by inner cross-validation, else ``"manual"``."""
        return "auto" if self.auto else "manual"

    @property
    def window(self) -> tuple[float, float]:
        """``(tmin, tmax)`` in seconds; an :class:`EEGError` for an automatic window."""
        if self.tmin is None or self.tmax is None:
            raise EEGError("this task's window is chosen automatically per training fold; it has no fixed window")
        return self.tmin, self.tmax

    @property
    def pass_band(self) -> tuple[float, float]:
        """``(low, high)`` in Hz; an :class:`EEGError` for an automatic band."""
        if self.band is None:
            raise EEGError("this task's band is chosen automatically per training fold; it has no fixed band")
        return self.band

    @property
    def window_s(self) -> float:
        tmin, tmax = self.window
        return tmax - tmin

    def describe(self) -> str:
        """``"0–3 s, 8–32 Hz"``, with ``automatic`` for what is chosen by inner cross-validation."""
        window = "automatic window" if self.window_auto else f"{self.window[0]:g}–{self.window[1]:g} s"
        band = "automatic band" if self.band_auto else f"{self.pass_band[0]:g}–{self.pass_band[1]:g} Hz"
        return f"{window}, {band}"

    def to_dict(self) -> dict:
        return {
            "events": list(self.events),
            "tmin": self.tmin,
            "tmax": self.tmax,
            "band": None if self.band is None else list(self.band),
        }

    @classmethod
    def from_dict(cls, d: dict) -> TaskSpec:
        """The task of :meth:`to_dict`."""
        band = d.get("band")
        return cls(tuple(d["events"]), d.get("tmin"), d.get("tmax"), None if band is None else tuple(band))


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
        Events, window and band the trials were cut with (automatic ones: what was asked for).
    run_names : tuple of str
        Name of each run's recording.
    candidates : tuple of Trials
        For an automatic task, the same trials (same order, labels and onsets) cut with each
        point of the grid, each with its concrete task; ``X`` is then the first point's
        (:data:`GRID_WINDOWS`, :data:`GRID_BANDS`), for displays. Empty for a manual task.
    """

    X: np.ndarray
    y: np.ndarray
    runs: np.ndarray
    onsets: np.ndarray
    sfreq: float
    ch_names: tuple[str, ...]
    task: TaskSpec
    run_names: tuple[str, ...]
    candidates: tuple[Trials, ...] = ()
    # Window and band chosen per training set (backend.classify.window_band), computed once.
    choices: dict = field(default_factory=dict, init=False, compare=False, repr=False)

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
    """Onsets of ``label`` in seconds from the first sample, as Browse shows them (MNE counts from the
    measurement start, later by ``first_time`` in a recording cropped or saved after cropping)."""
    return np.asarray([a["onset"] for a in notes.table(recording.raw) if a["description"] == label], dtype=float)


def annotation_labels(recording: Recording) -> dict[str, int]:
    """Annotation labels of a recording and how often each occurs."""
    counts: dict[str, int] = {}
    for d in recording.raw.annotations.description:
        counts[str(d)] = counts.get(str(d), 0) + 1
    return counts


def trial_length(recordings: Sequence[Recording], events: Sequence[str]) -> float:
    """Typical length in seconds of the trials of ``events``: their annotations' median duration,
    or where they have none, the median time from such an annotation to the next one of any label
    (0 when neither is known)."""
    durations, gaps = [], []
    for rec in recordings:
        ann = rec.raw.annotations
        onsets = np.asarray(ann.onset, dtype=float)
        for onset, duration, label in zip(ann.onset, ann.duration, ann.description):
            if str(label) not in events:
                continue
            if duration > 0:
                durations.append(float(duration))
            later = onsets[onsets > onset]
            if len(later):
                gaps.append(float(later.min() - onset))
    if durations:
        return float(np.median(durations))
    return float(np.median(gaps)) if gaps else 0.0


def window_band_grid(recordings: Sequence[Recording], task: TaskSpec) -> list[TaskSpec]:
    """The concrete tasks an automatic ``task`` chooses from, derived from its events.

    Windows: :data:`GRID_WINDOWS` that end within the trials' length (:func:`trial_length`, with
    0.05 s of slack); where none does, one window from the onset to the trials' end (at least
    0.5 s). Bands: :data:`GRID_BANDS` that lie below 0.45 × the sampling rate and inside every
    run's recorded pass band; where none does, 8 Hz (or the high-pass) to 0.8 × that limit. A
    window or band the task fixes is the only one of its axis. At most 3 × 3 = 9 points, the
    first the preferred one on ties (0–3 s, 8–32 Hz where the data allow it).
    """
    if task.window_auto:
        length = trial_length(recordings, task.events)
        windows = [w for w in GRID_WINDOWS if w[1] <= length + 0.05] or [(0.0, max(round(length, 2), 0.5))]
    else:
        windows = [task.window]
    if task.band_auto:
        sfreq = min(float(r.raw.info["sfreq"]) for r in recordings)
        top = min([0.45 * sfreq] + [float(r.raw.info["lowpass"]) for r in recordings])
        floor = max(float(r.raw.info["highpass"]) for r in recordings)
        bands = [b for b in GRID_BANDS if b[1] <= top and b[0] >= floor]
        if not bands:
            low = max(8.0, floor)
            if not low < 0.8 * top:
                raise EEGError(f"no pass band fits between the recording's high-pass {floor:g} Hz and {top:g} Hz")
            bands = [(low, round(0.8 * top, 1))]
    else:
        bands = [task.pass_band]
    return [replace(task, tmin=w[0], tmax=w[1], band=b) for w in windows for b in bands]


def make_trials(recordings: Sequence[Recording], task: TaskSpec) -> Trials:
    """Cut labelled trials out of one or several runs of one subject.

    Parameters
    ----------
    recordings : sequence of Recording
        The runs; they must share channels and sampling rate.
    task : TaskSpec
        With an automatic window or band, the trials are cut for every point of
        :func:`window_band_grid` (each run filtered once per band, the windows sliced from one cut
        spanning them all, so every point holds the same trials) into :attr:`Trials.candidates`.

    Returns
    -------
    Trials
        Trials whose window (for an automatic task: every grid window) falls entirely inside their run.
    """
    if not recordings:
        raise EEGError("no recording given")
    if not task.auto:
        return _cut(recordings, task)
    grid = window_band_grid(recordings, task)
    start = min(g.window[0] for g in grid)
    stop = max(g.window[1] for g in grid)
    by_band = {}
    for band in dict.fromkeys(g.pass_band for g in grid):
        by_band[band] = _cut(recordings, replace(task, tmin=start, tmax=stop, band=band))
    candidates = []
    for g in grid:
        span = by_band[g.pass_band]
        first = int(round((g.window[0] - start) * span.sfreq))
        n_times = int(round(g.window_s * span.sfreq))
        candidates.append(replace(span, X=span.X[:, :, first : first + n_times], task=g))
    head = candidates[0]
    return replace(head, task=task, candidates=tuple(candidates))


def _cut(recordings: Sequence[Recording], task: TaskSpec) -> Trials:
    first = recordings[0]
    ch_names = eeg_picks(first.raw)
    sfreq = float(first.raw.info["sfreq"])
    tmin, _ = task.window
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
        data = filtered_eeg(rec, task.pass_band, ch_names)
        for label in task.events:
            for onset in _onsets(rec, label):
                start = int(round((onset + tmin) * sfreq))
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
