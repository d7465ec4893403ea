"""Equivalent current dipole fits on the template head (:func:`mne.fit_dipole`).

A dipole is fitted to the scalp map at one moment of a localised Evoked, or to
an ICA component's scalp map (its mixing-matrix column): components of brain
origin are often well explained by one dipole, and the goodness of fit says how
well.
"""

from __future__ import annotations

from dataclasses import dataclass

import mne
import numpy as np

from backend.errors import EEGError
from backend.sources import forward as fwd_mod
from backend.sources import template
from backend.sources.atlas import region_name


@dataclass(frozen=True)
class DipoleFit:
    """One fitted dipole in the template MRI frame.

    Attributes
    ----------
    pos_mm : ndarray, shape (3,)
        Position (fsaverage surface RAS, mm).
    ori : ndarray, shape (3,)
        Unit orientation (MRI frame).
    gof : float
        Goodness of fit, percent of the scalp map's variance explained.
    amplitude : float
        Dipole moment (A·m; arbitrary scale for an ICA component).
    time : float
        When (s); 0 for a component.
    region : str
    """

    pos_mm: np.ndarray
    ori: np.ndarray
    gof: float
    amplitude: float
    time: float
    region: str

    def to_dict(self) -> dict:
        return {
            "pos_mm": [round(float(v), 1) for v in self.pos_mm],
            "ori": [round(float(v), 3) for v in self.ori],
            "gof": round(self.gof, 1),
            "amplitude": self.amplitude,
            "time": self.time,
            "region": self.region,
        }


def _fit(evoked: mne.Evoked, cov: mne.Covariance, model: str) -> DipoleFit:
    if model == "sphere":
        conductor, trans = fwd_mod.head_model("sphere"), None
    else:
        conductor, trans = fwd_mod.head_model("bem"), template.trans()
    dip, _ = mne.fit_dipole(evoked, cov, conductor, trans, min_dist=0.0, n_jobs=1, verbose="error")
    to_mri = template.trans()  # dipoles come out in the head frame
    pos = mne.transforms.apply_trans(to_mri, dip.pos[0]) * 1000
    ori = mne.transforms.apply_trans(to_mri, dip.ori[0], move=False)
    return DipoleFit(pos, ori, float(dip.gof[0]), float(dip.amplitude[0]), float(dip.times[0]), region_name(pos))


def fit_at(evoked: mne.Evoked, cov: mne.Covariance, time: float, model: str = "bem") -> DipoleFit:
    """Fit one dipole to the scalp map of ``evoked`` (template electrodes) at ``time`` (s)."""
    if not evoked.times[0] <= time <= evoked.times[-1]:
        raise EEGError(f"time {time:g} s is outside the localised span ({evoked.times[0]:g}-{evoked.times[-1]:g} s)")
    idx = int(np.argmin(np.abs(evoked.times - time)))
    one = evoked.copy().crop(evoked.times[idx], evoked.times[idx], include_tmax=True)
    return _fit(one, cov, model)


def component_topography(ica, component: int) -> dict[str, float]:
    """Channel name -> weight of an ICA component's scalp map (its mixing column)."""
    n = ica.n_components_
    if not 0 <= component < n:
        raise EEGError(f"component must be between 0 and {n - 1}, got {component}")
    column = ica.get_components()[:, component]
    return dict(zip(ica.ch_names, column))


def fit_component(ica, component: int, info: mne.Info, model: str = "bem") -> DipoleFit:
    """Fit one dipole to an ICA component's scalp map.

    ``info`` is the recording's (to place its channels on the template); the
    component's channels without a standard position are left out.
    """
    weights = component_topography(ica, component)
    electrodes = fwd_mod.electrodes(info)
    missing = [n for n in electrodes.used if n not in weights]
    used = [n for n in electrodes.used if n in weights]
    if len(used) < 8:
        raise EEGError("fewer than 8 of the component's channels have standard positions; cannot fit a dipole")
    elec_info = mne.pick_info(electrodes.info, [electrodes.info.ch_names.index(n) for n in used])
    if missing:  # the average-reference projector must match the channels kept
        with elec_info._unlock():
            elec_info["projs"] = []
        holder = mne.io.RawArray(np.zeros((len(used), 1)), elec_info, verbose="error")
        holder.set_eeg_reference("average", projection=True, verbose="error")
        elec_info = holder.info
    # Scale to a plausible scalp amplitude (10 µV peak): only the map's shape matters.
    values = np.array([weights[n] for n in used])
    values = values / np.max(np.abs(values)) * 10e-6
    evoked = mne.EvokedArray(values[:, None], elec_info, tmin=0.0, verbose="error").apply_proj(verbose="error")
    return _fit(evoked, mne.make_ad_hoc_cov(elec_info, verbose="error"), model)
