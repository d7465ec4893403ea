"""The resume key of a study result: inputs, recipe and versions of what computes it, nothing else."""

from __future__ import annotations

import backend
from backend.clean.pipeline import parse_pipeline
from backend.study import provenance
from backend.study.dataset import Entry

PIPELINE = parse_pipeline("bandpass:1,40;reref:average")


def _entry(tmp_path, content: bytes = b"header bytes") -> Entry:
    (tmp_path / "S01R01.edf").write_bytes(content)
    return Entry(str(tmp_path / "S01R01.edf"), "01", run="01")


def test_versions_name_the_package_release_and_libraries_not_its_source():
    versions = provenance.software_versions()
    assert versions["eeg_explorer"] == backend.__version__
    assert {"mne", "mne_bids", "numpy", "scipy", "scikit_learn", "meegkit", "python"} <= set(versions)
    assert all(isinstance(v, str) and v for v in versions.values())


def test_key_depends_on_inputs_recipe_and_versions(tmp_path, monkeypatch):
    entry = _entry(tmp_path)
    versions = provenance.software_versions()
    key = provenance.content_key(entry, PIPELINE, versions)
    assert key == provenance.content_key(entry, PIPELINE, dict(versions))  # same inputs, same key
    assert key != provenance.content_key(entry, parse_pipeline("bandpass:1,30;reref:average"), versions)
    assert key != provenance.content_key(entry, PIPELINE, {**versions, "mne": "9.9"})
    # Bumping the package's version reruns everything; nothing else about the package does.
    provenance.software_versions.cache_clear()
    monkeypatch.setattr(backend, "__version__", "99.0")
    try:
        assert provenance.software_versions()["eeg_explorer"] == "99.0"
        assert provenance.content_key(entry, PIPELINE) != key
    finally:
        provenance.software_versions.cache_clear()
    # Changed input bytes are a new result.
    assert provenance.content_key(_entry(tmp_path, b"other bytes"), PIPELINE, versions) != key
