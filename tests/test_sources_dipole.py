"""Dipole fits: a planted dipole is recovered; ICA components get a dipole each."""

import mne
import numpy as np
import pytest

import tests.sources_support as sup
from backend.components.ica import fit_ica
from backend.errors import EEGError
from backend.sources import dipole, forward, inverse, template


def test_fit_recovers_a_planted_dipole(physionet_recording):
    elec = forward.electrodes(physionet_recording.raw.info)
    fwd = mne.convert_forward_solution(
        forward.forward(elec.info, "sphere", sup.ICO), surf_ori=True, force_fixed=True, verbose="error"
    )
    positions = forward.mri_positions(fwd)
    true = int(np.argmin(np.linalg.norm(positions - [-0.03, -0.07, 0.04], axis=1)))  # left parietal
    field = fwd["sol"]["data"][:, true] * 20e-9
    rng = np.random.default_rng(0)
    data = field[:, None] + rng.normal(0, 0.05 * np.abs(field).max(), (len(field), 3))
    evoked = mne.EvokedArray(data, elec.info, tmin=0.0, verbose="error").apply_proj()
    fit = dipole.fit_at(evoked, mne.make_ad_hoc_cov(elec.info, verbose="error"), evoked.times[1], "sphere")
    assert np.linalg.norm(fit.pos_mm - positions[true] * 1000) < 10.0
    assert fit.gof > 90.0
    normal = mne.transforms.apply_trans(template.trans(), fwd["source_nn"][true], move=False)
    assert abs(fit.ori @ normal) > 0.8


def test_fit_for_ica_components(eeglab_recording):
    ica, _ = fit_ica(eeglab_recording.raw, "fastica", n_components=8, seed=0)
    fits = [dipole.fit_component(ica, k, eeglab_recording.raw.info, "sphere") for k in range(3)]
    for fit in fits:
        assert 0.0 <= fit.gof <= 100.0
        assert np.all(np.abs(fit.pos_mm) < 120)
        assert fit.region
    with pytest.raises(EEGError, match="component"):
        dipole.fit_component(ica, 8, eeglab_recording.raw.info, "sphere")


def test_fit_time_outside_the_span_is_a_user_error(eeglab_recording):
    result = inverse.localise(eeglab_recording.raw, "MNE", event="square", model="sphere", ico=sup.ICO)
    with pytest.raises(EEGError, match="outside"):
        dipole.fit_at(result.evoked, mne.make_ad_hoc_cov(result.electrodes.info), 5.0, "sphere")
