"""Bad-channel detection as in PREP (pyprep) and spherical-spline interpolation (MNE).

pyprep's ``NoisyChannels`` is the maintained Python port of the PREP pipeline
(Bigdely-Shamlo et al. 2015): flat channels, robust deviation (amplitude z-score
from the median and MAD), low correlation with the other channels, and RANSAC
(a channel that its neighbours, interpolated from random subsets, fail to
predict). RANSAC and interpolation need electrode positions; without them the
step says so in its report and keeps to the other criteria.
"""

from __future__ import annotations

import mne

from backend.channels import has_positions
from backend.errors import EEGError

DETECTORS = ("flat", "deviation", "correlation", "ransac")
# How bad channels are repaired, passed to Raw.interpolate_bads by the steps and their scripts.
INTERPOLATION = {"reset_bads": True, "method": {"eeg": "spline"}}
_MIN_CHANNELS = 4


def _check_methods(methods) -> list[str]:
    methods = [methods] if isinstance(methods, str) else list(methods)
    unknown = sorted(set(methods) - set(DETECTORS))
    if unknown or not methods:
        raise EEGError(f"unknown bad-channel criterion {', '.join(unknown) or '(none)'}; use {', '.join(DETECTORS)}")
    return methods


def detect_bad_channels(raw: mne.io.BaseRaw, methods=DETECTORS, seed: int = 97) -> dict:
    """Find bad EEG channels with pyprep; ``raw`` is not changed.

    Returns
    -------
    dict
        ``bads`` (all channels found), ``by_method`` (criterion -> channels) and
        ``skipped`` (criterion -> the reason it could not run).
    """
    from pyprep.find_noisy_channels import NoisyChannels

    methods = _check_methods(methods)
    eeg = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if len(eeg) < _MIN_CHANNELS:
        raise EEGError(
            f"bad-channel detection needs at least {_MIN_CHANNELS} good EEG channels, this recording has {len(eeg)}"
        )
    if raw.n_times < 2 * raw.info["sfreq"]:
        raise EEGError("bad-channel detection needs at least 2 s of data")
    skipped: dict[str, str] = {}
    if "ransac" in methods and not has_positions(raw):
        skipped["ransac"] = "no electrode positions"
    elif "ransac" in methods and raw.n_times < 5 * raw.info["sfreq"]:
        skipped["ransac"] = "needs at least 5 s of data"
    with mne.utils.use_log_level("error"):
        noisy = NoisyChannels(raw.copy().pick(eeg).load_data(), random_state=seed)
        by_method: dict[str, list[str]] = {}
        if "flat" in methods:
            noisy.find_bad_by_nan_flat()
            by_method["flat"] = sorted(set(noisy.bad_by_flat) | set(noisy.bad_by_nan))
        if "deviation" in methods:
            noisy.find_bad_by_deviation()
            by_method["deviation"] = sorted(noisy.bad_by_deviation)
        if "correlation" in methods:
            noisy.find_bad_by_correlation()
            by_method["correlation"] = sorted(noisy.bad_by_correlation)
        if "ransac" in methods and "ransac" not in skipped:
            try:
                noisy.find_bad_by_ransac()
                by_method["ransac"] = sorted(noisy.bad_by_ransac)
            except OSError as exc:  # pyprep's way of saying too few good channels are left
                skipped["ransac"] = str(exc).split(".")[0].lower()
    bads = sorted({ch for found in by_method.values() for ch in found}, key=raw.ch_names.index)
    return {"bads": bads, "by_method": by_method, "skipped": skipped}


def interpolate_channels(raw: mne.io.BaseRaw) -> list[str]:
    """Spherical-spline interpolation of ``raw.info['bads']`` in place; returns the channels replaced."""
    bads = [b for b in raw.info["bads"] if b in raw.ch_names]
    if not bads:
        return []
    if not has_positions(raw):
        raise EEGError("interpolation needs electrode positions: set a montage or use standard channel names")
    good = len(mne.pick_types(raw.info, eeg=True, exclude="bads"))
    if good < _MIN_CHANNELS:
        raise EEGError(f"too few good EEG channels ({good}) to interpolate {len(bads)} bad ones")
    raw.load_data()
    with mne.utils.use_log_level("error"):
        raw.interpolate_bads(**INTERPOLATION)
    return bads


_INTERPOLATE_LINE = f"raw.interpolate_bads({', '.join(f'{k}={v!r}' for k, v in INTERPOLATION.items())})"


def _bad_channels_script(methods=DETECTORS, interpolate=True, seed=97) -> list[str]:
    calls = {
        "flat": "noisy.find_bad_by_nan_flat()",
        "deviation": "noisy.find_bad_by_deviation()",
        "correlation": "noisy.find_bad_by_correlation()",
        "ransac": "noisy.find_bad_by_ransac()",
    }
    methods = [methods] if isinstance(methods, str) else list(methods)
    lines = [
        "from pyprep.find_noisy_channels import NoisyChannels",
        "raw.load_data()",
        f"noisy = NoisyChannels(raw.copy().pick('eeg', exclude='bads'), random_state={seed})",
        *[calls[m] for m in methods],
        "raw.info['bads'] += [ch for ch in noisy.get_bads() if ch not in raw.info['bads']]",
    ]
    if interpolate:
        lines.append(_INTERPOLATE_LINE)
    return lines


def bad_channels(raw, methods=DETECTORS, interpolate: bool = True, seed: int = 97):
    if not isinstance(interpolate, bool):
        raise EEGError(f"interpolate must be true or false, got {interpolate!r}")
    found = detect_bad_channels(raw, methods, seed)
    raw.info["bads"] = list(raw.info["bads"]) + [b for b in found["bads"] if b not in raw.info["bads"]]
    report = {"bad_channels": found["bads"], "by_method": found["by_method"]}
    if found["skipped"]:
        report["skipped"] = found["skipped"]
    if interpolate and found["bads"]:
        if has_positions(raw):
            report["interpolated"] = interpolate_channels(raw)
        else:
            report["not_interpolated"] = "no electrode positions: the channels are marked bad instead"
    return raw, report


def _interpolate_bads_script() -> list[str]:
    return ["raw.load_data()", _INTERPOLATE_LINE]


def interpolate_bads(raw):
    if not raw.info["bads"]:
        raise EEGError("no channel is marked bad: mark some (Load page) or run bad-channel detection first")
    return raw, {"interpolated": interpolate_channels(raw)}
