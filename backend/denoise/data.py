"""Training and evaluation pairs for the denoiser, made the ART way from real recordings.

Each recording is split once into ICLabel-labelled ICA components (``backend.components.ica``)
and the :class:`ArtifactSplit` is cached as a small ``.npz`` (component time courses at the model
rate, topographies in volts, class probabilities, electrode positions). Pairs are then cheap:

* ART recipe (Chuang et al. 2024): clean = back-projection of the components ICLabel calls
  Brain with probability >= 0.8; noisy = clean + the components of one artifact class.
* Semi-synthetic (EEGdenoiseNet style, Zhang et al. 2021): clean = the recording with its
  artifact-class components removed; noisy = clean + real artifact components taken from
  another recording, or artifacts made by the Clean stage's injector
  (``backend.clean.inject``: blinks, saccades, muscle bursts, ECG, line noise, pops),
  scaled to a signal-to-noise ratio between -7 and 2 dB.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

from backend.channels import channel_positions
from backend.components.ica import ARTIFACT_CLASSES, ICLABEL_CLASSES, fit_ica, label_components
from backend.errors import EEGError

BRAIN_THRESHOLD = 0.8  # ART's rule for the clean target
SNR_RANGE_DB = (-7.0, 2.0)  # EEGdenoiseNet's range
MODEL_SFREQ = 128.0
# Injector artifact groups of semi-synthetic windows and their default weights.
INJECT_GROUPS = (
    ("blink", "saccade"),
    ("muscle",),
    ("blink", "saccade", "muscle"),
    ("blink",),
    ("ecg",),
    ("line",),
    ("pop",),
)
INJECT_P = (0.25, 0.3, 0.2, 0.1, 0.05, 0.05, 0.05)


@dataclass
class ArtifactSplit:
    """One recording split into ICLabel-labelled ICA components, at the model rate.

    Training pairs are put together from its parts: the brain components (the clean
    target), the artifact components of each class (what the model learns to remove).

    Attributes
    ----------
    name : str
    ch_names : list of str
    positions : ndarray, shape (n_chans, 3)
        Electrode positions on the 10-05 template head, metres.
    mixing : ndarray, shape (n_chans, n_comp)
        Topographies in volts per unit of source.
    sources : ndarray, shape (n_comp, n_times)
        Component time courses at ``sfreq``.
    data : ndarray, shape (n_chans, n_times)
        The ICA-ready signals (average reference, 1 Hz high-pass) at ``sfreq``, volts;
        ``data - project(artifact components)`` keeps what the ICA's PCA left out.
    probs : ndarray, shape (n_comp, 7)
        ICLabel probabilities, columns as ``ICLABEL_CLASSES``.
    sfreq : float
    """

    name: str
    ch_names: list
    positions: np.ndarray
    mixing: np.ndarray
    sources: np.ndarray
    probs: np.ndarray
    sfreq: float
    data: np.ndarray

    def labels(self) -> np.ndarray:
        return np.array(ICLABEL_CLASSES)[self.probs.argmax(axis=1)]

    def brain(self, threshold: float = BRAIN_THRESHOLD) -> np.ndarray:
        return np.flatnonzero(self.probs[:, 0] >= threshold)

    def of_class(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.labels() == name)

    def project(self, comps, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Back-projection of ``comps`` to the channels, volts, shape (n_chans, n_times)."""
        comps = np.asarray(comps, dtype=int)
        seg = self.sources[comps, start:stop]
        return self.mixing[:, comps] @ seg if len(comps) else np.zeros((len(self.ch_names), seg.shape[1]))

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            name=self.name,
            ch_names=np.array(self.ch_names),
            positions=self.positions,
            mixing=self.mixing.astype(np.float32),
            sources=self.sources.astype(np.float32),
            probs=self.probs.astype(np.float32),
            sfreq=self.sfreq,
            data=self.data.astype(np.float32),
        )

    @classmethod
    def load(cls, path: Path) -> ArtifactSplit:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                str(z["name"]),
                [str(c) for c in z["ch_names"]],
                z["positions"].astype(np.float64),
                z["mixing"].astype(np.float64),
                z["sources"].astype(np.float64),
                z["probs"].astype(np.float64),
                float(z["sfreq"]),
                z["data"].astype(np.float64),
            )


