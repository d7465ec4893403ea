"""Trained models: save/load round trip (skops and torch state_dict), refusal of mismatches."""

import io
import json
import zipfile

import numpy as np
import pytest
import skops.io as sio
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from backend.classify.epochs import TaskSpec, make_trials
from backend.classify.persistence import check_compatible, load_model, model_bytes, save_model, train_model
from backend.errors import EEGError
from backend.recording import Step

TASK = TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0))


@pytest.fixture(scope="module")
def small_recording(physionet_recording):
    """The bundled run with only 16 good EEG channels (the others marked bad)."""
    names = physionet_recording.raw.ch_names
    return physionet_recording.apply("set_bads", bads=[n for i, n in enumerate(names) if i % 4])


@pytest.fixture(scope="module")
def trials(small_recording):
    return make_trials([small_recording], TASK)


@pytest.mark.parametrize(
    "pipeline",
    ["ts-lr", pytest.param("best", marks=pytest.mark.slow), pytest.param("shallow-cnn", marks=pytest.mark.slow)],
)
def test_round_trip_gives_the_same_probabilities(pipeline, trials, tmp_path):
    model = train_model(trials, pipeline)
    path = save_model(model, tmp_path / "model.zip")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert names == {"model.json", "weights.npz" if pipeline == "shallow-cnn" else "estimator.skops"}
    loaded = load_model(path)
    assert loaded.ch_names == trials.ch_names and loaded.task == TASK and loaded.sfreq == trials.sfreq
    np.testing.assert_allclose(loaded.predict_proba(trials.X), model.predict_proba(trials.X), rtol=1e-5, atol=1e-6)


def test_mismatched_recordings_are_refused(trials, small_recording, eeglab_recording):
    model = train_model(trials, "ts-lr")
    check_compatible(model, small_recording)  # its own recording passes
    with pytest.raises(EEGError, match="lacks"):
        check_compatible(model, eeglab_recording)
    resampled = small_recording.with_raw(
        small_recording.raw.copy().load_data().resample(80.0), Step("resample", {"sfreq": 80.0})
    )
    with pytest.raises(EEGError, match="Hz"):
        check_compatible(model, resampled)
    with pytest.raises(EEGError, match="trained on 8–30 Hz"):
        check_compatible(model, small_recording, TaskSpec(("T1", "T2"), 0.5, 2.5, (4.0, 30.0)))
    with pytest.raises(EEGError, match="window"):
        check_compatible(model, small_recording, TaskSpec(("T1", "T2"), 0.0, 3.0, (8.0, 30.0)))


def test_foreign_files_are_refused(trials):
    with pytest.raises(EEGError, match="not an EEG Explorer model"):
        load_model(b"definitely not a zip")
    # A well-formed archive whose estimator names an untrusted callable (os.system) is refused.
    good = io.BytesIO(model_bytes(train_model(trials, "ts-lr")))
    meta = json.loads(zipfile.ZipFile(good).read("model.json"))
    evil = make_pipeline(FunctionTransformer(func=__import__("os").system))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("model.json", json.dumps(meta))
        zf.writestr("estimator.skops", sio.dumps(evil))
    with pytest.raises(EEGError, match="untrusted"):
        load_model(buffer.getvalue())


def test_torch_weights_in_torchs_own_format_are_never_parsed(trials):
    """An uploaded model's network is read from NumPy arrays only: torch's C++ file reader never sees upload bytes."""
    meta = json.loads(zipfile.ZipFile(io.BytesIO(model_bytes(train_model(trials, "ts-lr")))).read("model.json"))
    meta["pipeline"] = "shallow-cnn"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("model.json", json.dumps(meta))
        zf.writestr("weights.pt", b"PK\x03\x04 forged torch archive")
    with pytest.raises(EEGError, match="torch's own format .* which is not read: train it again"):
        load_model(buffer.getvalue())
