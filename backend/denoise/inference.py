"""Run the denoiser on a whole recording: resample, window, cross-fade, back to volts.

ART's weaknesses this avoids: windows overlap and are joined by a raised-cosine
cross-fade whose weights sum to one (no seams), the output is in volts at the input's
scale and reference, any sampling rate works (resampled to the network's rate and
back), and any montage whose EEG channels have 10-05 positions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import mne
import numpy as np
import torch

from backend.channels import channel_positions
from backend.config import ASSETS
from backend.denoise.model import Denoiser
from backend.errors import EEGError

WEIGHTS_DIR = ASSETS / "denoiser"
WEIGHTS = WEIGHTS_DIR / "art_denoiser.pt"
CONFIG = WEIGHTS_DIR / "art_denoiser.json"
MIN_CHANNELS = 8
# Windows overlap by half (2 of 4 s): every sample is the cross-fade of two windows; on the S008
# validation runs this lowered the Clean-protocol eye RRMSE_t from 0.880 to 0.865 (1-s overlap).
DEFAULT_OVERLAP_S = 2.0


def load_model(weights: Path | str = WEIGHTS, config: Path | str | None = None, device: str = "cpu") -> Denoiser:
    """The trained network from a plain state_dict and its JSON config (never pickle)."""
    weights = Path(weights)
    config = Path(config) if config else weights.with_suffix(".json")
    if not weights.exists() or not config.exists():
        raise EEGError(f"denoiser weights not found at {weights}; train them with `python -m backend train-denoiser`")
    model = Denoiser(**json.loads(config.read_text())["model"])
    model.load_state_dict(torch.load(weights, map_location=device, weights_only=True))
    return model.to(device).eval()


@lru_cache(maxsize=2)
def shipped_model(device: str = "cpu") -> Denoiser:
    """The model in ``assets/denoiser``, loaded once per process."""
    return load_model(WEIGHTS, CONFIG, device)


def crossfade_weights(n_times: int, n_overlap: int) -> np.ndarray:
    """A window's weights: flat, with raised-cosine ramps of ``n_overlap`` samples at both ends.

    With windows ``n_times - n_overlap`` apart, the falling ramp of one and the rising
    ramp of the next sum to one (sin² + cos²); they never reach zero, so the sum of
    weights can be divided out where windows are spaced irregularly (the last one).
    """
    w = np.ones(n_times)
    if n_overlap > 0:
        ramp = np.sin(0.5 * np.pi * (np.arange(n_overlap) + 0.5) / n_overlap) ** 2
        w[:n_overlap] = ramp
        w[n_times - n_overlap :] = np.minimum(w[n_times - n_overlap :], ramp[::-1])
    return w


def window_starts(n_samples: int, n_times: int, hop: int) -> list[int]:
    """Starts of windows of ``n_times`` samples every ``hop`` samples, the last ending at the end."""
    if n_samples <= n_times:
        return [0]
    starts = list(range(0, n_samples - n_times + 1, hop))
    if starts[-1] != n_samples - n_times:
        starts.append(n_samples - n_times)
    return starts


def run_windows(
    net: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    data: np.ndarray,
    positions: np.ndarray,
    n_times: int,
    n_overlap: int,
    batch_size: int = 16,
    device: str = "cpu",
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Apply ``net`` to overlapping windows of ``data`` (C, T) and cross-fade the outputs.

    ``net(x, pos)`` maps windows (B, C, n_times) to the same shape. Recordings shorter than a
    window are padded by reflection. Returns float64 (C, T).
    """
    n_chans, n_samples = data.shape
    padded = data
    if n_samples < n_times:
        padded = np.pad(data, ((0, 0), (0, n_times - n_samples)), mode="reflect" if n_samples > 1 else "edge")
        while padded.shape[1] < n_times:  # reflection longer than the signal
            padded = np.pad(padded, ((0, 0), (0, n_times - padded.shape[1])), mode="reflect")
    total = padded.shape[1]
    starts = window_starts(total, n_times, max(1, n_times - n_overlap))
    weights = crossfade_weights(n_times, n_overlap if len(starts) > 1 else 0)
    out = np.zeros((n_chans, total))
    norm = np.zeros(total)
    pos = torch.as_tensor(positions, dtype=torch.float32, device=device)
    with torch.no_grad():
        for i in range(0, len(starts), batch_size):
            batch = starts[i : i + batch_size]
            x = torch.as_tensor(
                np.stack([padded[:, s : s + n_times] for s in batch]), dtype=torch.float32, device=device
            )
            y = net(x, pos.expand(len(batch), -1, -1)).double().cpu().numpy()
            for s, win in zip(batch, y):
                out[:, s : s + n_times] += win * weights
                norm[s : s + n_times] += weights
            if progress:
                progress(min(1.0, (i + len(batch)) / len(starts)))
    return (out / norm)[:, :n_samples]


