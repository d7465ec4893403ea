"""Fit ICA the way ICLabel expects, and label components with mne-icalabel.

Fits are memoised in this process, keyed on the signals' content and the fit
settings (:func:`decompose`), so the page, the CLI and the ``ica_remove`` step
applied after viewing share one fit instead of refitting. The memo is only an
optimisation: a fit missing from it is recomputed, deterministically (fixed seed).
A stored ICA reaches the ``ica_remove`` step from the Recording (``needs=("ica",)``
in ``backend.steps``), never from this process's memory.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import mne
import numpy as np
from mne.preprocessing import ICA

from backend.channels import stored_position
from backend.components import ARTIFACT_CLASSES, ICLABEL_CLASSES, METHODS
from backend.errors import EEGError
from backend.steps import source_lines

DEFAULT_METHOD = "picard"
DEFAULT_SEED = 97
# Extended infomax, as ICLabel was trained on. Picard's tolerance 1e-6 gives the same
# components as its default 1e-7 (all matched |r| = 1.000 on the EEGLAB tutorial
# recording) in fewer iterations; 1e-5 stops early (some |r| down to 0.56).
FIT_PARAMS = {
    "picard": {"extended": True, "ortho": False, "tol": 1e-6},
    "infomax": {"extended": True},
    "fastica": None,
}
# Fitting sees every k-th sample while the rate stays >= 60 Hz and at least 15·n²
# samples remain (n components). Neighbouring samples of 1–100 Hz EEG are strongly
# correlated, so little is lost: on the tutorial recording (128 Hz, k = 2) the
# components match the full-data fit with median |r| 0.98 (10th percentile 0.95),
# at less than half the fit time.
MIN_FIT_RATE_HZ = 60.0
SAMPLES_PER_COMPONENT2 = 15
# One BLAS thread per fit: on the shared 2-core host a second thread mostly spins
# (tutorial picard fit under load: 10 s with one thread, 27 s with two).
FIT_THREADS = 1


def prepare_for_ica(raw: mne.io.BaseRaw) -> mne.io.BaseRaw:
    """The copy ICLabel was trained on: EEG only, average reference, 1–100 Hz band-pass."""
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if len(picks) < 4:
        raise EEGError("ICA needs at least 4 good EEG channels")
    with mne.utils.use_log_level("error"):
        prepared = raw.copy().pick(picks).load_data()
        prepared.set_eeg_reference("average", projection=False)
        prepared.filter(*ica_band(prepared.info["sfreq"]), fir_design="firwin")
    return prepared


def ica_band(sfreq: float) -> tuple[float, float]:
    """The band (Hz) ICA is fitted in: 1–100 Hz, the top kept below Nyquist."""
    return 1.0, min(100.0, sfreq / 2 - 1.0)


def fit_ica(
    raw: mne.io.BaseRaw, method: str = DEFAULT_METHOD, n_components=None, seed: int = DEFAULT_SEED
) -> tuple[ICA, mne.io.BaseRaw]:
    """Fit ICA on the ICLabel-ready copy of ``raw`` (which is left unchanged).

    Parameters
    ----------
    method : {'picard', 'infomax', 'fastica'}
        'picard' and 'infomax' run extended infomax (what ICLabel was trained on);
        'fastica' is quicker.
    n_components : int | float | None
        A count, a fraction of variance explained (0–1), or None for all
        (rank-limited by the average reference).

    Returns
    -------
    ica : mne.preprocessing.ICA
    prepared : mne.io.Raw
        The filtered, re-referenced copy the ICA was fitted on.

    Notes
    -----
    The fit comes from this process's cache when the same signals were fitted
    with the same settings; the caller gets its own copies to change freely.
    """
    found = decompose(raw, method, n_components, seed)
    return found.ica.copy(), found.prepared.copy()


def _check_n_components(n_components, rank: int):
    if n_components is None:
        return rank
    if isinstance(n_components, bool):
        raise EEGError(f"number of components must be a count or a fraction of variance, got {n_components}")
    if isinstance(n_components, (int, np.integer)):
        if not 2 <= n_components <= rank:
            raise EEGError(f"number of components must be between 2 and {rank}, got {n_components}")
        return int(n_components)
    if isinstance(n_components, (float, np.floating)):
        if not 0.0 < n_components < 1.0:
            raise EEGError(f"a fraction of variance must be between 0 and 1 (exclusive), got {n_components}")
        return float(n_components)
    raise EEGError(f"number of components must be a count or a fraction of variance, got {n_components!r}")


def fit_decimation(sfreq: float, n_times: int, n_components: int) -> int:
    """Every how many samples to fit on (see ``MIN_FIT_RATE_HZ``, ``SAMPLES_PER_COMPONENT2``)."""
    by_rate = int(sfreq // MIN_FIT_RATE_HZ)
    by_count = n_times // (SAMPLES_PER_COMPONENT2 * n_components**2)
    return max(1, min(by_rate, by_count))


_warm_lock = threading.Lock()
_warm_thread: threading.Thread | None = None


def _load_iclabel() -> None:
    import importlib

    from mne_icalabel.iclabel import iclabel_label_components  # noqa: F401

    importlib.import_module(f"mne_icalabel.iclabel.network.{_iclabel_backend() or 'torch'}")


def warm_iclabel() -> None:
    """Import ICLabel and its network runtime in the background, once per process.

    The page calls it on arrival, so the import (seconds) happens while the user
    chooses settings rather than after the fit. (Not during a fit: the import holds
    the interpreter lock and slows the fit by more than it saves.)
    """
    global _warm_thread
    with _warm_lock:
        if _warm_thread is None:
            _warm_thread = threading.Thread(target=_load_iclabel, name="iclabel-warmup", daemon=True)
            _warm_thread.start()


def _fit(raw: mne.io.BaseRaw, method: str, n_components, seed: int) -> tuple[ICA, mne.io.BaseRaw]:
    from threadpoolctl import threadpool_limits

    if method not in METHODS:
        raise EEGError(f"unknown ICA method {method!r}; use one of {', '.join(METHODS)}")
    prepared = prepare_for_ica(raw)
    rank = len(prepared.ch_names) - 1  # the average reference removes one dimension
    n_components = _check_n_components(n_components, rank)
    ica = ICA(
        n_components=n_components,
        method=method,
        fit_params=copy.deepcopy(FIT_PARAMS[method]),
        rng=seed,
        max_iter="auto",
    )
    with mne.utils.use_log_level("error"), threadpool_limits(FIT_THREADS, user_api="blas"):
        try:
            # infomax counts passes over the data: fewer samples only cost it more passes
            ica.fit(
                prepared,
                decim=None if method == "infomax" else fit_decimation(prepared.info["sfreq"], prepared.n_times, rank),
            )
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise EEGError(f"ICA could not be fitted on this recording ({exc})") from None
    return ica, prepared


def label_components(prepared: mne.io.BaseRaw, ica: ICA) -> np.ndarray:
    """ICLabel class probabilities, shape (n_components, 7), columns as ``ICLABEL_CLASSES``.

    Channels without a scalp position are left out of the topography feature only,
    as EEGLAB's ICLabel does (the stored EEGLAB tutorial ICA includes two EOG leads).
    """
    import warnings

    from mne_icalabel.iclabel import iclabel_label_components

    unplaced = [n for n in ica.ch_names if stored_position(prepared.info, n) is None]
    with mne.utils.use_log_level("error"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reference/filter advice: prepare_for_ica follows it
        if not unplaced:
            return np.asarray(
                iclabel_label_components(prepared, ica, inplace=False, backend=_iclabel_backend()), dtype=float
            )
        return _label_partly_placed(prepared, ica, unplaced)


def _iclabel_backend() -> str | None:
    """ONNX Runtime when installed: the same ICLabel network, loaded in ~1 s instead of
    torch's ~5 s on a busy 2-core host (identical probabilities to 1e-6)."""
    import importlib.util

    return "onnx" if importlib.util.find_spec("onnxruntime") else None


