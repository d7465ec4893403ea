"""Where the trials lie: a 2-D map of their covariance matrices, and the Riemannian potato's
artifact flag per window of a recording.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pyriemann.artifact_detection import Potato  # pyriemann.clustering.Potato is gone in 0.12
from pyriemann.embedding import SpectralEmbedding
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from backend.classify.epochs import Trials, filtered_eeg
from backend.errors import EEGError
from backend.recording import Recording

METHODS = ("tangent-pca", "spectral")


def covariance_map(trials: Trials, method: str = "tangent-pca") -> np.ndarray:
    """2-D coordinates of each trial's covariance matrix.

    Parameters
    ----------
    trials : Trials
    method : {"tangent-pca", "spectral"}
        PCA of the tangent-space vectors at the Riemannian mean, or pyriemann's spectral
        embedding of the affine-invariant distances.

    Returns
    -------
    coords : ndarray, shape (n_trials, 2)
    """
    if method not in METHODS:
        raise EEGError(f"unknown map {method!r}; choose from {', '.join(METHODS)}")
    with threadpool_limits(limits=1, user_api="blas"):
        covs = Covariances("oas").transform(trials.X)
        if method == "spectral":
            return SpectralEmbedding(n_components=2, metric="riemann").fit_transform(covs)
        vectors = TangentSpace(metric="riemann").fit_transform(covs)
        return PCA(n_components=2, random_state=0).fit_transform(vectors)


@dataclass(frozen=True)
class PotatoFlags:
    """The Riemannian potato over a recording.

    Attributes
    ----------
    starts : ndarray, shape (n_windows,)
        Window starts in seconds.
    zscore : ndarray, shape (n_windows,)
        Standardised Riemannian distance of each window's covariance to the potato's centre.
    artifact : ndarray of bool, shape (n_windows,)
        True where the z-score exceeds ``threshold``.
    window_s, threshold : float
    """

    starts: np.ndarray
    zscore: np.ndarray
    artifact: np.ndarray
    window_s: float
    threshold: float


def potato_flags(
    recording: Recording,
    band: tuple[float, float] = (1.0, 35.0),
    window_s: float = 2.0,
    step_s: float = 1.0,
    threshold: float = 3.0,
) -> PotatoFlags:
    """Flag windows whose covariance lies far from the recording's own typical covariance.

    A :class:`pyriemann.artifact_detection.Potato` is fitted (unsupervised, with its iterative
    outlier rejection) on the covariances of all windows and scores each of them.
    """
    sfreq = recording.raw.info["sfreq"]
    n_win, hop = int(round(window_s * sfreq)), max(1, int(round(step_s * sfreq)))
    data = filtered_eeg(recording, band)
    n_windows = (data.shape[1] - n_win) // hop + 1
    if n_windows < 10:
        raise EEGError(
            f"the potato needs at least 10 windows of {window_s:g} s; {recording.name} gives {max(n_windows, 0)}"
        )
    windows = sliding_window_view(data, n_win, axis=1)[:, ::hop][:, :n_windows].transpose(1, 0, 2)
    with threadpool_limits(limits=1, user_api="blas"):
        covs = Covariances("oas").transform(np.ascontiguousarray(windows))
        potato = Potato(metric="riemann", threshold=threshold).fit(covs)
        z = potato.transform(covs)
    return PotatoFlags(np.arange(n_windows) * hop / sfreq, z, z > threshold, window_s, threshold)