def _resample(data: np.ndarray, to: float, frm: float) -> np.ndarray:
    if to == frm:
        return data
    return mne.filter.resample(data, to, frm, npad="auto", verbose="error")


def common_mode_artifact(artifact: np.ndarray, channel_mean: np.ndarray, far_fraction: float = 0.25) -> np.ndarray:
    """The part of ``channel_mean`` (T,) that belongs to the average-referenced ``artifact`` (C, T).

    An artifact fades with distance from its source, so in the input's own reference it is
    near zero on the channels farthest from it; average-referenced, those channels show minus
    its common mode. The regressor is therefore minus the mean artifact of the ``far_fraction``
    of channels where it is weakest; the input's channel mean is regressed on it (plus a
    constant) over the whole recording. One regressor leaves the brain signal's own common mode
    alone (the principal time courses of the artifact used before let it leak in: on the S008
    validation runs, Clean-protocol eye RRMSE_t 0.865 with 3 of them, 0.663 with this, 0.583
    with the true common mode). Zero for average-referenced input.
    """
    if not np.any(channel_mean) or not np.any(artifact):
        return np.zeros_like(channel_mean)
    strength = np.sqrt(np.mean(np.square(artifact), axis=1))
    far = np.argsort(strength)[: max(1, int(round(far_fraction * len(artifact))))]
    regressor = -artifact[far].mean(axis=0)
    design = np.c_[regressor, np.ones(len(channel_mean))]
    beta, *_ = np.linalg.lstsq(design, channel_mean, rcond=None)
    return regressor * beta[0]