def _label_partly_placed(prepared: mne.io.BaseRaw, ica: ICA, unplaced: list[str]) -> np.ndarray:
    """mne-icalabel's feature pipeline with the topography drawn from placed channels only."""
    from mne_icalabel.iclabel import features as feat
    from mne_icalabel.iclabel.network import run_iclabel

    placed = [n for n in ica.ch_names if n not in unplaced]
    if len(placed) < 4:
        raise EEGError("ICLabel needs scalp positions for at least 4 of the ICA's channels")
    inst = prepared.copy().pick(ica.ch_names)
    if inst.info["custom_ref_applied"] == 0:
        with inst.info._unlock():  # features are read from the data as they are; silence the CAR check
            inst.info["custom_ref_applied"] = mne.io.constants.FIFF.FIFFV_MNE_CUSTOM_REF_ON
    icawinv, _ = feat._retrieve_eeglab_icawinv(ica)
    icaact = feat._compute_ica_activations(inst, ica)
    rows = [ica.ch_names.index(n) for n in placed]
    topo = feat._eeg_topoplot(inst, icawinv[rows], placed)
    psd = feat._eeg_rpsd(inst, ica, icaact)
    if inst.times.size / inst.info["sfreq"] > 5:
        autocorr = feat._eeg_autocorr_welch(inst, ica, icaact)
    else:
        autocorr = feat._eeg_autocorr(inst, ica, icaact)
    return np.asarray(run_iclabel(topo * 0.99, psd * 0.99, autocorr * 0.99, backend=_iclabel_backend()), dtype=float)


