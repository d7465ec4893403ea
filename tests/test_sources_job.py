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
