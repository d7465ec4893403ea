"""Feature transformers that pyriemann does not ship, following the scikit-learn contract.

Input of every transformer here: trials ``X`` of shape ``(n_trials, n_channels, n_times)`` in volts.
"""

from __future__ import annotations

import numpy as np
from pyriemann.estimation import Covariances, TimeDelayCovariances
from pyriemann.tangentspace import TangentSpace
from scipy.signal import butter, sosfiltfilt
from sklearn.base import BaseEstimator, TransformerMixin


class AugmentedCovariances(TransformerMixin, BaseEstimator):
    """Augmented covariance matrices (Carrara & Papadopoulo, 2024).

    The signal is stacked with ``order - 1`` copies of itself delayed by ``lag``, ``2 lag``, ...
    samples (a time-delay embedding, as in Takens' theorem) before a shrunk covariance is estimated,
    so that the matrix also carries the signal's autocorrelation at those lags.

    Parameters
    ----------
    order : int
        Embedding dimension; 1 gives the plain covariance.
    lag : int
        Delay between successive copies, in samples.
    estimator : str
        pyriemann covariance estimator (``"oas"`` keeps large matrices well conditioned).

    Returns (transform)
    -------------------
    ndarray, shape (n_trials, n_channels * order, n_channels * order)
    """

    def __init__(self, order=3, lag=2, estimator="oas"):
        self.order = order
        self.lag = lag
        self.estimator = estimator

    def fit(self, X, y=None):
        return self

    def __sklearn_is_fitted__(self):
        return True

    def transform(self, X):
        if int(self.order) <= 1:
            return Covariances(self.estimator).transform(X)
        delays = [int(self.lag) * k for k in range(1, int(self.order))]
        return TimeDelayCovariances(delays=delays, estimator=self.estimator).transform(X)


def _band_sos(band, sfreq):
    return butter(4, [band[0], band[1]], btype="bandpass", fs=sfreq, output="sos")


class FilterBankTangentSpace(TransformerMixin, BaseEstimator):
    """Tangent-space vectors of covariances in several sub-bands, concatenated.

    Each sub-band (4th-order Butterworth, zero phase) gets its own shrunk covariance and its own
    Riemannian reference point, so a classifier on top weighs the rhythms (mu, low and high beta)
    that carry the subject's imagery.

    Parameters
    ----------
    sfreq : float
        Sampling rate of ``X`` in Hz.
    bands : tuple of (float, float)
        Sub-bands in Hz; bands reaching Nyquist are dropped at fit.
    estimator : str
        pyriemann covariance estimator.
    """

    def __init__(self, sfreq=160.0, bands=((8, 12), (12, 16), (16, 20), (20, 24), (24, 28), (28, 32)), estimator="oas"):
        self.sfreq = sfreq
        self.bands = bands
        self.estimator = estimator

    def _covariances(self, X):
        out = []
        for band in self.bands_:
            filtered = sosfiltfilt(_band_sos(band, self.sfreq), X, axis=-1)
            out.append(Covariances(self.estimator).transform(filtered))
        return out

    def fit(self, X, y=None):
        self.bands_ = [tuple(map(float, b)) for b in self.bands if b[1] < self.sfreq / 2]
        self.tangent_spaces_ = [TangentSpace(metric="riemann").fit(c) for c in self._covariances(X)]
        return self

    def transform(self, X):
        covs = self._covariances(X)
        return np.hstack([ts.transform(c) for ts, c in zip(self.tangent_spaces_, covs)])
