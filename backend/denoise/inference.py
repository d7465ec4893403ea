"""Run the denoiser on a whole recording: resample, window, cross-fade, back to volts.

ART's weaknesses this avoids: windows overlap and are joined by a raised-cosine
cross-fade whose weights sum to one (no seams), the output is in volts at the input's
scale and reference, any sampling rate works (resampled to the network's rate and
back), and any montage whose EEG channels have 10-05 positions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import mne
import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft
from scipy.ndimage import uniform_filter1d
from scipy.signal import get_window, resample_poly

from backend.channels import channel_positions
from backend.config import ASSETS
from backend.denoise.model import Denoiser
from backend.errors import EEGError

WEIGHTS_DIR = ASSETS / "denoiser"
WEIGHTS = WEIGHTS_DIR / "art_denoiser.pt"
CONFIG = WEIGHTS_DIR / "art_denoiser.json"
MIN_CHANNELS = 8
# CPU threads of the network in the `art` step. One where it shares the machine: jobs run one to
# a core on the Dask workers, and two threads thrashed on the shared 2-core machine (52x real time
# against 349x with one while others ran). `python -m backend clean`, alone on the machine, runs
# its steps in :func:`steps_on_threads` (all cores by default: 2 threads 363-419x, 1 thread
# 229-309x, 32 channels at 160 Hz, 2026-12-02, quiet machine).
step_threads = 1


@contextmanager
def steps_on_threads(n: int) -> Iterator[None]:
    """`art` steps run inside this block use ``n`` CPU threads."""
    global step_threads
    before, step_threads = step_threads, max(1, int(n))
    try:
        yield
    finally:
        step_threads = before


# Windows of 4 s overlap by 1 s and are cross-faded there. Half (2 s) costs the network 1.5 times
# as much and gained nothing once the output was masked (S008 validation, Clean protocol eye / blink /
# muscle / mixed RRMSE_t after 1-40 Hz: 0.418 / 0.377 / 0.302 / 0.465 with 2 s, 0.417 / 0.377 / 0.298 /
# 0.466 with 1 s); before the mask, 2 s had lowered eye from 0.880 to 0.865.
DEFAULT_OVERLAP_S = 1.0


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
    −5, −1, +2 dB, RRMSE_t after 1–40 Hz, the output masked channel by channel, in 1-s windows
    with 2-s overlap, as :func:`denoise_array` did until :func:`pooled_mask`, and with the
    part-sample-shifted resampling :func:`_resample` replaced on 2026-12-02):
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


class _Stft:
    """``scipy.signal.stft``/``istft`` with Hann windows of ``nperseg`` and half overlap, in float32.

    Even extension of the edges, the last frame zero-padded, overlap-add divided by the summed
    squared window, as scipy does (the two differ by about 1e-6 relative); written out because
    scipy's took 5.0 of the 9.7 s of `art` on 16 min of 32 channels at 160 Hz, this 0.3–0.7 s.
    """

    def __init__(self, n: int, nperseg: int):
        self.n, self.nperseg = n, nperseg
        self.step, self.edge = nperseg - nperseg // 2, nperseg // 2
        self.tail = (-(n + 2 * self.edge - nperseg) % self.step) % nperseg
        self.n_frames = (n + 2 * self.edge + self.tail - nperseg) // self.step + 1
        self.window = get_window("hann", nperseg).astype(np.float32)
        self.norm = self._overlap_add(self.window[None, None] ** 2 * np.ones((1, self.n_frames, 1), np.float32))[0]
        self.norm = np.where(self.norm > 1e-10, self.norm, 1.0)

    def spectra(self, x: np.ndarray) -> np.ndarray:
        """(C, frames, bins) complex64 of ``x`` (C, n)."""
        x = np.pad(np.asarray(x, dtype=np.float32), ((0, 0), (self.edge, self.edge)), mode="reflect")
        x = np.pad(x, ((0, 0), (0, self.tail)))  # the last frame zero-padded
        return fft.rfft(sliding_window_view(x, self.nperseg, axis=-1)[:, :: self.step] * self.window, axis=-1)

    def inverse(self, spectra: np.ndarray) -> np.ndarray:
        """(C, n) float32 of ``spectra`` (C, frames, bins)."""
        return self._overlap_add(fft.irfft(spectra, self.nperseg, axis=-1) * self.window) / self.norm

    def _overlap_add(self, frames: np.ndarray) -> np.ndarray:
        # in two parts: each frame's first `step` samples, then its last nperseg - step
        step, n_frames = self.step, self.n_frames
        y = np.zeros((len(frames), (n_frames + 1) * step), np.float32)
        y[:, : n_frames * step].reshape(len(frames), n_frames, step)[:] += frames[..., :step]
        y[:, step:].reshape(len(frames), n_frames, step)[..., : self.nperseg - step] += frames[..., step:]
        return y[:, self.edge : self.edge + self.n]


def never_louder(data: np.ndarray, cleaned: np.ndarray, sfreq: float, chunk: int = 8, mask: bool = False) -> np.ndarray:
    """``cleaned`` with no time-frequency bin louder than the same bin of ``data``.

    A denoiser subtracts what it takes for artifact; where its estimate holds energy the input
    lacks (the network's own broadband floor, +22 to +24 dB at 50–65 Hz after a 1–40 Hz
    band-pass on both bundled samples before this), subtracting it adds that energy. Each
    short-time Fourier bin of the output is shrunk, phase kept, to at most the input's
    magnitude (windows of about 1 s, Hann, half overlap; inverted by overlap-add), so the
    output's spectrum never rises above the input's, band by band, while what was removed
    stays removed. With ``mask``, :func:`pooled_mask` weights the removal first. ``chunk``
    channels are transformed at a time. Returns float64.
    """
    if mask:
        cleaned = pooled_mask(data, cleaned, sfreq, chunk)
    n = data.shape[-1]
    nperseg = min(n, 1 << int(np.ceil(np.log2(max(sfreq, 8.0)))))
    if nperseg < 8:
        return cleaned
    stft = _Stft(n, nperseg)
    out = np.empty(np.shape(cleaned), dtype=np.float64)
    for c in range(0, len(out), chunk):
        before = np.abs(stft.spectra(data[c : c + chunk]))
        after = stft.spectra(cleaned[c : c + chunk])
        magnitude = np.abs(after)
        louder = magnitude > before
        after[louder] *= before[louder] / magnitude[louder]
        out[c : c + chunk] = stft.inverse(after)
    return out


MASK_MEMORY_BYTES = 256 * 2**20  # 16 min of 32 channels at 160 Hz take 80 MB


def pooled_mask(data: np.ndarray, cleaned: np.ndarray, sfreq: float, chunk: int = 8) -> np.ndarray:
    """``data`` minus what ``cleaned`` removes from it, weighted in each time-frequency bin by its share there.

    The share is the removal's over all channels and the two neighbouring frequencies,
    Σ|removed|² / Σ(|removed|² + |cleaned|²): a Wiener mask built from the estimate itself and
    pooled across the montage, as an artifact is one event seen on many channels. A bin the
    estimate calls artifact is removed whole on every channel, the far ones where the artifact
    is faint beside the EEG included, and a small removal from a bin the montage calls signal
    is shrunk. Transform windows of about half a second (:func:`mask_length`).

    Chosen on the S008 validation runs (the Clean protocol's eye / blink / muscle / mixed cases
    at −5, −1, +2 dB, RRMSE_t after 1–40 Hz, 1-s window overlap, capped by :func:`never_louder`):
    the mask channel by channel in 1-s windows 0.477 / 0.454 / 0.382 / 0.525, pooled over
    channels 0.433 / 0.404 / 0.301 / 0.492, and in half-second windows with neighbouring
    frequencies 0.417 / 0.377 / 0.298 / 0.466. Other ways tried there: with the mask channel by
    channel (and 2-s overlap: 0.477 / 0.455 / 0.384 / 0.523), the network run twice 0.539 / 0.523 /
    0.509 / 0.594, its estimate averaged with that of the sign-flipped or the time-reversed input
    (twice the cost) within 0.006; pooled, the share squared 0.418 / 0.384 / 0.254 / 0.515 (1-s
    windows; correlation on mixed 0.896 against 0.907 unsquared), and pooled over each channel's
    16 nearest instead of all 0.437 / 0.396 / 0.320 / 0.473 (half-second windows). On real ICA
    artifacts of the held-out runs, which the network only partly removes, it costs little: eye /
    muscle at −7 and −1 dB on 64 channels 0.846 / 0.989 with the mask channel by channel,
    0.854 / 0.994 pooled (benchmarks/denoise.py). Returns float64.
    """
    n = data.shape[-1]
    nperseg = min(n, mask_length(sfreq))
    if nperseg < 8:
        return np.asarray(cleaned, dtype=np.float64)
    stft = _Stft(n, nperseg)
    n_bins = nperseg // 2 + 1
    # the first pass's spectra are kept for the second where they fit in MASK_MEMORY_BYTES
    keep = 2 * len(data) * stft.n_frames * n_bins * np.dtype(np.complex64).itemsize <= MASK_MEMORY_BYTES
    kept: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    removed_power = np.zeros((stft.n_frames, n_bins), np.float32)
    total_power = np.zeros_like(removed_power)
    for c in range(0, len(data), chunk):  # a first pass sums the removed and the total power over all channels
        noisy, after = stft.spectra(data[c : c + chunk]), stft.spectra(cleaned[c : c + chunk])
        if keep:
            kept[c] = noisy, after
        removed = noisy - after
        power = (removed.real**2 + removed.imag**2).sum(axis=0)
        removed_power += power
        total_power += power + (after.real**2 + after.imag**2).sum(axis=0)
    share = uniform_filter1d(removed_power, 3, axis=-1) / np.maximum(
        uniform_filter1d(total_power, 3, axis=-1), np.finfo(np.float32).tiny
    )
    out = np.empty(np.shape(cleaned), dtype=np.float64)
    for c in range(0, len(data), chunk):
        noisy, after = (
            kept.pop(c) if keep else (stft.spectra(data[c : c + chunk]), stft.spectra(cleaned[c : c + chunk]))
        )
        out[c : c + chunk] = stft.inverse(noisy - share * (noisy - after))
    return out


def mask_length(sfreq: float) -> int:
    """Samples of :func:`pooled_mask`'s transform windows: the power of two nearest above half a second.

    Half a second follows a blink's or a burst's course more closely than a second (S008
    validation, the mask pooled over channels without neighbouring frequencies: 0.433 / 0.404 /
    0.301 / 0.492 for eye / blink / muscle / mixed with ~1-s windows, 0.420 / 0.381 / 0.304 /
    0.467 with ~0.5-s, 0.421 / 0.381 / 0.311 / 0.460 with ~0.25-s); 64 samples at 128 Hz
    (2-Hz bins), 128 at 160 to 256 Hz. The cap after it keeps 1-s windows: with half-second ones
    its leakage lifted 50–55 Hz of the band-passed EEGLAB sample by 2.6 dB.
    """
    return 1 << int(np.ceil(np.log2(max(sfreq / 2, 4.0))))


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
    network's rate the output is band-limited to the network's Nyquist frequency. What is
    removed from each time-frequency bin is weighted by its share there over all channels
    (:func:`pooled_mask`), and no bin of the output is louder than the input's (:func:`never_louder`).

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
    threads: int | None = None,
) -> tuple[mne.io.BaseRaw, dict]:
    """Denoise the good EEG channels with known positions of ``raw`` in place.

    Other channels (bad, non-EEG, or without a 10-05 position) are left as they are. The
    network runs on ``threads`` CPU threads (default :data:`step_threads`).
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
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, threads or step_threads))
    try:
        cleaned = denoise_array(
            model, data, raw.info["sfreq"], positions[known], overlap_s, batch_size, device, progress
        )
    finally:
        torch.set_num_threads(before)
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
