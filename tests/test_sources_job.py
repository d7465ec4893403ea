"""``backend.sources.job``: a localisation stored by a worker rebuilds the same result in the server."""

from __future__ import annotations

import numpy as np
import pytest

import tests.sources_support as sup
from backend.errors import EEGError
from backend.sources import export, inverse
from backend.sources.job import result_name, run, source_result


def test_the_stored_estimate_rebuilds_the_servers_result(eeglab_recording):
    rec = eeglab_recording
    pairs = [["epoch", [-0.1, 0.4]], ["event", "square"], ["ico", sup.ICO], ["method", "sLORETA"], ["model", sup.MODEL]]
    said = []
    output = run(rec, {"params": pairs, "steps_key": rec.steps_key}, lambda f, t="": said.append(t))
    assert output.name == result_name(rec.steps_key, pairs) and said[-1] == "storing the source estimate"
    here = inverse.localise(rec.raw, "sLORETA", event="square", epoch=(-0.1, 0.4), model=sup.MODEL, ico=sup.ICO)
    back = source_result(rec, output.payload, output.blob)
    np.testing.assert_array_equal(back.stc.data, here.stc.data)
    assert [list(v) for v in back.stc.vertices] == [list(v) for v in here.stc.vertices]
    assert back.stc.tmin == pytest.approx(here.stc.tmin) and back.stc.tstep == pytest.approx(here.stc.tstep)
    np.testing.assert_allclose(back.evoked.data, here.evoked.data, rtol=1e-6)  # FIF keeps evoked data in float32
    assert back.evoked.ch_names == here.evoked.ch_names and back.peak == here.peak
    assert (back.method, back.model, back.covariance) == ("sLORETA", sup.MODEL, "baseline")
    assert output.payload["peaks"] == export.peak_table(back) == export.peak_table(here)


def test_an_estimate_of_another_state_is_refused_in_one_line(eeglab_recording):
    changed = eeglab_recording.apply("reref", ref="average")
    with pytest.raises(EEGError, match=r"^the recording was changed since the localisation was asked for"):
        run(changed, {"params": [], "steps_key": eeglab_recording.steps_key}, lambda *a: None)
    with pytest.raises(EEGError, match=r"^this source estimate belongs to another state of the recording"):
        source_result(changed, {"steps_key": eeglab_recording.steps_key}, b"")


def test_a_dipole_job_fits_the_stored_localisations_map_as_the_server_did(eeglab_files, tmp_path):
    from backend import jobs
    from backend.library.api import Library
    from backend.sources import dipole
    from backend.sources.job import dipole as dipole_stage
    from backend.sources.job import dipole_fit, dipole_name

    lib = Library(tmp_path / "home")
    entry = lib.add("local", eeglab_files)
    rec = lib.open("local", entry.id)
    pairs = [["epoch", [-0.1, 0.4]], ["event", "square"], ["ico", sup.ICO], ["method", "sLORETA"], ["model", sup.MODEL]]
    request = {"target": "map", "params": pairs, "time": 0.1, "model": "sphere", "label": "scalp map at 0.100 s"}
    said = []
    with jobs.results_of(lib, "local", entry.id):
        with pytest.raises(EEGError, match=r"^the localisation of this scalp map is no longer stored; press Localise"):
            dipole_stage(rec, request, lambda *a: None)
        localised = run(rec, {"params": pairs}, lambda *a: None)
        lib.save_result("local", entry.id, "source_estimate", localised.name, localised.payload, localised.blob)
        output = dipole_stage(rec, dict(request, steps_key=rec.steps_key), lambda f, t="": said.append(t))
    assert output.name == dipole_name(rec.steps_key, request) and said[-1] == "fitting a dipole (sphere head model)"
    assert output.payload["label"] == "scalp map at 0.100 s"
    # The fit the page made in the server: the same evoked and noise covariance.
    result = source_result(rec, localised.payload, localised.blob)
    epochs = inverse.event_epochs(rec.raw, result.electrodes, "square", -0.1, 0.4)
    cov = inverse.noise_covariance(result.covariance, result.electrodes, raw=rec.raw, epochs=epochs)
    here = dipole.fit_at(result.evoked, cov, 0.1, "sphere")
    back = dipole_fit(output.payload)
    np.testing.assert_allclose(back.pos_mm, here.pos_mm, atol=1e-6)
    assert back.gof == pytest.approx(here.gof) and back.region == here.region
    with pytest.raises(EEGError, match=r"^a dipole is fitted to one of map, component, got 'x'"):
        dipole_stage(rec, {"target": "x"}, lambda *a: None)
    lib.close()
