"""ICA fitting, ICLabel labelling, selection by rule, removal as a history step, stored ICA."""

from __future__ import annotations

import subprocess
import sys

import mne
import numpy as np
import pytest

from backend import recipe
from backend.components import ica as ica_mod
from backend.components.ica import (
    ICLABEL_CLASSES,
    before_after,
    clear_cache,
    decompose,
    fit_ica,
    for_recording,
    from_stored,
    label_components,
    removal_params,
    select_by_rule,
)
from backend.errors import EEGError
from backend.io import load_recording

FRONTAL = ["Fpz", "F3", "Fz", "F4"]


@pytest.fixture(scope="session")
def tutorial_ica(eeglab_recording):
    """FastICA on the EEGLAB tutorial recording (the quick method), cached for the session."""
    dec = decompose(eeglab_recording.raw, "fastica")
    _ = dec.probabilities  # labelled once for every test
    return dec


@pytest.fixture(scope="session")
def eye_components(tutorial_ica):
    probs = tutorial_ica.probabilities
    return [
        i
        for i in range(tutorial_ica.n_components)
        if probs[i].argmax() == ICLABEL_CLASSES.index("eye") and probs[i, 2] >= 0.8
    ]


def _no_refit(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("ICA was refitted although the fit is cached")

    monkeypatch.setattr(ica_mod, "_fit", refuse)


def test_fit_covers_the_rank_of_the_average_referenced_eeg(eeglab_recording, tutorial_ica):
    n_eeg = len(mne.pick_types(eeglab_recording.raw.info, eeg=True, exclude="bads"))
    assert tutorial_ica.n_components == n_eeg - 1
    assert tutorial_ica.prepared.info["custom_ref_applied"]
    assert tutorial_ica.prepared.info["highpass"] == pytest.approx(1.0)
    # whitened sources explain the whole (rank-deficient) signal between them
    assert tutorial_ica.variance.sum() == pytest.approx(1.0, abs=0.02)
    assert (tutorial_ica.variance > 0).all()


def test_labels_are_probabilities_and_the_recording_shows_brain_and_eye(tutorial_ica):
    probs = tutorial_ica.probabilities
    assert probs.shape == (tutorial_ica.n_components, len(ICLABEL_CLASSES))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    assert "brain" in tutorial_ica.labels and "eye" in tutorial_ica.labels


def test_fit_is_cached_on_content_and_callers_get_copies(eeglab_recording, tutorial_ica, monkeypatch):
    _no_refit(monkeypatch)
    assert decompose(eeglab_recording.raw.copy(), "fastica") is tutorial_ica
    ica, prepared = fit_ica(eeglab_recording.raw, "fastica")
    ica.exclude.append(0)
    assert tutorial_ica.ica.exclude == []
    assert np.allclose(label_components(prepared, ica), tutorial_ica.probabilities, atol=1e-5)


def test_changed_signals_are_refitted(eeglab_recording, tutorial_ica):
    assert ica_mod.content_key(eeglab_recording.raw) != ica_mod.content_key(
        eeglab_recording.raw.copy().load_data().filter(None, 30.0, verbose="error")
    )


def test_bad_settings_are_refused(eeglab_recording):
    with pytest.raises(EEGError, match="unknown ICA method"):
        decompose(eeglab_recording.raw, "jade")
    with pytest.raises(EEGError, match="between 2 and"):
        decompose(eeglab_recording.raw, "fastica", n_components=500)
    with pytest.raises(EEGError, match="fraction of variance"):
        decompose(eeglab_recording.raw, "fastica", n_components=1.5)


def test_eye_components_are_those_that_follow_the_blinks(eeglab_recording, tutorial_ica, eye_components):
    # Fpz is this recording's only Fp electrode (EOG1/EOG2 carry no blinks); compare in the blink band
    fpz = eeglab_recording.raw.copy().load_data().pick(["Fpz"]).filter(1.0, 10.0, verbose="error").get_data()[0]
    sources = mne.filter.filter_data(
        tutorial_ica.sources, eeglab_recording.raw.info["sfreq"], 1.0, 10.0, verbose="error"
    )
    r = np.abs([np.corrcoef(s, fpz)[0, 1] for s in sources])
    assert eye_components, "ICLabel found no eye component in the blink recording"
    assert (r[eye_components] >= 0.7).all()
    assert set(np.argsort(-r)[: len(eye_components)]) == set(eye_components)


def _blink_amplitude(raw, blinks):
    """Peak-to-peak of the frontal channels' blink-locked average, ±0.4 s (volts).

    Averaging over blinks keeps the blink and cancels the unrelated EEG around it.
    """
    data = raw.copy().pick(FRONTAL).filter(1.0, 10.0, verbose="error").get_data()
    half = int(0.4 * raw.info["sfreq"])
    blinks = blinks[(blinks >= half) & (blinks + half <= data.shape[1])]
    return np.ptp(np.mean([data[:, s - half : s + half] for s in blinks], axis=0), axis=1)


def test_removing_eye_components_halves_frontal_blinks(eeglab_recording, tutorial_ica, eye_components):
    blinks = mne.preprocessing.find_eog_events(eeglab_recording.raw, ch_name="Fpz", verbose="error")[:, 0]
    blinks = blinks - eeglab_recording.raw.first_samp
    assert len(blinks) >= 10
    before, after = before_after(eeglab_recording.raw, tutorial_ica, eye_components)
    assert (_blink_amplitude(after, blinks) <= 0.5 * _blink_amplitude(before, blinks)).all()


def test_select_by_rule_follows_class_and_threshold(tutorial_ica, eye_components):
    probs = tutorial_ica.probabilities
    loose = select_by_rule(probs, ["eye"], 0.0)
    assert set(eye_components) <= set(loose)
    assert all(tutorial_ica.labels[i] == "eye" for i in loose)
    strict = select_by_rule(probs, ["eye", "line_noise"], 0.9)
    assert all(probs[i].max() >= 0.9 and tutorial_ica.labels[i] in ("eye", "line_noise") for i in strict)
    assert set(select_by_rule(probs, ["eye", "line_noise"], 0.95)) <= set(strict)
    assert select_by_rule(probs, [], 0.0) == []
    with pytest.raises(EEGError, match="unknown ICLabel class"):
        select_by_rule(probs, ["blink"], 0.5)
    with pytest.raises(EEGError, match="between 0 and 1"):
        select_by_rule(probs, ["eye"], 1.5)


def test_apply_is_a_history_step_without_refitting(eeglab_recording, tutorial_ica, eye_components, monkeypatch):
    _no_refit(monkeypatch)
    cleaned = eeglab_recording.apply("ica_remove", **removal_params(tutorial_ica, eye_components))
    step = cleaned.history[-1]
    assert step.name == "ica_remove" and step.report["components_removed"] == sorted(eye_components)
    _, expected = before_after(eeglab_recording.raw, tutorial_ica, eye_components)
    assert np.allclose(cleaned.raw.get_data(), expected.get_data())
    replayed = recipe.replay(recipe.parse_recipe(recipe.recipe_json(cleaned)), eeglab_recording)
    assert np.allclose(replayed.raw.get_data(), cleaned.raw.get_data())
    with pytest.raises(EEGError, match="between 0 and"):
        eeglab_recording.apply("ica_remove", **removal_params(tutorial_ica, [999]))


@pytest.mark.slow
def test_exported_script_reproduces_the_removal(eeglab_recording, eeglab_files, tutorial_ica, eye_components, tmp_path):
    cleaned = eeglab_recording.apply("ica_remove", **removal_params(tutorial_ica, eye_components))
    for f in eeglab_files:
        (tmp_path / f.name).write_bytes(f.read_bytes())
    script = recipe.to_script(cleaned)
    assert f"ica.apply(raw, exclude={sorted(eye_components)!r})" in script
    (tmp_path / "pipeline.py").write_text(script)
    run = subprocess.run([sys.executable, "pipeline.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    out = mne.io.read_raw_fif(next(tmp_path.glob("*_explorer_raw.fif")), verbose="error")
    picks = tutorial_ica.ica.ch_names
    assert np.allclose(out.get_data(picks=picks), cleaned.raw.get_data(picks=picks), atol=1e-7)


def test_stored_ica_is_shown_without_refitting(shared_data, monkeypatch):
    folder = shared_data / "eeglab_sample"
    rec = load_recording([folder / "eeglab_data_epochs_ica.set", folder / "eeglab_data_epochs_ica.fdt"])
    assert rec.ica is not None
    _no_refit(monkeypatch)
    dec = for_recording(rec)
    assert dec.method == "stored" and dec.fit_s == 0.0
    assert dec.n_components == rec.ica.n_components_
    probs = dec.probabilities
    assert probs.shape == (dec.n_components, 7) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    eye = select_by_rule(probs, ["eye"], 0.8)
    assert eye, "the tutorial's stored ICA has blink components"
    cleaned = rec.apply("ica_remove", **removal_params(dec, eye, rec.name))
    assert cleaned.history[-1].report["components_removed"] == eye
    fpz_before = np.ptp(rec.raw.get_data(picks=["Fpz"]))
    assert np.ptp(cleaned.raw.get_data(picks=["Fpz"])) < fpz_before
    assert "read_ica_eeglab('eeglab_data_epochs_ica.set')" in recipe.to_script(cleaned)


def test_stored_method_needs_a_stored_ica(eeglab_recording):
    with pytest.raises(EEGError, match="carries no ICA"):
        for_recording(eeglab_recording, "stored")
    with pytest.raises(EEGError, match="carries no ICA"):
        eeglab_recording.apply("ica_remove", method="stored", stored="0" * 24, exclude=[0])


def test_stored_ica_removal_needs_no_cache(shared_data):
    """The stored ICA reaches the step from the Recording: an empty cache changes nothing."""
    folder = shared_data / "eeglab_sample"
    files = [folder / "eeglab_data_epochs_ica.set", folder / "eeglab_data_epochs_ica.fdt"]
    rec = load_recording(files)
    params = removal_params(from_stored(rec.raw, rec.ica), [0, 2], rec.name)
    clear_cache()
    cleaned = rec.apply("ica_remove", **params)  # never viewed in this process
    clear_cache()
    replayed = recipe.replay(recipe.parse_recipe(recipe.recipe_json(cleaned)), load_recording(files))
    assert np.array_equal(replayed.raw.get_data(), cleaned.raw.get_data())
    with pytest.raises(EEGError, match="not the one whose components were chosen"):
        rec.apply("ica_remove", **dict(params, stored="0" * 24))