def select_by_rule(probabilities: np.ndarray, classes, threshold: float) -> list[int]:
    """Components whose most probable class is in ``classes`` with probability >= threshold.

    Parameters
    ----------
    probabilities : ndarray, shape (n_components, 7)
    classes : iterable of str
        Names from ``ICLABEL_CLASSES`` (for example ``["eye", "muscle"]``).
    threshold : float
        Between 0 and 1.
    """
    unknown = sorted(set(classes) - set(ICLABEL_CLASSES))
    if unknown:
        raise EEGError(f"unknown ICLabel class {', '.join(unknown)}; use {', '.join(ICLABEL_CLASSES)}")
    if not 0.0 <= threshold <= 1.0:
        raise EEGError(f"probability threshold must be between 0 and 1, got {threshold}")
    wanted = [ICLABEL_CLASSES.index(c) for c in classes]
    top = probabilities.argmax(axis=1)
    return [int(i) for i in np.flatnonzero(np.isin(top, wanted) & (probabilities.max(axis=1) >= threshold))]


@dataclass(eq=False)
class Decomposition:
    """A fitted (or stored) ICA with what the views need, computed once.

    Attributes
    ----------
    ica : mne.preprocessing.ICA
        Shared by every user of the cache: do not change it (copy first).
    prepared : mne.io.Raw
        The signals the components are read from (for a fit: the filtered,
        average-referenced copy it was fitted on).
    method : str
        'picard', 'infomax', 'fastica', or 'stored' (ICA read from the file).
    fit_s : float
        Seconds the fit took (0 for a stored ICA).
    key : str
        Content key of the signals and settings.
    """

    ica: ICA
    prepared: mne.io.BaseRaw
    method: str
    fit_s: float
    key: str
    params: dict = field(default_factory=dict)
    label_s: float = 0.0
    _probabilities: np.ndarray | None = field(default=None, repr=False)
    _sources: np.ndarray | None = field(default=None, repr=False)
    _variance: np.ndarray | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def n_components(self) -> int:
        return int(self.ica.n_components_)

    @property
    def probabilities(self) -> np.ndarray:
        """ICLabel probabilities, shape (n_components, 7) (computed on first use)."""
        with self._lock:
            if self._probabilities is None:
                start = time.perf_counter()
                self._probabilities = label_components(self.prepared, self.ica)
                self.label_s = time.perf_counter() - start
            return self._probabilities

    @property
    def labels(self) -> list[str]:
        """The most probable ICLabel class of each component."""
        return [ICLABEL_CLASSES[i] for i in self.probabilities.argmax(axis=1)]

    @property
    def sources(self) -> np.ndarray:
        """Component activations, shape (n_components, n_times), arbitrary units."""
        with self._lock:
            if self._sources is None:
                with mne.utils.use_log_level("error"):
                    self._sources = self.ica.get_sources(self.prepared).get_data()
            return self._sources

    @property
    def patterns(self) -> np.ndarray:
        """Scalp patterns in volts per activation unit, shape (n_channels, n_components)."""
        # sources are computed from pre-whitened signals: scale the patterns back to volts
        return np.asarray(self.ica.pre_whitener_).reshape(-1, 1) * self.ica.get_components()

    @property
    def variance(self) -> np.ndarray:
        """Fraction of the signals' variance each component explains, shape (n_components,)."""
        if self._variance is None:
            data = self.prepared.get_data(picks=self.ica.ch_names)
            total = float(np.sum(np.var(data, axis=1)))
            per_component = np.sum(self.patterns**2, axis=0) * np.var(self.sources, axis=1)
            self._variance = per_component / total if total > 0 else np.zeros(self.n_components)
        return self._variance


