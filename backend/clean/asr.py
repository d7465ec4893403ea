"""Artifact Subspace Reconstruction with ``meegkit.asr`` (works with numpy 2; asrpy does not).

ASR learns the covariance of clean calibration data, then slides over the
recording and, where a window's principal components exceed ``cutoff`` standard
deviations of the calibration, reconstructs that subspace from the rest.

ASR expects high-passed data. So that the step can run on a raw recording
without silently filtering it, ASR works on a 1-Hz high-passed copy and only its
correction (what ASR changed) is added back to the data: drifts below 1 Hz stay
as they were unless a band-pass step removes them.

meegkit's ``ASR.transform`` computes one covariance over whatever it is given and
blends from the previous call's reconstruction to the new one across the call. So
how the recording is fed to it decides what ASR does (``mode``):

- ``"lookahead"`` (default): every ``win_len / 2`` s the reconstruction is updated
  from the covariance of the ``win_len`` window *centred* on that moment, as the
  original ASR does with its look-ahead of half a window; the update applies from
  the start of a burst instead of one block late.
- ``"blocks"``: ``transform`` on consecutive ``win_len`` blocks (this step before
  2026-12): each block's reconstruction comes from its own covariance but is only
  fully applied at the block's end, so a blink's first half is under-corrected.
- ``"single"``: meegkit as is, one ``transform`` over the whole recording: one
  covariance, one projection for everything; it removes a blink subspace only when
  the blinks dominate the whole recording, and then from the brain signal too.

In ``benchmarks/denoise.py --asr-only`` (held-out recordings, injected blinks, muscle bursts
and both at -5, -1 and +2 dB) ``"lookahead"`` has the lowest error of the three on each;
on the real eye components of another recording at -7 dB, ``"single"`` does better.
"""

from __future__ import annotations

import mne
import numpy as np

from backend.clean.steps import number
from backend.errors import EEGError
from backend.steps import source_lines

MIN_CALIBRATION_S = 15.0
_HIGHPASS_HZ = 1.0
# A window counts as reconstructed when ASR changed its RMS by more than this fraction.
_CHANGED_FRACTION = 0.01
# ASR should remove power; a window it leaves 1.5 times stronger points at calibration data
# that were not clean (reconstruction from a contaminated subspace), and the report says so.
_AMPLIFIED_RATIO = 1.5
MODES = ("lookahead", "blocks", "single")


def _calibration_slice(raw, start_s, stop_s) -> slice:
    duration = raw.n_times / raw.info["sfreq"]
    if start_s is None and stop_s is None:
        start_s, stop_s, what = 0.0, duration, "the recording"
    else:
        start_s = 0.0 if start_s is None else number("the calibration start (s)", start_s, -1e-9, duration)
        stop_s = duration if stop_s is None else number("the calibration end (s)", stop_s, start_s, duration + 1e-9)
        what = f"the calibration stretch {start_s:g}–{stop_s:g} s"
    if stop_s - start_s < MIN_CALIBRATION_S:
        raise EEGError(
            f"ASR needs at least {MIN_CALIBRATION_S:g} s of calibration data; {what} is {stop_s - start_s:.1f} s"
        )
    sfreq = raw.info["sfreq"]
    return slice(int(round(start_s * sfreq)), int(round(stop_s * sfreq)))


def asr_window(sfreq: float, win_len: float) -> int:
    """Samples in one ASR window of ``win_len`` seconds (at least one)."""
    return max(1, int(round(win_len * sfreq)))


def asr_windows(asr, x: np.ndarray, win: int) -> np.ndarray:
    """``x`` (n_channels, n_times) cleaned by a fitted ASR one window of ``win`` samples at a time."""
    return np.concatenate([asr.transform(x[:, i : i + win]) for i in range(0, x.shape[1], win)], axis=1)


