"""Seeded artifact injection on clean EEG, following the EEGdenoiseNet protocol.

A noisy signal is ``y = x + λ·n`` where ``x`` is clean EEG, ``n`` the artifact
and ``λ`` sets the signal-to-noise ratio

    SNR = 10 · log10( RMS(x) / RMS(λ·n) )

with RMS taken over all channels and samples (Zhang et al. 2021, EEGdenoiseNet).
Because the clean signal and the artifact are both known, any cleaning method can
be scored against the truth (see :mod:`backend.clean.metrics`).

Artifacts are placed on the scalp with realistic topographies computed from the
channels' positions (the recording's own, else the standard 10-05 position their
name stands for):

- ``blink``: 200–400 ms monophasic bumps, largest at Fp1/Fp2 and fading backwards;
- ``saccade``: horizontal eye movements, steps of opposite sign at F7 and F8;
- ``muscle``: bursts of broadband 20–150 Hz noise (capped below Nyquist) over
  the temporal muscles, independent on each channel;
- ``ecg``: a P-QRS-T complex at 55–85 beats a minute, a left-lateral gradient;
- ``line``: mains hum (50 or 60 Hz and its 3rd harmonic when below Nyquist);
- ``pop``: electrode pops, a sudden jump decaying exponentially, on a few channels.

Groups: ``eye`` is blink + saccade; ``mixed`` is blink + saccade + muscle (the
EEGdenoiseNet "EOG + EMG" case). Each kind is scaled to the same RMS before the
kinds are summed, so none dominates a mixture by accident.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import mne
import numpy as np
from scipy import signal

from backend.errors import EEGError

ARTIFACT_KINDS = ("blink", "saccade", "muscle", "ecg", "line", "pop")
ARTIFACT_GROUPS = {"eye": ("blink", "saccade"), "mixed": ("blink", "saccade", "muscle")}
DESCRIPTIONS = {
    "blink": "eye blinks: slow positive bumps over the frontal pole",
    "saccade": "horizontal eye movements: opposite steps at F7 and F8",
    "muscle": "muscle bursts: broadband 20–150 Hz noise over the temporal muscles",
    "ecg": "heartbeat (ECG) contamination: a P-QRS-T complex about once a second",
    "line": "mains line noise at 50 or 60 Hz",
    "pop": "electrode pops: sudden jumps on single channels that decay slowly",
}
SNR_RANGE_DB = (-20.0, 20.0)


@dataclass(frozen=True)
class Injection:
    """Clean, noisy and artifact signals of one injection, all ``(n_channels, n_times)`` in volts.

    Attributes
    ----------
    clean, noisy, artifact : ndarray, shape (n_channels, n_times)
        ``noisy == clean + artifact``; ``artifact`` is the scaled ``λ·n``.
    ch_names : list of str
    sfreq : float
        Sampling rate in Hz.
    kinds : tuple of str
        The artifact kinds injected (groups expanded).
    snr_db : float
        The requested SNR in dB.
    scale : float
        λ, the factor applied to the unit-RMS artifact mixture.
    seed : int
    events : list of dict
        ``{"kind", "onset_s", "duration_s", "channels"}`` for each artifact event
        (blinks, saccades, bursts, pops); continuous kinds (line, ECG) list none.
        Onsets count from the start of the stretch.
    start_s : float
        Where the stretch starts in the recording it was cut from, in seconds.
    """

    clean: np.ndarray
    noisy: np.ndarray
    artifact: np.ndarray
    ch_names: list[str]
    sfreq: float
    kinds: tuple[str, ...]
    snr_db: float
    scale: float
    seed: int
    events: list[dict] = field(default_factory=list)
    start_s: float = 0.0

    def measured_snr_db(self) -> float:
        """The SNR actually present, ``10·log10(RMS(clean)/RMS(artifact))``."""
        return snr_db(self.clean, self.artifact)

    def to_raw(self, info: mne.Info, which: str = "noisy") -> mne.io.RawArray:
        """One of the signals (``'clean'``, ``'noisy'`` or ``'artifact'``) as a Raw with ``info``."""
        if which not in ("clean", "noisy", "artifact"):
            raise EEGError(f"which must be 'clean', 'noisy' or 'artifact', got {which!r}")
        if list(info["ch_names"]) != list(self.ch_names):
            raise EEGError("the info's channels do not match the injection's channels")
        return mne.io.RawArray(getattr(self, which).copy(), info.copy(), verbose="error")


def rms(x: np.ndarray) -> float:
    """Root mean square over every element."""
    return float(np.sqrt(np.mean(np.square(x, dtype=float))))


def snr_db(clean: np.ndarray, artifact: np.ndarray) -> float:
    """EEGdenoiseNet SNR in dB: ``10·log10(RMS(clean)/RMS(artifact))``."""
    return 10.0 * np.log10(rms(clean) / rms(artifact))


def expand_kinds(kinds: str | Iterable[str]) -> tuple[str, ...]:
    """Expand groups (``eye``, ``mixed``) and check names; order kept, duplicates dropped."""
    if isinstance(kinds, str):
        kinds = [k for k in kinds.replace("+", ",").split(",") if k.strip()]
    out: list[str] = []
    for kind in kinds:
        kind = str(kind).strip().lower()
        members = ARTIFACT_GROUPS.get(kind, (kind,))
        for member in members:
            if member not in ARTIFACT_KINDS:
                known = ", ".join(ARTIFACT_KINDS + tuple(ARTIFACT_GROUPS))
                raise EEGError(f"unknown artifact kind {kind!r}; use {known}")
            if member not in out:
                out.append(member)
    if not out:
        raise EEGError("choose at least one artifact kind")
    return tuple(out)


# --- channel positions ----------------------------------------------------------


def _template(name: str) -> np.ndarray:
    """The template position of a standard label this module names (never None for those)."""
    from backend.channels import template_position

    position = template_position(name)
    assert position is not None, name
    return position


def _proximity(pos: np.ndarray, centre: np.ndarray, length_m: float) -> np.ndarray:
    """exp(-distance/length): 1 at the centre, fading with distance; NaN positions get the median."""
    weight = np.exp(-np.linalg.norm(pos - centre, axis=1) / length_m)
    known = np.isfinite(weight)
    weight[~known] = np.median(weight[known])
    return weight / weight.max()


def _eye_centre() -> np.ndarray:
    # Just in front of and below the frontal pole electrodes: where the eyes' dipoles sit.
    return (_template("Fp1") + _template("Fp2")) / 2 + np.array([0.0, 0.01, -0.03])


# --- waveforms ------------------------------------------------------------------


def _onsets(rng, n_times: int, sfreq: float, rate_hz: float, min_gap_s: float, length_s: float) -> list[int]:
    """Random event onsets (samples), a Poisson-like train with a refractory gap."""
    onsets, t = [], rng.uniform(0.2, 1.0 / rate_hz)
    duration = n_times / sfreq
    while t + length_s < duration:
        onsets.append(int(t * sfreq))
        t += min_gap_s + rng.exponential(1.0 / rate_hz)
    if not onsets and duration > length_s:  # short stretches still get one event
        onsets.append(int(rng.uniform(0, duration - length_s) * sfreq))
    return onsets


def _blink(rng, pos, n_times, sfreq):
    weight = _proximity(pos, _eye_centre(), 0.045)
    source = np.zeros(n_times)
    events = []
    for onset in _onsets(rng, n_times, sfreq, rate_hz=0.3, min_gap_s=1.0, length_s=0.45):
        length = int(rng.uniform(0.2, 0.4) * sfreq)
        t = np.linspace(0, 1, length, endpoint=False)
        # An asymmetric bump: fast lid closure, slower reopening.
        shape = t**2 * np.exp(-t / 0.18) / (0.36**2 * np.exp(-2))
        stop = min(onset + length, n_times)
        source[onset:stop] += rng.uniform(0.7, 1.3) * shape[: stop - onset]
        events.append({"kind": "blink", "onset_s": onset / sfreq, "duration_s": length / sfreq, "channels": "frontal"})
    return weight[:, None] * source[None, :], events


def _saccade(rng, pos, n_times, sfreq):
    centre = _eye_centre()
    lateral = pos[:, 0] - centre[0]
    weight = lateral * _proximity(pos, centre, 0.06)
    weight = np.nan_to_num(weight) / np.nanmax(np.abs(weight))
    source = np.zeros(n_times)
    events = []
    ramp = max(2, int(0.04 * sfreq))  # a saccade takes about 40 ms
    for onset in _onsets(rng, n_times, sfreq, rate_hz=0.25, min_gap_s=1.5, length_s=1.6):
        hold = int(rng.uniform(0.3, 1.2) * sfreq)
        amplitude = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0)
        shape = np.r_[np.linspace(0, 1, ramp), np.ones(hold), np.linspace(1, 0, ramp)]
        stop = min(onset + len(shape), n_times)
        source[onset:stop] += amplitude * shape[: stop - onset]
        events.append(
            {"kind": "saccade", "onset_s": onset / sfreq, "duration_s": len(shape) / sfreq, "channels": "F7/F8"}
        )
    return weight[:, None] * source[None, :], events


def _muscle_band(sfreq: float) -> tuple[float, float]:
    high = min(150.0, 0.9 * sfreq / 2)
    if high < 30.0:
        raise EEGError(f"muscle artifacts need a sampling rate above 67 Hz, got {sfreq:g} Hz")
    return 20.0, high


def _muscle(rng, pos, n_times, sfreq):
    low, high = _muscle_band(sfreq)
    sos = signal.butter(4, [low, high], btype="bandpass", fs=sfreq, output="sos")
    sides = {
        "left": _proximity(pos, _template("T7") + [0, 0, -0.02], 0.04),
        "right": _proximity(pos, _template("T8") + [0, 0, -0.02], 0.04),
    }
    out = np.zeros((len(pos), n_times))
    events = []
    for onset in _onsets(rng, n_times, sfreq, rate_hz=0.2, min_gap_s=1.0, length_s=2.0):
        length = int(rng.uniform(0.5, 2.0) * sfreq)
        stop = min(onset + length, n_times)
        side = rng.choice(["left", "right", "both"])
        weight = sides["left"] + sides["right"] if side == "both" else sides[side]
        # EMG is many small local sources: independent noise on each channel.
        noise = signal.sosfiltfilt(sos, rng.standard_normal((len(pos), length + 2 * int(sfreq))), axis=1)
        noise = noise[:, int(sfreq) : int(sfreq) + stop - onset]
        envelope = signal.windows.tukey(stop - onset, alpha=0.3)
        out[:, onset:stop] += weight[:, None] * noise * envelope[None, :] * rng.uniform(0.6, 1.4)
        events.append(
            {"kind": "muscle", "onset_s": onset / sfreq, "duration_s": (stop - onset) / sfreq, "channels": side}
        )
    return out, events


def _ecg(rng, pos, n_times, sfreq):
    centroid = np.nanmean(pos, axis=0)
    axis = np.array([-0.5, -0.3, -0.8])  # towards the heart: left, back, down
    weight = (pos - centroid) @ (axis / np.linalg.norm(axis))
    weight = np.nan_to_num(weight) / np.nanmax(np.abs(weight))
    # P, Q, R, S, T waves as Gaussians: (delay s, width s, amplitude).
    waves = [(-0.2, 0.025, 0.12), (-0.03, 0.01, -0.15), (0.0, 0.012, 1.0), (0.03, 0.01, -0.25), (0.25, 0.05, 0.3)]
    source = np.zeros(n_times)
    t_beat = rng.uniform(0.3, 1.0)
    times = np.arange(n_times) / sfreq
    rate = rng.uniform(55, 85) / 60.0
    while t_beat < times[-1] + 0.5:
        for delay, width, amplitude in waves:
            centre = t_beat + delay
            near = slice(max(0, int((centre - 5 * width) * sfreq)), min(n_times, int((centre + 5 * width) * sfreq) + 1))
            source[near] += amplitude * np.exp(-0.5 * ((times[near] - centre) / width) ** 2)
        t_beat += (1.0 / rate) * rng.uniform(0.93, 1.07)  # heart-rate variability
    return weight[:, None] * source[None, :], []


def _line(rng, pos, n_times, sfreq, line_freq):
    if line_freq >= sfreq / 2:
        raise EEGError(f"line noise at {line_freq:g} Hz cannot be sampled at {sfreq:g} Hz")
    times = np.arange(n_times) / sfreq
    n = len(pos)
    amplitude = rng.uniform(0.5, 1.5, n)[:, None]
    phase = rng.uniform(-0.3, 0.3, n)[:, None]
    hum = np.sin(2 * np.pi * line_freq * times[None, :] + phase)
    if 3 * line_freq < sfreq / 2:
        hum += 0.2 * np.sin(2 * np.pi * 3 * line_freq * times[None, :] + 3 * phase)
    return amplitude * hum, []


def _pop(rng, pos, n_times, sfreq):
    n = len(pos)
    channels = rng.choice(n, size=max(1, n // 16), replace=False)
    out = np.zeros((n, n_times))
    events = []
    for ch in channels:
        for onset in _onsets(rng, n_times, sfreq, rate_hz=0.1, min_gap_s=2.0, length_s=1.0):
            tau = rng.uniform(0.1, 0.5)
            tail = np.exp(-np.arange(n_times - onset) / (tau * sfreq))
            out[ch, onset:] += rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 1.4) * tail
            events.append({"kind": "pop", "onset_s": onset / sfreq, "duration_s": 5 * tau, "channels": int(ch)})
    return out, events


def make_artifact(
    kind: str,
    ch_names: list[str],
    sfreq: float,
    n_times: int,
    seed: int = 0,
    info: mne.Info | None = None,
    line_freq: float = 50.0,
) -> tuple[np.ndarray, list[dict]]:
    """One artifact kind, scaled to unit RMS, shape ``(n_channels, n_times)``, and its events.

    Parameters
    ----------
    kind : str
        One of ``ARTIFACT_KINDS``.
    ch_names : list of str
    sfreq : float
        Sampling rate in Hz.
    n_times : int
    seed : int
        The same seed, kind and channels give the same artifact.
    info : mne.Info | None
        Used for stored electrode positions.
    line_freq : float
        Mains frequency in Hz (50 or 60).
    """
    if kind not in ARTIFACT_KINDS:
        raise EEGError(f"unknown artifact kind {kind!r}; use {', '.join(ARTIFACT_KINDS)}")
    if n_times < int(sfreq):
        raise EEGError("artifact injection needs at least one second of data")
    from backend.channels import channel_positions

    pos = channel_positions(list(ch_names), info)
    if kind not in ("line", "pop") and np.isfinite(pos).all(axis=1).sum() < 2:
        raise EEGError(f"{kind} artifacts need channel positions or standard 10-20 channel names")
    # Each kind has its own stream, so adding a kind leaves the others unchanged.
    rng = np.random.default_rng([int(seed), ARTIFACT_KINDS.index(kind)])
    if kind == "line":
        data, events = _line(rng, pos, n_times, sfreq, line_freq)
    else:
        data, events = {"blink": _blink, "saccade": _saccade, "muscle": _muscle, "ecg": _ecg, "pop": _pop}[kind](
            rng, pos, n_times, sfreq
        )
    level = rms(data)
    if level == 0:
        raise EEGError(f"the stretch is too short for {kind} artifacts")
    return data / level, events


def inject(
    clean: np.ndarray,
    ch_names: list[str],
    sfreq: float,
    kinds="eye",
    snr_db: float = 0.0,
    seed: int = 0,
    info: mne.Info | None = None,
    line_freq: float = 50.0,
) -> Injection:
    """Add artifacts to a clean signal at a chosen SNR (EEGdenoiseNet: ``y = x + λ·n``).

    Parameters
    ----------
    clean : ndarray, shape (n_channels, n_times)
        Clean EEG in volts.
    ch_names : list of str
        Names of the rows; they place the artifacts when ``info`` has no positions.
    sfreq : float
        Sampling rate in Hz.
    kinds : str | list of str
        Artifact kinds and groups, e.g. ``"eye"``, ``["blink", "muscle"]``, ``"mixed"``.
    snr_db : float
        ``10·log10(RMS(clean)/RMS(λ·n))`` in dB, between -20 and 20.
    seed : int
        The same seed gives the same artifact.
    info : mne.Info | None
        Stored electrode positions, if any.
    line_freq : float
        Mains frequency in Hz for ``line``.

    Returns
    -------
    Injection
        Holding ``clean``, ``noisy`` and ``artifact`` separately.
    """
    clean = np.asarray(clean, dtype=float)
    if clean.ndim != 2 or clean.shape[0] != len(ch_names):
        raise EEGError(f"clean data must be (n_channels, n_times) with {len(ch_names)} rows, got shape {clean.shape}")
    if not np.isfinite(clean).all():
        raise EEGError("the clean stretch holds NaN or infinite values")
    if not SNR_RANGE_DB[0] <= float(snr_db) <= SNR_RANGE_DB[1]:
        raise EEGError(f"SNR must be between {SNR_RANGE_DB[0]:g} and {SNR_RANGE_DB[1]:g} dB, got {snr_db:g}")
    level = rms(clean)
    if level == 0:
        raise EEGError("the clean stretch is flat: nothing to compare artifacts with")
    kinds = expand_kinds(kinds)
    mixture = np.zeros_like(clean)
    events: list[dict] = []
    for kind in kinds:
        data, kind_events = make_artifact(kind, ch_names, sfreq, clean.shape[1], seed, info, line_freq)
        mixture += data
        events += kind_events
    scale = level / (rms(mixture) * 10.0 ** (float(snr_db) / 10.0))
    artifact = scale * mixture
    return Injection(
        clean=clean.copy(),
        noisy=clean + artifact,
        artifact=artifact,
        ch_names=list(ch_names),
        sfreq=float(sfreq),
        kinds=kinds,
        snr_db=float(snr_db),
        scale=float(scale),
        seed=int(seed),
        events=sorted(events, key=lambda e: e["onset_s"]),
    )


def clean_stretch(raw: mne.io.BaseRaw, duration_s: float, picks="eeg", window_s: float = 2.0) -> float:
    """Start (seconds) of the quietest ``duration_s`` stretch: the least large-amplitude activity.

    Each channel's amplitude in 2-s windows is compared with its own median, so a
    blink on Fp1 counts as much as a pop on O2; the stretch whose worst window is
    lowest wins.
    """
    sfreq = raw.info["sfreq"]
    if duration_s * sfreq > raw.n_times:
        raise EEGError(
            f"the recording is {raw.n_times / sfreq:.1f} s long, shorter than the {duration_s:g} s asked for"
        )
    data = raw.get_data(picks=picks)
    win = max(1, int(window_s * sfreq))
    n_win = raw.n_times // win
    if n_win == 0:
        return 0.0
    blocks = data[:, : n_win * win].reshape(len(data), n_win, win)
    ptp = np.ptp(blocks, axis=2)
    score = (ptp / np.maximum(np.median(ptp, axis=1, keepdims=True), 1e-30)).max(axis=0)
    per = max(1, int(np.ceil(duration_s / window_s)))
    if per >= n_win:
        return 0.0
    worst = np.array([score[i : i + per].max() for i in range(n_win - per + 1)])
    return float(np.argmin(worst) * win / sfreq)


def inject_raw(
    raw: mne.io.BaseRaw,
    kinds="eye",
    snr_db: float = 0.0,
    seed: int = 0,
    start_s: float | None = None,
    duration_s: float | None = 20.0,
    line_freq: float = 50.0,
) -> tuple[Injection, mne.Info]:
    """Inject artifacts on a stretch of a Raw's (or a Recording's) good EEG channels.

    Parameters
    ----------
    raw : mne.io.BaseRaw | Recording
    start_s : float | None
        Start of the stretch in seconds; None picks the quietest stretch (:func:`clean_stretch`).
    duration_s : float | None
        Length of the stretch in seconds; None for all of it.

    Returns
    -------
    injection : Injection
    info : mne.Info
        Info of the EEG channels used, for :meth:`Injection.to_raw`.
    """
    raw = getattr(raw, "raw", raw)  # a Recording holds its Raw
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if len(picks) == 0:
        raise EEGError("this recording has no good EEG channel to inject artifacts on")
    sfreq = raw.info["sfreq"]
    duration_s = raw.n_times / sfreq if duration_s is None else float(duration_s)
    if start_s is None:
        start_s = clean_stretch(raw, duration_s, picks=picks)
    start, stop = int(round(start_s * sfreq)), int(round(start_s * sfreq)) + int(round(duration_s * sfreq))
    if start < 0 or stop > raw.n_times:
        raise EEGError(f"the stretch {start_s:g}–{start_s + duration_s:g} s lies outside the recording")
    data = raw.get_data(picks=picks, start=start, stop=stop)
    info = mne.pick_info(raw.info, picks)
    injection = inject(data, info["ch_names"], sfreq, kinds, snr_db, seed, info=info, line_freq=line_freq)
    return replace(injection, start_s=start / sfreq), info