def split_artifacts(
    raw: mne.io.BaseRaw, name: str, n_components: int = 30, seed: int = 97, sfreq: float | None = MODEL_SFREQ
) -> ArtifactSplit:
    """Fit ICA + ICLabel on ``raw`` and keep what pairs need, resampled to ``sfreq`` (None: as recorded).

    ``n_components`` bounds the ICA (a full 64-component Picard fit takes ~80 s on the
    2-core reference machine, 30 components a fraction of that).
    """
    n_eeg = len(mne.pick_types(raw.info, eeg=True, exclude="bads"))
    ica, prepared = fit_ica(raw, "picard", max(2, min(n_components, n_eeg - 1)), seed)
    probs = label_components(prepared, ica)
    sources = ica.get_sources(prepared).get_data()
    # get_components() is in whitened units; the pre-whitener puts it back in volts.
    mixing = ica.get_components() * ica.pre_whitener_.reshape(-1, 1)
    data = prepared.get_data()
    native = prepared.info["sfreq"]
    if sfreq is not None and sfreq != native:
        sources = mne.filter.resample(sources, sfreq, native, npad="auto", verbose="error")
        data = mne.filter.resample(data, sfreq, native, npad="auto", verbose="error")
    positions = channel_positions(prepared.ch_names, prepared.info, prefer="template")
    return ArtifactSplit(name, list(prepared.ch_names), positions, mixing, sources, probs, float(sfreq or native), data)


def split_files(paths, cache: Path, progress=print, sfreq: float | None = MODEL_SFREQ) -> list[Path]:
    """Split each recording once (see :func:`split_artifacts`); returns the cached ``.npz`` paths."""
    from backend.io import load_recording

    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for path in paths:
        path = Path(path)
        target = cache / f"{path.stem}.npz"
        if not target.exists():
            rec = load_recording([path] + ([path.with_suffix(".fdt")] if path.suffix == ".set" else []))
            split = split_artifacts(rec.raw, path.stem, sfreq=sfreq)
            split.save(target)
            progress(
                f"{path.stem}: {len(split.ch_names)} ch, brain {len(split.brain())}, "
                + ", ".join(f"{c} {len(split.of_class(c))}" for c in ARTIFACT_CLASSES)
            )
        out.append(target)
    return out


def physionet_files(root: Path, subjects) -> list[Path]:
    """The PhysioNet motor-imagery runs of ``subjects`` (e.g. ``['S001']``) under ``root``."""
    files = sorted(p for s in subjects for p in (Path(root) / s).glob("*.edf"))
    if not files:
        raise EEGError(f"no PhysioNet EDF files for {', '.join(subjects)} under {root}")
    return files


def artifact_components(split: ArtifactSplit) -> np.ndarray:
    """Components whose most probable ICLabel class is an artifact class."""
    return np.flatnonzero(np.isin(split.labels(), ARTIFACT_CLASSES))


def clean_base(split: ArtifactSplit) -> np.ndarray:
    """The recording with its artifact-class components removed (brain, other and the PCA rest kept)."""
    return split.data - split.project(artifact_components(split))


def scale_to_snr(clean: np.ndarray, artifact: np.ndarray, snr_db: float) -> np.ndarray:
    """``artifact`` scaled so that 10·log10(RMS(clean)/RMS(artifact)) = ``snr_db`` (EEGdenoiseNet's definition)."""
    rms_c = np.sqrt(np.mean(clean**2))
    rms_a = np.sqrt(np.mean(artifact**2))
    return artifact * (rms_c / max(rms_a, 1e-30)) / 10 ** (snr_db / 10)