def never_louder(data: np.ndarray, cleaned: np.ndarray, sfreq: float) -> np.ndarray:
    """``cleaned`` with no time-frequency bin louder than the same bin of ``data``.

    A denoiser subtracts what it takes for artifact; where its estimate holds energy the input
    lacks (the network's own broadband floor, +22 to +24 dB at 50–65 Hz after a 1–40 Hz
    band-pass on both bundled samples before this), subtracting it adds that energy. Each
    short-time Fourier bin of the output is shrunk, phase kept, to at most the input's
    magnitude (windows of about 1 s, Hann, half overlap; inverted by overlap-add), so the
    output's spectrum never rises above the input's, band by band, while what was removed stays removed.
    """
    from scipy.signal import istft, stft

    n = data.shape[-1]
    nperseg = min(n, 1 << int(np.ceil(np.log2(max(sfreq, 8.0)))))
    if nperseg < 8:
        return cleaned
    _, _, before = stft(data, nperseg=nperseg, noverlap=nperseg // 2, boundary="even", padded=True)
    _, _, after = stft(cleaned, nperseg=nperseg, noverlap=nperseg // 2, boundary="even", padded=True)
    louder = np.abs(after) > np.abs(before)
    after[louder] *= np.abs(before[louder]) / np.abs(after[louder])
    _, capped = istft(after, nperseg=nperseg, noverlap=nperseg // 2, boundary=True)
    return capped[..., :n]


def denoise_array(
    model: Denoiser,
    data: np.ndarray,
    sfreq: float,
    positions: np.ndarray,
    overlap_s: float = DEFAULT_OVERLAP_S,
    batch_size: int = 16,
    device: str = "cpu",
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Denoise multichannel EEG ``data`` (C, T) in volts sampled at ``sfreq``.

    The network works on the average-referenced signals at its own rate; the artifact it
    finds is subtracted from the input, so the output keeps the input's reference and
    scale. An average-referenced artifact misses what the artifact adds to every channel
    alike (a blink seen from a mastoid reference), so that part is estimated from the
    input's channel mean (:func:`common_mode_artifact`). When ``sfreq`` differs from the
    network's rate the output is band-limited to the network's Nyquist frequency. No
    time-frequency bin of the output is louder than the input's (:func:`never_louder`).

    Returns
    -------
    ndarray, shape (C, T), volts
    """
    data = np.asarray(data, dtype=np.float64)
    model_rate = model.sfreq
    low = _resample(data, model_rate, sfreq)
    referenced = low - low.mean(axis=0, keepdims=True)
    n_overlap = int(round(overlap_s * model_rate))
    n_overlap = min(max(n_overlap, 0), model.n_times // 2)
    cleaned = run_windows(model, referenced, positions, model.n_times, n_overlap, batch_size, device, progress)
    artifact = referenced - cleaned
    artifact = artifact + common_mode_artifact(artifact, low.mean(axis=0))[None]
    if model_rate == sfreq:
        return never_louder(data, data - artifact, sfreq)
    out = _resample(low - artifact, sfreq, model_rate)
    n = data.shape[1]
    out = out[:, :n] if out.shape[1] >= n else np.pad(out, ((0, 0), (0, n - out.shape[1])), mode="edge")
    return never_louder(data, out, sfreq)


def denoise_raw(
    raw: mne.io.BaseRaw,
    model: Denoiser | None = None,
    overlap_s: float = DEFAULT_OVERLAP_S,
    batch_size: int = 16,
    device: str = "cpu",
    progress: Callable[[float], None] | None = None,
) -> tuple[mne.io.BaseRaw, dict]:
    """Denoise the good EEG channels with known positions of ``raw`` in place.

    Other channels (bad, non-EEG, or without a 10-05 position) are left as they are.
    """
    model = model or shipped_model(device)
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    # the template position wherever a name has one: the coordinates the model was trained on
    positions = channel_positions([raw.ch_names[p] for p in picks], raw.info, prefer="template")
    known = np.isfinite(positions).all(axis=1)
    if known.sum() < MIN_CHANNELS:
        raise EEGError(
            f"the denoiser needs at least {MIN_CHANNELS} good EEG channels with 10-05 positions, "
            f"found {int(known.sum())}"
        )
    picks = picks[known]
    raw.load_data()
    data = raw.get_data(picks=picks)
    # The matrices are small: one thread is as fast, and two thrash on a shared 2-core machine
    # (benchmarks/denoise.py: 349x real time with 1 thread, 52x with 2 while others ran).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cleaned = denoise_array(
            model, data, raw.info["sfreq"], positions[known], overlap_s, batch_size, device, progress
        )
    finally:
        torch.set_num_threads(threads)
    raw._data[picks] = cleaned
    removed = float(np.sqrt(np.mean((data - cleaned) ** 2)) / max(np.sqrt(np.mean(data**2)), 1e-30))
    not_denoised = sorted(
        set(raw.ch_names[p] for p in mne.pick_types(raw.info, eeg=True, exclude=[])) - {raw.ch_names[p] for p in picks}
    )
    return raw, {
        "channels_denoised": len(picks),
        "channels_not_denoised": not_denoised,
        "removed_rms_fraction": round(removed, 4),
    }


def _art_script(overlap_s=DEFAULT_OVERLAP_S) -> list[str]:
    return [
        "# ART-style transformer denoiser of EEG Explorer (needs its backend and assets/denoiser)",
        "from backend.denoise.inference import denoise_raw",
        f"raw, _ = denoise_raw(raw, overlap_s={overlap_s!r})",
    ]


def art(raw, overlap_s: float = DEFAULT_OVERLAP_S):
    _check_overlap(overlap_s)
    return denoise_raw(raw, overlap_s=float(overlap_s))


def _check_overlap(overlap_s) -> None:
    if not isinstance(overlap_s, (int, float)) or not 0 <= float(overlap_s) <= 2.0:
        raise EEGError(f"window overlap must be between 0 and 2 s, got {overlap_s!r}")


class ArtDenoiser:
    """scikit-learn style wrapper: ``ArtDenoiser().transform(recording)`` returns the denoised Recording.

    The result is the same as ``recording.apply("art", overlap_s=...)`` (an ``art`` step in its
    history), with progress reported while it runs.

    Parameters
    ----------
    overlap_s : float
        Seconds shared by consecutive windows (cross-faded).
    device : str
        'cpu' or 'cuda'.
    progress : callable, optional
        Called with the fraction done (0–1).
    """

    def __init__(
        self, overlap_s: float = DEFAULT_OVERLAP_S, device: str = "cpu", progress: Callable[[float], None] | None = None
    ):
        self.overlap_s, self.device, self.progress = overlap_s, device, progress

    def fit(self, recording=None, y=None):
        """Nothing to fit: the weights ship trained. Returns self."""
        return self

    def transform(self, recording):
        from backend.recording import Step

        _check_overlap(self.overlap_s)
        raw, report = denoise_raw(
            recording.raw.copy(),
            shipped_model(self.device),
            float(self.overlap_s),
            device=self.device,
            progress=self.progress,
        )
        return recording.with_raw(raw, Step("art", {"overlap_s": float(self.overlap_s)}, report))

    def fit_transform(self, recording, y=None):
        return self.fit(recording).transform(recording)
