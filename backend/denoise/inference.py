"""Run the denoiser on a whole recording: resample, window, cross-fade, back to volts.

ART's weaknesses this avoids: windows overlap and are joined by a raised-cosine
cross-fade whose weights sum to one (no seams), the output is in volts at the input's
scale and reference, any sampling rate works (resampled to the network's rate and
back), and any montage whose EEG channels have 10-05 positions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import mne
import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft
from scipy.signal import get_window, resample_poly

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


def _resample(data: np.ndarray, to: float, frm: float, chunk: int = 8) -> np.ndarray:
    """``data`` (C, T) resampled from ``frm`` to ``to`` Hz by FFT, in step with the input's time axis.

    MNE's method (``mne.filter.resample``: edges padded by odd reflection, the spectrum cut
    or zero-extended at the new Nyquist frequency, a brick wall, the padding trimmed),
    vectorised over channels in float32, with one change: the padding is a whole number
    of the ratio's denominator on each edge and in all (160 → 128 Hz is 4/5: multiples of
    5), so the padded signal and the trimmed start map to whole samples. MNE's
    ``npad="auto"`` pads to a power of two, whose length times 4/5 is not whole: its output
    sits part of a sample off (at 35 Hz, 20–100 % of the amplitude in the test), and the
    round trip through 128 Hz, used here before, changed 34 % of a 60-s stretch of S009R04
    after a 1–40 Hz band-pass (RRMSE_t 0.339; this one 1.6 %). Returns float64.
    """
    if to == frm:
        return data
    n = data.shape[-1]
    ratio = Fraction(to / frm).limit_denominator(1000)
    up, down = ratio.numerator, ratio.denominator
    final_len = max(int(round(to / frm * n)), 1)
    pad = down * -(-min(n // 8, 100) // down)  # at least MNE's 100 samples (an eighth of short signals)
    length = down * fft.next_fast_len(-(-(n + 2 * pad) // down))
    extra = length - n - 2 * pad
    if pad + extra >= n:  # too short to reflect: polyphase filtering keeps the time axis too
        out = resample_poly(data, up, down, axis=-1, padtype="antireflect")
        return np.pad(out, ((0, 0), (0, max(0, final_len - out.shape[-1]))), mode="edge")[:, :final_len]
    new_len = length * up // down
    start = pad * up // down
    use_len = min(new_len, length)
    out = np.empty((len(data), final_len))
    for c in range(0, len(data), chunk):  # a few channels at a time: their arrays stay in cache
        x = np.empty((len(data[c : c + chunk]), length), dtype=np.float32)
        x[:, pad : pad + n] = data[c : c + chunk]
        x[:, :pad] = 2 * x[:, pad : pad + 1] - x[:, 2 * pad : pad : -1]
        x[:, pad + n :] = 2 * x[:, pad + n - 1 : pad + n] - x[:, pad + n - 2 : n - extra - 2 : -1]
        spectrum = fft.rfft(x, axis=-1)
        if use_len % 2 == 0:  # the Nyquist bin, as mne (after scipy.signal.resample) treats it
            spectrum[:, use_len // 2] *= 2 if new_len < length else 0.5
        spectrum *= new_len / length
        out[c : c + chunk] = fft.irfft(spectrum, new_len, axis=-1)[:, start : start + final_len]
    return out


def common_mode_artifact(
    artifact: np.ndarray,
    channel_mean: np.ndarray,
    sfreq: float,
    side_fraction: float = 0.25,
    envelope_s: float = 0.5,
    floor_quantile: float = 0.8,
) -> np.ndarray:
    """The part of ``channel_mean`` (T,) that belongs to the average-referenced ``artifact`` (C, T).

    An artifact fades with distance from its source, so in the input's own reference it is
    near zero on the channels farthest from it; average-referenced, every channel shows it
    minus its common mode. Its course is therefore the mean artifact of the ``side_fraction``
    of channels where it is strongest minus that of the fraction where it is weakest (both
    sides, not the far side alone: the far side's small, noisy course bent the regression
    slope towards zero, removing a third to a half of a blink's common mode).
    The course is weighted by its envelope over ``envelope_s`` against its ``floor_quantile``
    (w = e² / (e² + floor²)): artifacts come in events, while what the network mistakes for
    artifact between them is at the floor. The input's channel mean is regressed on the
    weighted course (plus a constant) over the whole recording, and the result is kept, in
    each time-frequency bin, in proportion to its share of the channel mean there
    (:func:`never_louder` with ``mask``), so the brain's own common mode stays.

    Chosen on the S008 validation runs (the Clean protocol's blink / muscle / mixed cases at
    −5, −1, +2 dB, RRMSE_t after 1–40 Hz, the output masked as :func:`denoise_array` does,
    with the part-sample-shifted resampling :func:`_resample` replaced on 2026-12-02):
    far side alone 0.741 / 0.393 / 0.541, both sides 0.585 / 0.414 / 0.574, weighted
    0.527 / 0.416 / 0.543, masked 0.484 / 0.392 / 0.515, the true common mode
    0.356 / 0.331 / 0.394. Zero for average-referenced input.
    """
    if not np.any(channel_mean) or not np.any(artifact):
        return np.zeros_like(channel_mean)
    strength = np.einsum("ct,ct->c", artifact, artifact)  # the order of the RMS, without a (C, T) temporary
    order = np.argsort(strength)
    side = max(1, int(round(side_fraction * len(artifact))))
    course = artifact[order[-side:]].mean(axis=0) - artifact[order[:side]].mean(axis=0)
    width = max(1, int(round(envelope_s * sfreq)))
    envelope = np.convolve(course**2, np.ones(width) / width, mode="same")  # squared
    floor = np.quantile(envelope, floor_quantile)
    regressor = course * envelope / np.maximum(envelope + floor, np.finfo(float).tiny)
    # least squares on [regressor, 1]: the slope is the covariance over the regressor's variance
    centred = regressor - regressor.mean()
    variance = centred @ centred
    if variance <= 0:
        return np.zeros_like(channel_mean)
    estimate = regressor * ((centred @ (channel_mean - channel_mean.mean())) / variance)
    kept = never_louder(channel_mean[None], (channel_mean - estimate)[None], sfreq, mask=True)[0]
    return channel_mean - kept


def never_louder(data: np.ndarray, cleaned: np.ndarray, sfreq: float, chunk: int = 8, mask: bool = False) -> np.ndarray:
    """``cleaned`` with no time-frequency bin louder than the same bin of ``data``.

    A denoiser subtracts what it takes for artifact; where its estimate holds energy the input
    lacks (the network's own broadband floor, +22 to +24 dB at 50–65 Hz after a 1–40 Hz
    band-pass on both bundled samples before this), subtracting it adds that energy. Each
    short-time Fourier bin of the output is shrunk, phase kept, to at most the input's
    magnitude (windows of about 1 s, Hann, half overlap; inverted by overlap-add), so the
    output's spectrum never rises above the input's, band by band, while what was removed stays removed.

    The transform is ``scipy.signal.stft``/``istft``'s (even extension of the edges, the
    last frame zero-padded, overlap-add divided by the summed squared window), written out
    in float32 over ``chunk`` channels at a time: scipy's took 5.0 of the 9.7 s of `art` on
    16 min of 32 channels at 160 Hz, this 0.3–0.7 s of CPU; the two differ by about 1e-6 relative.

    With ``mask``, what ``cleaned`` removes from each bin is first weighted by its share of the
    bin, |removed|² / (|removed|² + |cleaned|²): a Wiener mask built from the estimate itself,
    so a removal stays whole where the estimate calls the bin artifact and shrinks where it
    takes a little from a bin it calls signal. For ``art`` (benchmarks/denoise.py, held-out
    recordings): Clean-protocol blink / muscle / mixed at −5, −1, +2 dB, RRMSE_t after 1–40 Hz,
    0.474 / 0.461 / 0.533 without it, 0.426 / 0.372 / 0.497 with it; the price is on real
    ICA artifacts 5 times the signal's RMS, which the network only partly removes: eye / muscle
    at −7 and −1 dB on 64 channels, 0.819 / 0.913 without, 0.847 / 0.987 with (all measured
    before :func:`_resample` was put in step with the time axis; the README has today's figures).

    Returns float64.
    """
    n = data.shape[-1]
    nperseg = min(n, 1 << int(np.ceil(np.log2(max(sfreq, 8.0)))))
    if nperseg < 8:
        return cleaned
    step = nperseg - nperseg // 2
    edge = nperseg // 2
    tail = (-(n + 2 * edge - nperseg) % step) % nperseg
    total = n + 2 * edge + tail
    n_frames = (total - nperseg) // step + 1
    window = get_window("hann", nperseg).astype(np.float32)
    # Overlap-add in two parts: each frame's first `step` samples, then its last nperseg - step.
    norm = np.zeros((n_frames + 1) * step, np.float32)
    norm[: n_frames * step].reshape(n_frames, step)[:] += window[:step] ** 2
    norm[step:].reshape(n_frames, step)[:, : nperseg - step] += window[step:] ** 2
    norm = np.where(norm > 1e-10, norm, 1.0)[edge : edge + n]

    def spectra(x: np.ndarray) -> np.ndarray:
        x = np.pad(np.asarray(x, dtype=np.float32), ((0, 0), (edge, edge)), mode="reflect")
        x = np.pad(x, ((0, 0), (0, tail)))
        return fft.rfft(sliding_window_view(x, nperseg, axis=-1)[:, ::step] * window, axis=-1)

    out = np.empty(np.shape(cleaned), dtype=np.float64)
    for c in range(0, len(out), chunk):
        noisy = spectra(data[c : c + chunk])
        after = spectra(cleaned[c : c + chunk])
        before = np.abs(noisy)
        if mask:
            removed = noisy - after
            share = removed.real**2 + removed.imag**2
            share /= np.maximum(share + after.real**2 + after.imag**2, np.finfo(np.float32).tiny)
            after = noisy - share * removed
        magnitude = np.abs(after)
        louder = magnitude > before
        after[louder] *= before[louder] / magnitude[louder]
        frames = fft.irfft(after, nperseg, axis=-1) * window
        y = np.zeros((len(frames), (n_frames + 1) * step), np.float32)
        y[:, : n_frames * step].reshape(len(frames), n_frames, step)[:] += frames[..., :step]
        y[:, step:].reshape(len(frames), n_frames, step)[..., : nperseg - step] += frames[..., step:]
        out[c : c + chunk] = y[:, edge : edge + n] / norm
    return out


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
    artifact = artifact + common_mode_artifact(artifact, low.mean(axis=0), model_rate)[None]
    if model_rate == sfreq:
        return never_louder(data, data - artifact, sfreq, mask=True)
    out = _resample(low - artifact, sfreq, model_rate)
    n = data.shape[1]
    out = out[:, :n] if out.shape[1] >= n else np.pad(out, ((0, 0), (0, n - out.shape[1])), mode="edge")
    return never_louder(data, out, sfreq, mask=True)


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