class _LRU:
    """A small thread-safe least-recently-used map (Streamlit serves sessions on threads)."""

    def __init__(self, size: int):
        self.size, self._lock = size, threading.Lock()
        self._items: OrderedDict = OrderedDict()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key, value):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self):
        with self._lock:
            self._items.clear()


_FITS = _LRU(6)


def content_key(raw: mne.io.BaseRaw) -> str:
    """Hash of what a fit depends on: EEG signals, names, bads, rate and positions."""
    picks = mne.pick_types(raw.info, eeg=True, exclude=())
    h = hashlib.blake2b(digest_size=16)
    with mne.utils.use_log_level("error"):
        data = raw.get_data(picks=picks)
    h.update(np.ascontiguousarray(data, dtype=np.float64).tobytes())
    h.update(
        repr(
            (list(raw.ch_names), list(raw.get_channel_types()), sorted(raw.info["bads"]), float(raw.info["sfreq"]))
        ).encode()
    )
    h.update(np.array([raw.info["chs"][p]["loc"][:3] for p in picks], dtype=np.float64).tobytes())
    return h.hexdigest()


def ica_key(ica: ICA) -> str:
    """Hash of an ICA's spatial filters and channel names (identifies a stored ICA)."""
    h = hashlib.blake2b(digest_size=12)
    for a in (ica.unmixing_matrix_, ica.mixing_matrix_, ica.pca_components_, ica.pre_whitener_):
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    h.update(repr(list(ica.ch_names)).encode())
    return h.hexdigest()


def decompose(
    raw: mne.io.BaseRaw, method: str = DEFAULT_METHOD, n_components=None, seed: int = DEFAULT_SEED
) -> Decomposition:
    """Fit ICA on ``raw`` (ICLabel-ready copy), or return this process's cached fit.

    Parameters are those of :func:`fit_ica`. The same signals with the same
    settings give the same object back, so viewing then removing fits once.
    """
    if method not in METHODS:
        raise EEGError(f"unknown ICA method {method!r}; use one of {', '.join(METHODS)}")
    key = f"{content_key(raw)}:{method}:{n_components!r}:{int(seed)}"
    found = _FITS.get(key)
    if found is None:
        start = time.perf_counter()
        ica, prepared = _fit(raw, method, n_components, int(seed))
        params = {"method": method, "n_components": n_components, "seed": int(seed)}
        found = _FITS.put(key, Decomposition(ica, prepared, method, time.perf_counter() - start, key, params))
    return found


def from_fitted(
    raw: mne.io.BaseRaw, ica: ICA, params: dict, probabilities: np.ndarray, fit_s: float = 0.0, label_s: float = 0.0
) -> Decomposition:
    """A fit made elsewhere (a job on a worker) with its ICLabel probabilities, as :func:`decompose` returns it.

    ``params`` are the fit's method, n_components and seed; the decomposition joins this
    process's cache under the key :func:`decompose` uses, so removing components does not refit.
    """
    method, n_components, seed = params["method"], params["n_components"], int(params["seed"])
    key = f"{content_key(raw)}:{method}:{n_components!r}:{seed}"
    found = _FITS.get(key)
    if found is None:
        prepared = prepare_for_ica(raw)
        if list(prepared.ch_names) != list(ica.ch_names):
            raise EEGError("the stored ICA was fitted on other channels than this recording has; fit again")
        dec = Decomposition(ica, prepared, method, fit_s, key, dict(params), label_s, _probabilities=probabilities)
        found = _FITS.put(key, dec)
    return found


def from_stored(raw: mne.io.BaseRaw, ica: ICA) -> Decomposition:
    """Components of an ICA read from the recording's file (EEGLAB), without refitting.

    The ICA's channel names are matched to the recording's (EEGLAB's ``FPz`` is
    our ``Fpz``); its components are read from the signals as stored.
    """
    ica = _matched_copy(ica, raw)
    key = f"{content_key(raw)}:stored:{ica_key(ica)}"
    found = _FITS.get(key)
    if found is None:
        with mne.utils.use_log_level("error"):
            prepared = raw.copy().pick(ica.ch_names).load_data()
        found = _FITS.put(
            key, Decomposition(ica, prepared, "stored", 0.0, key, {"method": "stored", "stored": ica_key(ica)})
        )
    return found


