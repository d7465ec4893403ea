"""Fit ICA the way ICLabel expects, and label components with mne-icalabel."""

from __future__ import annotations

import mne
import numpy as np
from mne.preprocessing import ICA

from backend.errors import EEGError
from backend.steps import register

ICLABEL_CLASSES = ("brain", "muscle", "eye", "heart", "line_noise", "channel_noise", "other")
METHODS = ("picard", "infomax", "fastica")


def prepare_for_ica(raw: mne.io.BaseRaw) -> mne.io.BaseRaw:
    """The copy ICLabel was trained on: EEG only, average reference, 1–100 Hz band-pass."""
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if len(picks) < 4:
        raise EEGError("ICA needs at least 4 good EEG channels")
    prepared = raw.copy().pick(picks).load_data()
    high = min(100.0, prepared.info["sfreq"] / 2 - 1.0)
    with mne.utils.use_log_level("error"):
        prepared.set_eeg_reference("average", projection=False)
        prepared.filter(1.0, high, fir_design="firwin")
    return prepared


def fit_ica(raw: mne.io.BaseRaw, method: str = "picard", n_components=None, seed: int = 97) -> tuple[ICA, mne.io.BaseRaw]:
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
    """
    if method not in METHODS:
        raise EEGError(f"unknown ICA method {method!r}; use one of {', '.join(METHODS)}")
    prepared = prepare_for_ica(raw)
    rank = len(prepared.ch_names) - 1  # the average reference removes one dimension
    if n_components is None:
        n_components = rank
    elif isinstance(n_components, (int, np.integer)) and not 2 <= n_components <= rank:
        raise EEGError(f"number of components must be between 2 and {rank}, got {n_components}")
    fit_params = {"picard": {"extended": True, "ortho": False}, "infomax": {"extended": True}, "fastica": None}[method]
    ica = ICA(n_components=n_components, method=method, fit_params=fit_params, rng=seed, max_iter="auto")
    with mne.utils.use_log_level("error"):
        ica.fit(prepared)
    return ica, prepared


def label_components(prepared: mne.io.BaseRaw, ica: ICA) -> np.ndarray:
    """ICLabel class probabilities, shape (n_components, 7), columns as ``ICLABEL_CLASSES``."""
    from mne_icalabel.iclabel import iclabel_label_components

    with mne.utils.use_log_level("error"):
        return np.asarray(iclabel_label_components(prepared, ica, inplace=False), dtype=float)


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


def _fit_script(method, n_components, seed) -> list[str]:
    fit_params = {"picard": "dict(extended=True, ortho=False)", "infomax": "dict(extended=True)", "fastica": "None"}[method]
    return [
        "from mne.preprocessing import ICA",
        "ica_raw = raw.copy().pick('eeg', exclude='bads').load_data()",
        "ica_raw.set_eeg_reference('average')",
        "ica_raw.filter(1.0, min(100.0, ica_raw.info['sfreq'] / 2 - 1.0))",
        f"ica = ICA(n_components={n_components if n_components is not None else 'len(ica_raw.ch_names) - 1'}, method={method!r}, "
        f"fit_params={fit_params}, rng={seed}, max_iter='auto')",
        "ica.fit(ica_raw)",
    ]


@register(
    "ica_remove",
    "Remove chosen ICA components (artifacts) from the signals.",
    script=lambda method="picard", n_components=None, seed=97, exclude=(): _fit_script(method, n_components, seed)
    + ["raw.load_data()", f"ica.apply(raw, exclude={list(exclude)!r})"],
)
def ica_remove(raw, method: str = "picard", n_components=None, seed: int = 97, exclude=()):
    ica, _ = fit_ica(raw, method, n_components, seed)
    exclude = [int(i) for i in exclude]
    if any(not 0 <= i < ica.n_components_ for i in exclude):
        raise EEGError(f"component numbers must be between 0 and {ica.n_components_ - 1}")
    raw.load_data()
    with mne.utils.use_log_level("error"):
        ica.apply(raw, exclude=exclude)
    return raw, {"components_removed": exclude}


@register(
    "ica_iclabel",
    "Fit ICA, label components with ICLabel and remove those of the chosen artifact classes.",
    script=lambda method="picard", n_components=None, seed=97, classes=("eye", "muscle", "heart", "line_noise", "channel_noise"), threshold=0.8: _fit_script(method, n_components, seed)
    + [
        "from mne_icalabel.iclabel import iclabel_label_components",
        "proba = iclabel_label_components(ica_raw, ica, inplace=False)",
        f"classes = {list(ICLABEL_CLASSES)!r}",
        f"exclude = [i for i, p in enumerate(proba) if classes[p.argmax()] in {list(classes)!r} and p.max() >= {threshold}]",
        "raw.load_data()",
        "ica.apply(raw, exclude=exclude)",
    ],
)
def ica_iclabel(raw, method: str = "picard", n_components=None, seed: int = 97,
                classes=("eye", "muscle", "heart", "line_noise", "channel_noise"), threshold: float = 0.8):
    ica, prepared = fit_ica(raw, method, n_components, seed)
    exclude = select_by_rule(label_components(prepared, ica), classes, threshold)
    raw.load_data()
    with mne.utils.use_log_level("error"):
        ica.apply(raw, exclude=exclude)
    return raw, {"components_removed": exclude}