class PairSampler:
    """Random (noisy, clean, positions) windows from cached artifact splits (:class:`ArtifactSplit`).

    Parameters
    ----------
    splits : list of ArtifactSplit
        Training recordings (all on one montage, so artifact topographies carry across).
    n_times : int
        Window length in samples at the splits' rate.
    art_fraction : float
        Share of windows made by the ART recipe; the rest are semi-synthetic.
    snr_range : (float, float)
        Semi-synthetic SNR range in dB; wider than the benchmark's so both SNR conventions are covered.
    min_chans : int
        Fewest channels in a random montage (the most is every channel).
    injected_fraction : float
        Share of semi-synthetic windows whose artifacts come from the Clean stage's injector
        instead of another recording's components.
    bank_size : int
        Injected artifacts made per montage (drawn from again and again).
    class_p : sequence of float, optional
        Weights of ``ARTIFACT_CLASSES`` for real artifact components (default: eye and muscle 0.35 each).
    inject_p : sequence of float, optional
        Weights of the injector groups in ``INJECT_GROUPS`` (default ``INJECT_P``); a later
        training stage can lean on one artifact type with these two.
    raw_input_p : float
        Share of injector windows whose input is the recording as it is (its own artifact
        components kept) plus the injected artifacts, still with the clean base as target:
        real recordings bring their own artifacts along with the ones to remove.
    """

    def __init__(
        self,
        splits,
        n_times: int = 512,
        art_fraction: float = 0.3,
        snr_range=(-9.0, 4.0),
        min_chans: int = 19,
        seed: int = 0,
        injected_fraction: float = 0.0,
        bank_size: int = 300,
        class_p=None,
        inject_p=None,
        raw_input_p: float = 0.0,
    ):
        self.splits = list(splits)
        self.n_times, self.art_fraction, self.snr_range, self.min_chans = n_times, art_fraction, snr_range, min_chans
        self.injected_fraction, self.bank_size = injected_fraction, bank_size
        self._bank: dict = {}
        self.raw_input_p = raw_input_p
        self.rng = np.random.default_rng(seed)
        self.bases = [clean_base(d) for d in self.splits]
        self.pools = {
            c: [(i, d.of_class(c)) for i, d in enumerate(self.splits) if len(d.of_class(c))] for c in ARTIFACT_CLASSES
        }
        # eye and muscle matter most; classes no recording has are never drawn
        self.class_p = np.array(class_p or [0.35, 0.35, 0.1, 0.1, 0.1], dtype=float) * [
            bool(self.pools[c]) for c in ARTIFACT_CLASSES
        ]
        self.inject_p = np.asarray(inject_p or INJECT_P, dtype=float)
        if self.inject_p.shape != (len(INJECT_GROUPS),) or len(self.class_p) != len(ARTIFACT_CLASSES):
            raise ValueError("class_p needs one weight per artifact class, inject_p one per injector group")
        self.inject_p = self.inject_p / self.inject_p.sum()

    def _window(self, n: int) -> tuple[int, int]:
        start = int(self.rng.integers(0, n - self.n_times + 1))
        return start, start + self.n_times

    def _artifact(self, cls: str, exclude: int | None) -> np.ndarray:
        pool = [p for p in self.pools[cls] if p[0] != exclude] or self.pools[cls]
        i, comps = pool[self.rng.integers(len(pool))]
        split = self.splits[i]
        a, b = self._window(split.sources.shape[1])
        return split.project(comps, a, b)

    def _injected(self, split: ArtifactSplit) -> np.ndarray:
        """Injector artifacts on ``split``'s channels: eye, muscle or both mostly, sometimes ECG, line or pops.

        The injector takes ~50 ms a window, so a bank of them is made once per montage and
        windows are drawn from it (with a random polarity).
        """
        key = tuple(split.ch_names)
        if key not in self._bank:
            self._bank[key] = [a for a in (self._make_injected(split) for _ in range(self.bank_size)) if np.any(a)]
        bank = self._bank[key]
        return bank[self.rng.integers(len(bank))] * self.rng.choice([-1.0, 1.0])

    def _make_injected(self, split: ArtifactSplit) -> np.ndarray:
        from backend.clean.inject import make_artifact

        kinds = INJECT_GROUPS[self.rng.choice(len(INJECT_GROUPS), p=self.inject_p)]
        seed = int(self.rng.integers(2**31))
        total = np.zeros((len(split.ch_names), self.n_times), dtype=np.float32)
        for kind in kinds:
            try:
                art, _ = make_artifact(
                    kind,
                    split.ch_names,
                    split.sfreq,
                    self.n_times,
                    seed,
                    line_freq=float(self.rng.choice([50.0, 60.0])),
                )
            except EEGError:  # no event fell in this window
                continue
            total += art.astype(np.float32)
        return total

    def sample(self):
        """One training window: noisy (C, T), clean (C, T), positions (C, 3), all float32."""
        rng = self.rng
        i = int(rng.integers(len(self.splits)))
        split = self.splits[i]
        a, b = self._window(split.sources.shape[1])
        if rng.random() < self.art_fraction:
            clean = split.project(split.brain(), a, b)
            classes = [c for c in ARTIFACT_CLASSES if len(split.of_class(c))]
            if len(split.brain()) == 0 or not classes:
                return self.sample()
            noisy = clean + split.project(split.of_class(classes[rng.integers(len(classes))]), a, b)
        else:
            clean = self.bases[i][:, a:b]
            noisy = clean.copy()
            if rng.random() < self.injected_fraction:
                art = self._injected(split)
                if self.raw_input_p and rng.random() < self.raw_input_p:  # no draw when off: same stream as before
                    noisy = split.data[:, a:b].copy()
                if np.any(art):
                    noisy = noisy + scale_to_snr(clean, art, rng.uniform(*self.snr_range))
            elif rng.random() > 0.08 and self.class_p.sum() > 0:  # a few windows stay clean: identity is learned too
                n_art = min(1 if rng.random() < 0.8 else 2, int((self.class_p > 0).sum()))
                for cls in rng.choice(ARTIFACT_CLASSES, size=n_art, replace=False, p=self.class_p / self.class_p.sum()):
                    art = self._artifact(str(cls), i)
                    noisy = noisy + scale_to_snr(clean, art, rng.uniform(*self.snr_range)) / np.sqrt(n_art)
        n_ch = len(split.ch_names)
        k = int(rng.integers(self.min_chans, n_ch + 1))
        chans = np.sort(rng.choice(n_ch, size=k, replace=False))
        # The network sees average-referenced windows, as at inference.
        noisy, clean = noisy[chans], clean[chans]
        noisy = noisy - noisy.mean(axis=0)
        clean = clean - clean.mean(axis=0)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return (
            (sign * noisy).astype(np.float32),
            (sign * clean).astype(np.float32),
            split.positions[chans].astype(np.float32),
        )

    def batch(self, size: int, n_chans: int | None = None):
        """A batch with one montage (channels are the same within a batch so windows stack)."""
        samples: list = []
        while len(samples) < size:
            samples.append(self.sample())
        k = n_chans or min(s[0].shape[0] for s in samples)
        noisy, clean, pos = [], [], []
        for x, y, p in samples:
            keep = np.sort(self.rng.choice(x.shape[0], size=k, replace=False))
            # re-referenced to the average of the channels kept, as inference would see them
            noisy.append(x[keep] - x[keep].mean(axis=0))
            clean.append(y[keep] - y[keep].mean(axis=0))
            pos.append(p[keep])
        return np.stack(noisy), np.stack(clean), np.stack(pos)