def for_recording(recording, method: str | None = None, n_components=None, seed: int = DEFAULT_SEED) -> Decomposition:
    """The components of a :class:`~backend.recording.Recording`.

    ``method=None`` shows the ICA stored in the file when there is one (no refit),
    else fits with the default method; ``'stored'`` insists on the stored ICA.
    """
    if method in (None, "stored") and recording.ica is not None:
        return from_stored(recording.raw, recording.ica)
    if method == "stored":
        raise EEGError("this recording's file carries no ICA; fit one with picard, infomax or fastica")
    return decompose(recording.raw, method or DEFAULT_METHOD, n_components, seed)


def removal_params(dec: Decomposition, exclude, source_file: str | None = None) -> dict:
    """Parameters of the ``ica_remove`` step that removes ``exclude`` from ``dec``'s components."""
    params = dict(dec.params, exclude=sorted(int(i) for i in exclude))
    if dec.method == "stored":
        params["source_file"] = source_file
    return params


def _matched_copy(ica: ICA, raw: mne.io.BaseRaw) -> ICA:
    by_lower = {n.lower(): n for n in raw.ch_names}
    missing = [n for n in ica.ch_names if n.lower() not in by_lower]
    if missing:
        raise EEGError(f"the stored ICA uses channels this recording lacks: {', '.join(missing[:5])}")
    ica = ica.copy()
    mapping = {n: by_lower[n.lower()] for n in ica.ch_names if by_lower[n.lower()] != n}
    if mapping:
        mne.rename_channels(ica.info, mapping)
        ica.ch_names = list(ica.info["ch_names"])
    ica.exclude = []
    return ica


def clear_cache() -> None:
    """Forget every cached fit (tests and benchmarks use it to time cold fits)."""
    _FITS.clear()


def remove_components(
    raw: mne.io.BaseRaw, ica: ICA, exclude, average_reference: bool = True
) -> tuple[mne.io.BaseRaw, list[int]]:
    """Subtract components ``exclude`` from ``raw`` in place (checked against the ICA).

    A fit made here is on average-referenced signals, so its patterns sum to zero
    over the channels; subtracting them from signals with another reference would
    move the artifact onto every channel. With ``average_reference`` (the default)
    the EEG is re-referenced to the average first. A stored ICA is applied to the
    signals as stored (``average_reference=False``).
    """
    try:
        exclude = sorted({int(i) for i in exclude})
    except (TypeError, ValueError):
        raise EEGError("components to remove must be whole numbers") from None
    if any(not 0 <= i < ica.n_components_ for i in exclude):
        raise EEGError(f"component numbers must be between 0 and {ica.n_components_ - 1}")
    missing = [n for n in ica.ch_names if n not in raw.ch_names]
    if missing:
        raise EEGError(f"the ICA's channels are not all in this recording (missing {', '.join(missing[:5])})")
    raw.load_data()
    with mne.utils.use_log_level("error"):
        if average_reference:
            raw.set_eeg_reference("average", projection=False)
        ica.apply(raw, exclude=exclude)
    return raw, exclude


def before_after(raw: mne.io.BaseRaw, dec: Decomposition, exclude) -> tuple[mne.io.BaseRaw, mne.io.BaseRaw]:
    """``raw`` as ``ica_remove`` sees it and as it leaves it, for a like-for-like preview.

    For a fit made here both are average-referenced (the removal re-references);
    for a stored ICA both are as stored.
    """
    before = raw.copy().load_data()
    if dec.method != "stored":
        with mne.utils.use_log_level("error"):
            before.set_eeg_reference("average", projection=False)
    after = remove_components(before.copy(), dec.ica, exclude, average_reference=False)[0]
    return before, after


def _fit_script(method, n_components, seed) -> list[str]:
    n = n_components if n_components is not None else "len(ica_raw.ch_names) - 1"
    decim = (
        "None"
        if method == "infomax"
        else "fit_decimation(ica_raw.info['sfreq'], ica_raw.n_times, len(ica_raw.ch_names) - 1)"
    )
    return [
        "from mne.preprocessing import ICA",
        *source_lines(ica_band),
        *source_lines(fit_decimation),
        "ica_raw = raw.copy().pick('eeg', exclude='bads').load_data()",
        "ica_raw.set_eeg_reference('average')",
        "ica_raw.filter(*ica_band(ica_raw.info['sfreq']))",
        f"ica = ICA(n_components={n}, method={method!r}, fit_params={FIT_PARAMS[method]!r}, rng={seed}, max_iter='auto')",
        f"ica.fit(ica_raw, decim={decim})",
    ]