def asr_lookahead(asr, x: np.ndarray, win: int) -> np.ndarray:
    """``x`` (n_channels, n_times) cleaned by a fitted ASR with a look-ahead of half a window.

    Every ``win // 2`` samples the reconstruction is computed from the covariance of the
    ``win`` samples centred on that moment (of the spectrally shaped signal, as in
    ``transform``); between updates meegkit blends from one reconstruction to the next.
    """
    from meegkit.asr import asr_process
    from meegkit.utils.asr import yulewalk_filter

    shaped, _ = yulewalk_filter(x, asr.sfreq, ab=asr.ab_)
    n, step = x.shape[1], max(1, win // 2)
    state = dict(asr.state_, R=None)
    out = np.empty_like(x)
    for start in range(0, n, step):
        stop = min(start + step, n)
        seg = shaped[:, max(0, stop - win // 2) : min(n, stop + win - win // 2)]
        cov = seg @ seg.T / seg.shape[1]
        out[:, start:stop], state = asr_process(x[:, start:stop], None, state, cov=cov, method=asr.method)
    return out


def asr_clean(asr, x: np.ndarray, win: int, mode: str) -> np.ndarray:
    """``x`` (n_channels, n_times) cleaned by a fitted ASR in ``mode`` (see the module's notes)."""
    if mode == "single":
        return asr.transform(x)
    if mode == "blocks":
        return asr_windows(asr, x, win)
    return asr_lookahead(asr, x, win)


def run_asr(
    data: np.ndarray,
    sfreq: float,
    calibration: np.ndarray,
    cutoff: float = 20.0,
    win_len: float = 0.5,
    method: str = "euclid",
    mode: str = "lookahead",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clean ``data`` (n_channels, n_times), high-passed, with ASR calibrated on ``calibration``.

    ``mode`` is how the recording is fed to meegkit: ``"lookahead"``, ``"blocks"`` or
    ``"single"`` (see the module's notes).

    Returns
    -------
    cleaned : ndarray, shape (n_channels, n_times)
    changed : ndarray of bool, shape (n_windows,)
        Whether ASR reconstructed each ``win_len`` window.
    amplified : ndarray of bool, shape (n_windows,)
        Whether ASR left the window with 1.5 times its power or more.
    """
    from meegkit.asr import ASR

    asr = ASR(sfreq=sfreq, cutoff=cutoff, win_len=win_len, method=method)
    try:
        with np.errstate(all="ignore"):
            _, mask = asr.fit(calibration)
    except (ValueError, np.linalg.LinAlgError, IndexError) as exc:
        raise EEGError(
            f"ASR calibration failed ({str(exc).splitlines()[0][:80]}): choose a longer or cleaner calibration stretch"
        ) from None
    kept_s = float(np.sum(mask)) / sfreq
    if kept_s < MIN_CALIBRATION_S / 3:
        raise EEGError(f"only {kept_s:.1f} s of the calibration data look clean: choose a cleaner calibration stretch")
    win = asr_window(sfreq, win_len)
    with np.errstate(all="ignore"):
        cleaned = asr_clean(asr, data, win, mode)
    changed, amplified = [], []
    for start in range(0, data.shape[1], win):
        chunk, out = data[:, start : start + win], cleaned[:, start : start + win]
        level = max(np.sqrt(np.mean(chunk**2)), 1e-30)
        changed.append(np.sqrt(np.mean((out - chunk) ** 2)) > _CHANGED_FRACTION * level)
        amplified.append(np.sqrt(np.mean(out**2)) > np.sqrt(_AMPLIFIED_RATIO) * level)
    return cleaned, np.array(changed, dtype=bool), np.array(amplified, dtype=bool)


def _asr_script(
    cutoff=20.0, calib_start_s=None, calib_stop_s=None, win_len=0.5, method="euclid", mode="lookahead"
) -> list[str]:
    start = "0" if calib_start_s is None else f"int({calib_start_s!r} * sfreq)"
    stop = "raw.n_times" if calib_stop_s is None else f"int({calib_stop_s!r} * sfreq)"
    return [
        "from meegkit.asr import ASR",
        *source_lines(asr_window),
        *source_lines(asr_windows),
        *source_lines(asr_lookahead),
        *source_lines(asr_clean),
        "raw.load_data()",
        "sfreq = raw.info['sfreq']",
        "eeg = mne.pick_types(raw.info, eeg=True, exclude='bads')",
        "x = raw.get_data(picks=eeg)",
        f"x_hp = mne.filter.filter_data(x, sfreq, {_HIGHPASS_HZ!r}, None)",
        f"asr = ASR(sfreq=sfreq, cutoff={cutoff!r}, win_len={win_len!r}, method={method!r})",
        f"asr.fit(x_hp[:, {start}:{stop}])",
        f"cleaned = asr_clean(asr, x_hp, asr_window(sfreq, {win_len!r}), {mode!r})",
        "raw._data[eeg] = x + (cleaned - x_hp)",
    ]


def asr(
    raw,
    cutoff: float = 20.0,
    calib_start_s: float | None = None,
    calib_stop_s: float | None = None,
    win_len: float = 0.5,
    method: str = "euclid",
    mode: str = "lookahead",
):
    cutoff = number("the ASR cutoff", cutoff, 0.0, 1000.0)
    win_len = number("the ASR window (s)", win_len, 0.05, 10.0)
    if method not in ("euclid", "riemann"):
        raise EEGError(f"ASR method must be 'euclid' or 'riemann', got {method!r}")
    if mode not in MODES:
        raise EEGError(f"ASR mode must be {', '.join(map(repr, MODES))}, got {mode!r}")
    eeg = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if len(eeg) < 2:
        raise EEGError("ASR needs at least 2 good EEG channels")
    calib = _calibration_slice(raw, calib_start_s, calib_stop_s)
    sfreq = raw.info["sfreq"]
    if _HIGHPASS_HZ >= sfreq / 2:
        raise EEGError(f"ASR cannot run at {sfreq:g} Hz")
    raw.load_data()
    x = raw.get_data(picks=eeg)
    x_hp = mne.filter.filter_data(x, sfreq, _HIGHPASS_HZ, None, verbose="error")
    cleaned, changed, amplified = run_asr(x_hp, sfreq, x_hp[:, calib], cutoff, win_len, method, mode)
    raw._data[eeg] = x + (cleaned - x_hp)
    seconds = float(changed.sum() * win_len)
    report = {
        "seconds_reconstructed": round(min(seconds, raw.n_times / sfreq), 2),
        "fraction_reconstructed": round(float(changed.mean()), 4),
        "calibration_s": [round(calib.start / sfreq, 2), round(calib.stop / sfreq, 2)],
    }
    if amplified.any():
        report["warning"] = (
            f"ASR amplified {float(amplified.sum() * win_len):g} s of data: the calibration "
            "stretch was probably not clean; choose a cleaner one"
        )
    return raw, report
