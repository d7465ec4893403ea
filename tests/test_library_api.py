"""``backend.library.api``: the Library's functions, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

import mne
import numpy as np
import pytest

from backend.errors import EEGError
from backend.library.api import MAX_LABEL, Library


def make_fif(path, n_channels=4, sfreq=100.0, seconds=10.0, date=None, subject=None, seed=0):
    """A small FIF recording: random EEG in volts, 10-20 names."""
    names = ["Fz", "Cz", "Pz", "Oz", "C3", "C4", "F3", "F4"][:n_channels]
    info = mne.create_info(names, sfreq, "eeg")
    data = np.random.default_rng(seed).normal(0, 20e-6, (n_channels, int(seconds * sfreq)))
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_meas_date(date)
    if subject:
        with raw.info._unlock():
            raw.info["subject_info"] = subject
    raw.save(path, overwrite=True, verbose="error")
    return path


def test_add_list_and_open_a_recording(library, physionet_file):
    entry = library.add("local", [physionet_file], tags=["motor", "PhysioNet"])
    assert (entry.name, entry.format, entry.n_channels, entry.sfreq, entry.duration_s) == (
        "S001R04.edf",
        "EDF",
        64,
        160.0,
        125.0,
    )
    assert entry.recorded_at == datetime(2009, 8, 12, 16, 15, tzinfo=UTC)
    assert entry.size_bytes == physionet_file.stat().st_size and entry.tags == ("PhysioNet", "motor")
    [listed] = library.list("local")
    assert listed.id == entry.id and listed.recorded_at == entry.recorded_at and listed.tags == entry.tags
    recording = library.open("local", entry.id)
    assert len(recording.raw.ch_names) == 64 and recording.history[0].name == "load"
    # The file's 30 events became the Library's annotations, and back.
    notes = library.annotations("local", entry.id)
    assert len(notes) == 30 and notes[0].label == "T0" and notes[1].onset == pytest.approx(4.2)
    assert list(recording.raw.annotations.description) == [a.label for a in notes]
    assert library.get("local", entry.id).opened_at > entry.opened_at


def test_an_upload_made_twice_is_stored_once_and_files_go_with_their_last_user(library, physionet_file):
    first = library.add("local", [physionet_file])
    second = library.add("local", [physionet_file])
    other = library.add("ana", [physionet_file])
    objects = lambda: sorted(p.name for p in (library.home / "store" / "objects").rglob("*") if p.is_file())  # noqa: E731
    shas = {f["sha256"] for e in (first, second) for f in library.files("local", e.id)} | {
        f["sha256"] for f in library.files("ana", other.id)
    }
    assert len(shas) == 1 and objects() == sorted(shas)
    library.remove("local", first.id)
    library.remove("ana", other.id)
    assert objects() == sorted(shas)  # the second entry still refers to it
    library.remove("local", second.id)
    assert objects() == []
    assert library.list("local") == [] and library.list("ana") == []


def test_search_filter_and_sort(library, physionet_file, tmp_path):
    a = library.add(
        "local",
        [make_fif(tmp_path / "alpha_raw.fif", 4, date=datetime(2020, 1, 1, tzinfo=UTC))],
        tags=["rest"],
    )
    b = library.add("local", [make_fif(tmp_path / "Beta_raw.fif", 8, seconds=5, seed=1)], tags=["rest", "eyes"])
    c = library.add("local", [physionet_file], tags=["motor"])
    assert [e.id for e in library.list("local", sort="name")] == [a.id, b.id, c.id]  # in any case
    assert [e.id for e in library.list("local", sort="channels")] == [c.id, b.id, a.id]
    assert [e.id for e in library.list("local", sort="duration", descending=False)] == [b.id, a.id, c.id]
    assert [e.id for e in library.list("local", search="BETA")] == [b.id]
    assert [e.id for e in library.list("local", search="%")] == []  # a wildcard is a character like any other
    assert {e.id for e in library.list("local", tag="rest")} == {a.id, b.id}
    assert [e.id for e in library.list("local", format="EDF")] == [c.id]
    assert [e.id for e in library.list("local", recorded_from=datetime(2015, 1, 1, tzinfo=UTC))] == [a.id]
    assert library.get("local", b.id).recorded == "anonymised"
    assert library.count("local", tag="rest") == 2 and library.count("nobody") == 0
    assert [e.id for e in library.list("local", sort="added", limit=1, offset=1)] == [b.id]
    with pytest.raises(EEGError, match="cannot sort by 'colour'"):
        library.list("local", sort="colour")


def test_rename_and_tag(library, tmp_path):
    entry = library.add("local", [make_fif(tmp_path / "x_raw.fif")])
    assert library.rename("local", entry.id, "Night 1").name == "Night 1"
    assert library.tag("local", entry.id, add=["sleep", "night"]).tags == ("night", "sleep")
    assert library.tag("local", entry.id, remove=["night"]).tags == ("sleep",)
    assert library.get("local", entry.id).version == 4


@pytest.mark.parametrize(
    "text",
    ['it\'s "quoted"', "x'); DROP TABLE recordings; --", "<script>alert(1)</script>", "Ω ünïcødé 😀", "a" * 1000],
)
def test_odd_text_is_stored_verbatim(library, tmp_path, text):
    entry = library.add("local", [make_fif(tmp_path / "odd_raw.fif")], tags=[text[:100]])
    library.rename("local", entry.id, text[:255])
    note = library.add_annotation("local", entry.id, 1, 0.5, text)
    assert library.annotations("local", entry.id)[-1].label == text and note.label == text
    assert library.get("local", entry.id).name == text[:255]
    assert library.list("local", tag=text[:100])[0].id == entry.id
    assert library.list("local", search=text[:20])[0].id == entry.id


def test_over_long_or_empty_text_is_refused_with_a_message(library, tmp_path):
    entry = library.add("local", [make_fif(tmp_path / "x_raw.fif")])
    with pytest.raises(EEGError, match=f"10000 characters; at most {MAX_LABEL}"):
        library.add_annotation("local", entry.id, 1, 0, "x" * 10_000)
    with pytest.raises(EEGError, match="at most 255"):
        library.rename("local", entry.id, "n" * 10_000)
    with pytest.raises(EEGError, match="a tag has 10000 characters"):
        library.tag("local", entry.id, add=["t" * 10_000])
    with pytest.raises(EEGError, match="is empty"):
        library.add_annotation("local", entry.id, 1, 0, "   ")
    with pytest.raises(EEGError, match="NUL"):
        library.add_annotation("local", entry.id, 1, 0, "a\x00b")
    for onset in ("nan", "-1", "1e400", "abc"):
        with pytest.raises(EEGError, match="onset"):
            library.add_annotation("local", entry.id, onset, 0, "x")
    with pytest.raises(EEGError, match="outside the recording"):
        library.add_annotation("local", entry.id, 9.5, 1, "x")
    assert len(library.annotations("local", entry.id)) == 0


def test_no_user_reaches_another_users_rows(library, tmp_path):
    mine = library.add("ana", [make_fif(tmp_path / "a_raw.fif")])
    note = library.add_annotation("ana", mine.id, 1, 1, "mine")
    result = library.save_result("ana", mine.id, "impression", "impression", {"text": "normal"})
    theirs = library.add("ben", [make_fif(tmp_path / "b_raw.fif", seed=3)])
    attempts = [
        lambda: library.get("ben", mine.id),
        lambda: library.open("ben", mine.id),
        lambda: library.annotations("ben", mine.id),
        lambda: library.add_annotation("ben", mine.id, 1, 1, "x"),
        lambda: library.update_annotation("ben", note.id, 1, label="x"),
        lambda: library.delete_annotation("ben", note.id, 1),
        lambda: library.rename("ben", mine.id, "x"),
        lambda: library.tag("ben", mine.id, add=["x"]),
        lambda: library.remove("ben", mine.id),
        lambda: library.results("ben", mine.id),
        lambda: library.result_blob("ben", result.id),
        lambda: library.delete_result("ben", result.id),
        lambda: library.save_result("ben", mine.id, "impression", "impression", {"text": "x"}),
        lambda: library.files("ben", mine.id),
        lambda: library.save_state("ben", mine.id, library.open("ana", mine.id)),
        lambda: library.save_derived("ben", mine.id, library.open("ana", mine.id)),
    ]
    for attempt in attempts:
        with pytest.raises(EEGError, match="no (recording|annotation|result) .* in ben's library"):
            attempt()
    # Another user's id reads exactly like an id that does not exist.
    with pytest.raises(EEGError) as missing:
        library.get("ben", 999_999)
    assert str(missing.value) == "no recording 999999 in ben's library"
    assert [e.id for e in library.list("ben")] == [theirs.id]
    assert library.annotations("ana", mine.id)[0].label == "mine" and library.impression("ana", mine.id) == "normal"
    assert library.get("ana", mine.id).name == "a_raw.fif"


def test_two_sessions_editing_one_annotation_lose_no_update(library_url, tmp_path):
    first, second = Library(), Library()
    try:
        entry = first.add("local", [make_fif(tmp_path / "x_raw.fif")])
        note = first.add_annotation("local", entry.id, 1, 1, "spike")
        seen_by_second = second.annotations("local", entry.id)[0]
        edited = first.update_annotation("local", note.id, note.version, label="sharp wave")
        with pytest.raises(EEGError, match=f"annotation {note.id} was changed or deleted in another session"):
            second.update_annotation("local", note.id, seen_by_second.version, label="artefact")
        with pytest.raises(EEGError, match="changed or deleted in another session"):
            second.delete_annotation("local", note.id, seen_by_second.version)
        assert second.annotations("local", entry.id)[0].label == "sharp wave"
        second.delete_annotation("local", note.id, edited.version)
        with pytest.raises(EEGError, match=f"no annotation {note.id}"):
            first.update_annotation("local", note.id, edited.version, label="x")
    finally:
        first.close()
        second.close()


def test_history_autosave_and_reopen_from_cache_or_recipe(library, physionet_file):
    entry = library.add("local", [physionet_file])
    recording = library.open("local", entry.id)
    processed = recording.apply("set_bads", bads=["FCz"]).apply("bandpass", l_freq=1.0, h_freq=40.0)
    version = library.save_state("local", entry.id, processed, expected_version=entry.version)
    with pytest.raises(EEGError, match="changed in another session"):
        library.save_state("local", entry.id, recording, expected_version=entry.version)
    reopened = library.open("local", entry.id)
    assert [s.name for s in reopened.history] == ["load", "set_bads", "bandpass"] and reopened.raw.info["bads"] == [
        "FCz"
    ]
    np.testing.assert_allclose(reopened.raw.get_data(), processed.raw.get_data(), atol=1e-12)
    cache = library.files("local", entry.id)  # the source stays; the cache is separate
    assert len(cache) == 1
    # The cache gone: rebuilt from the recipe, the same signals, and cached again.
    for path in (library.home / "store" / "objects").rglob("*"):
        if path.is_file() and path.name != cache[0]["sha256"]:
            path.unlink()
    rebuilt = library.open("local", entry.id)
    np.testing.assert_allclose(rebuilt.raw.get_data(), processed.raw.get_data(), atol=1e-12)
    assert sum(p.is_file() for p in (library.home / "store" / "objects").rglob("*")) == 2
    assert library.get("local", entry.id).version == version


def test_a_derived_recording_is_its_own_entry(library, physionet_file):
    parent = library.add("local", [physionet_file])
    processed = library.open("local", parent.id).apply("bandpass", l_freq=1.0, h_freq=None)
    child = library.save_derived("local", parent.id, processed, name="S001R04 high-passed")
    assert child.parent_id == parent.id and child.history[-1]["name"] == "bandpass"
    library.remove("local", parent.id)  # the child keeps the source file it shares
    reopened = library.open("local", child.id)
    np.testing.assert_allclose(reopened.raw.get_data(), processed.raw.get_data(), atol=1e-12)
    assert library.get("local", child.id).parent_id is None


def test_results_are_typed_rows_with_payloads_and_blobs(library, tmp_path):
    entry = library.add("local", [make_fif(tmp_path / "x_raw.fif")])
    ica = library.save_result(
        "local",
        entry.id,
        "ica",
        "ICA 1",
        {"labels": ["brain", "eye blink"], "exclude": np.array([1]), "n_components": np.int64(2)},
        blob=b"\x00ICA bytes",
    )
    assert ica.payload == {"labels": ["brain", "eye blink"], "exclude": [1], "n_components": 2} and ica.has_blob
    assert library.result_blob("local", ica.id) == b"\x00ICA bytes"
    again = library.save_result("local", entry.id, "ica", "ICA 1", {"exclude": [0]}, expected_version=ica.version)
    assert again.id == ica.id and again.version == 2 and not again.has_blob
    assert not any(p.is_file() and p.read_bytes() == b"\x00ICA bytes" for p in (library.home / "store").rglob("*"))
    with pytest.raises(EEGError, match="changed in another session"):
        library.save_result("local", entry.id, "ica", "ICA 1", {"exclude": [1]}, expected_version=ica.version)
    library.set_impression("local", entry.id, "Normal awake EEG.\n<b>No</b> epileptiform discharges.")
    assert library.impression("local", entry.id).startswith("Normal awake EEG.\n<b>No</b>")
    assert [r.kind for r in library.results("local", entry.id)] == ["impression", "ica"]
    with pytest.raises(EEGError, match="unknown result kind 'notes'"):
        library.save_result("local", entry.id, "notes", "x", {})
    with pytest.raises(EEGError, match="cannot be stored as JSON"):
        library.save_result("local", entry.id, "sources", "peaks", {"peak": float("nan")})
    library.delete_result("local", ica.id)
    assert [r.kind for r in library.results("local", entry.id)] == ["impression"]


def test_a_stored_ica_of_an_eeglab_file_comes_back_on_open(library, shared_data):
    folder = shared_data / "eeglab_sample"
    entry = library.add("local", [folder / "eeglab_data_epochs_ica.set", folder / "eeglab_data_epochs_ica.fdt"])
    recording = library.open("local", entry.id)
    assert entry.format == "EEGLAB" and recording.format == "FIF"  # stored de-identified, as FIF
    [stored] = library.results("local", entry.id, kind="ica")
    assert recording.ica is not None and recording.ica.n_components_ == stored.payload["n_components"]
