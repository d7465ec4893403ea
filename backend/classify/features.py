"""Feature transformers that pyriemann does not ship, following the scikit-learn contract.

Input of every transformer here: trials ``X`` of shape ``(n_trials, n_channels, n_times)`` in volts.
"""

from __future__ import annotations

import numpy as np
from pyriemann.channelselection import ElectrodeSelection
from pyriemann.estimation import Covariances, TimeDelayCovariances
from pyriemann.tangentspace import TangentSpace
from sklearn.base import BaseEstimator, TransformerMixin

from backend.channels import is_numbered_cap, standard_label

# The 10-10 sites over the hand areas of both motor cortices (FC, C and CP rows, 5 to 6):
# where left/right imagery shows (mu/beta desynchronisation), an a-priori neurophysiological choice.
SENSORIMOTOR = (
    "FC5", "FC3", "FC1", "FCz", "FC2", "FC4", "FC6",
    "C5", "C3", "C1", "Cz", "C2", "C4", "C6",
    "CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6",
)  # fmt: skip


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
        if self.estimator != "oas":
            return TimeDelayCovariances(delays=delays, estimator=self.estimator).transform(X)
        # pyriemann's TimeDelayCovariances (circular delays, then OAS per matrix), batched:
        # the same matrices several times faster, which the sliding-window timeline needs.
        X = np.asarray(X, dtype=float)
        stacked = np.concatenate([X] + [np.roll(X, d, axis=-1) for d in delays], axis=-2)
        stacked = stacked - stacked.mean(axis=-1, keepdims=True)
        n_times = stacked.shape[-1]
        return oas_shrink(stacked @ stacked.transpose(0, 2, 1) / n_times, n_times)


def sensorimotor_picks(ch_names) -> list[int]:
    """Indices of the :data:`SENSORIMOTOR` channels among ``ch_names`` (10-05 names, any spelling)."""
    if is_numbered_cap(ch_names):
        return []
    wanted = {name.upper() for name in SENSORIMOTOR}
    return [i for i, name in enumerate(ch_names) if (label := standard_label(str(name))) and label.upper() in wanted]


class SensorimotorChannels(TransformerMixin, BaseEstimator):
    """Keep the channels over the sensorimotor cortices.

    With 45 trials, a 64-channel covariance (2080 tangent-space features) is poorly estimated; the
    21 :data:`SENSORIMOTOR` sites carry the motor-imagery rhythms. When the recording names fewer
    than ``min_named`` of them (another montage, a numbered cap), ``n_channels`` channels are chosen
    on the training trials by Riemannian backward elimination (Barachant & Bonnet, 2011;
    pyriemann's ``ElectrodeSelection``), or all are kept if there are no more than that.

    Parameters
    ----------
    ch_names : sequence of str or None
        Names of ``X``'s channels, in order.
    n_channels : int
        Channels to keep when they are chosen from the data.
    min_named : int
        Named sensorimotor channels needed to use the names.
    """

    def __init__(self, ch_names=None, n_channels=21, min_named=8):
        self.ch_names = ch_names
        self.n_channels = n_channels
        self.min_named = min_named

    def fit(self, X, y=None):
        n = X.shape[1]
        picks = sensorimotor_picks(self.ch_names) if self.ch_names is not None and len(self.ch_names) == n else []
        if len(picks) < self.min_named:
            if n <= self.n_channels:
                picks = list(range(n))
            else:
                selection = ElectrodeSelection(nelec=int(self.n_channels)).fit(Covariances("oas").transform(X), y)
                picks = selection.subelec_
        self.picks_ = np.sort(np.asarray(picks, dtype=int))
        return self

    def transform(self, X):
        return X[:, self.picks_]


def oas_shrink(covs: np.ndarray, n_samples: float) -> np.ndarray:
    """Oracle-approximating shrinkage (Chen et al., 2010; scikit-learn's formula) of given
    covariances toward a scaled identity.

    Parameters
    ----------
    covs : ndarray, shape (n_matrices, n_channels, n_channels)
    n_samples : float
        Degrees of freedom behind each estimate.
    """
    p = covs.shape[-1]
    mu = np.trace(covs, axis1=1, axis2=2) / p
    alpha = np.mean(covs**2, axis=(1, 2))
    num = alpha + mu**2
    den = (n_samples + 1.0) * (alpha - mu**2 / p)
    shrinkage = np.where(den > 0, np.minimum(num / np.where(den > 0, den, 1.0), 1.0), 1.0)
    eye = np.eye(p)[None]
    return (1 - shrinkage)[:, None, None] * covs + (shrinkage * mu)[:, None, None] * eye


def band_covariances(X: np.ndarray, sfreq: float, bands) -> list[np.ndarray]:
    """Covariance of each trial in each sub-band, from one FFT per trial.

    By Parseval, summing the real cross-spectrum over a band's bins gives the covariance of the
    trial band-passed by an ideal (circular) filter: a filter bank at the cost of one FFT, with
    no filter transient at the trial's edges, and the same whether the trial is a training
    epoch or a sliding window of the timeline.

    Returns
    -------
    list of ndarray, shape (n_trials, n_channels, n_channels), one per band, OAS-shrunk.
    """
    if min(low for low, _ in bands) <= 0:
        X = X - X.mean(axis=-1, keepdims=True)  # only the 0 Hz bin holds the mean
    n_times = X.shape[-1]
    spectrum = np.fft.rfft(X, axis=-1)
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    out = []
    for low, high in bands:
        sel = spectrum[..., (freqs >= low) & (freqs < high)]
        # Each one-sided bin stands for itself and its mirror: factor 2 / n_times².
        re, im = np.ascontiguousarray(sel.real), np.ascontiguousarray(sel.imag)
        covs = 2.0 * (re @ re.transpose(0, 2, 1) + im @ im.transpose(0, 2, 1)) / n_times**2
        out.append(oas_shrink(covs, 2.0 * sel.shape[-1]))
    return out


class FilterBankTangentSpace(TransformerMixin, BaseEstimator):
    """Tangent-space vectors of covariances in several sub-bands, concatenated.

    Each sub-band gets its own shrunk covariance (:func:`band_covariances`) and its own
    Riemannian reference point, so a classifier on top weighs the rhythms (mu, low and high
    beta) that carry the subject's imagery.

    Parameters
    ----------
    sfreq : float
        Sampling rate of ``X`` in Hz.
    bands : tuple of (float, float)
        Sub-bands in Hz; bands reaching Nyquist are dropped at fit.
    """

    def __init__(self, sfreq=160.0, bands=((8, 12), (12, 16), (16, 20), (20, 24), (24, 28), (28, 32))):
        self.sfreq = sfreq
        self.bands = bands

    def fit(self, X, y=None):
        self.bands_ = [tuple(map(float, b)) for b in self.bands if b[1] <= self.sfreq / 2]
        covs = band_covariances(X, self.sfreq, self.bands_)
        self.tangent_spaces_ = [TangentSpace(metric="riemann").fit(c) for c in covs]
        return self

    def transform(self, X):
        covs = band_covariances(X, self.sfreq, self.bands_)
        return np.hstack([ts.transform(c) for ts, c in zip(self.tangent_spaces_, covs)])