def _stored_script(source_file) -> list[str]:
    return [
        "# the ICA stored in the EEGLAB file, matched to the channel names read above",
        f"ica = mne.preprocessing.read_ica_eeglab({source_file!r})",
        "_names = {n.lower(): n for n in raw.ch_names}",
        "mne.rename_channels(ica.info, {n: _names[n.lower()] for n in ica.ch_names if _names[n.lower()] != n})",
        "ica.ch_names = list(ica.info['ch_names'])",
    ]


def _ica_remove_script(
    method=DEFAULT_METHOD, n_components=None, seed=DEFAULT_SEED, exclude=(), stored=None, source_file=None
) -> list[str]:
    head = _stored_script(source_file) if method == "stored" else _fit_script(method, n_components, seed)
    exclude = repr(sorted(int(i) for i in exclude))
    return head + (_stored_apply_script(exclude) if method == "stored" else _fitted_apply_script(exclude))


def _stored_apply_script(exclude: str) -> list[str]:
    return ["raw.load_data()", f"ica.apply(raw, exclude={exclude})"]


def _fitted_apply_script(exclude: str) -> list[str]:
    """Lines removing components ``exclude`` (code) of a fit made here, as :func:`remove_components` does."""
    return [
        "raw.load_data()",
        "raw.set_eeg_reference('average')  # as the ICA was fitted",
        f"ica.apply(raw, exclude={exclude})",
    ]


def ica_remove(
    raw,
    method: str = DEFAULT_METHOD,
    n_components=None,
    seed: int = DEFAULT_SEED,
    exclude=(),
    stored: str | None = None,
    source_file: str | None = None,
    *,
    ica: ICA | None = None,
):
    """Remove components ``exclude`` of a fit (memoised when already viewed) or of the stored ICA.

    ``method='stored'`` uses ``ica``, the ICA read from the recording's file (the
    Recording passes it), which must be the one identified by ``stored`` (its
    :func:`ica_key`); ``source_file`` names that file for the exported script.
    """
    if method == "stored":
        raw, exclude = remove_components(raw, _stored_for(raw, ica, stored), exclude, average_reference=False)
        return raw, {"components_removed": exclude}
    raw, exclude = remove_components(raw, decompose(raw, method, n_components, seed).ica, exclude)
    return raw, {"components_removed": exclude, "reference": "average"}


def _stored_for(raw: mne.io.BaseRaw, ica: ICA | None, stored: str | None) -> ICA:
    """The recording's stored ICA matched to ``raw``'s names, checked against the key ``stored``."""
    if ica is None:
        raise EEGError(
            "this recording's file carries no ICA, so stored components cannot be removed; "
            "fit one with picard, infomax or fastica"
        )
    matched = _matched_copy(ica, raw)
    if stored is not None and ica_key(matched) != str(stored):
        raise EEGError("the ICA stored in this recording's file is not the one whose components were chosen")
    return matched


def _ica_iclabel_script(
    method=DEFAULT_METHOD, n_components=None, seed=DEFAULT_SEED, classes=ARTIFACT_CLASSES, threshold=0.8
) -> list[str]:
    return _fit_script(method, n_components, seed) + [
        "from mne_icalabel.iclabel import iclabel_label_components",
        "proba = iclabel_label_components(ica_raw, ica, inplace=False)",
        f"classes = {list(ICLABEL_CLASSES)!r}",
        f"exclude = [i for i, p in enumerate(proba) if classes[p.argmax()] in {list(classes)!r} and p.max() >= {threshold}]",
        *_fitted_apply_script("exclude"),
    ]


def ica_iclabel(
    raw,
    method: str = DEFAULT_METHOD,
    n_components=None,
    seed: int = DEFAULT_SEED,
    classes=ARTIFACT_CLASSES,
    threshold: float = 0.8,
):
    found = decompose(raw, method, n_components, seed)
    raw, exclude = remove_components(raw, found.ica, select_by_rule(found.probabilities, classes, threshold))
    return raw, {"components_removed": exclude, "reference": "average"}
