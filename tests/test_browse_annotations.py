"""Annotation steps (add, edit, delete, import), CSV export and bad-channel marking."""

import os
import runpy

import mne
import pytest

from backend import recipe
from backend.browse import annotations
from backend.errors import EEGError
from backend.io import load_recording


def test_add_edit_delete_export_import_round_trip(physionet_recording):
    rec = physionet_recording
    n0 = len(rec.raw.annotations)
    added = rec.apply("add_annotation", onset=12.5, duration=2.0, description="spike-wave")
    assert len(added.raw.annotations) == n0 + 1 and len(rec.raw.annotations) == n0  # the original is untouched
    row = next(r for r in annotations.table(added.raw) if r["description"] == "spike-wave")
    assert row["onset"] == pytest.approx(12.5) and row["duration"] == pytest.approx(2.0)

    edited = added.apply(
        "edit_annotation", index=row["index"], onset=20.0, duration=0.5, description="sharp wave, left"
    )
    new = [r for r in annotations.table(edited.raw) if r["description"] == "sharp wave, left"]
    assert len(new) == 1 and "spike-wave" not in annotations.labels(edited.raw)
    assert (new[0]["onset"], new[0]["duration"]) == (pytest.approx(20.0), pytest.approx(0.5))
    assert len(edited.raw.annotations) == n0 + 1

    text = annotations.to_csv(edited.raw)
    assert text.splitlines()[0] == "onset,duration,description"
    assert len(text.splitlines()) == n0 + 2

    deleted = edited.apply("delete_annotation", index=new[0]["index"])
    assert len(deleted.raw.annotations) == n0
    assert "sharp wave, left" not in annotations.labels(deleted.raw)

    parsed = annotations.parse_csv(text, deleted.raw)
    imported = deleted.apply("import_annotations", rows=parsed)
    assert len(imported.raw.annotations) == 2 * n0 + 1
    assert "sharp wave, left" in annotations.labels(imported.raw)
    assert [s.name for s in imported.history[1:]] == [
        "add_annotation",
        "edit_annotation",
        "delete_annotation",
        "import_annotations",
    ]


def test_annotation_steps_replay_and_export_as_a_runnable_script(physionet_file, tmp_path):
    rec = load_recording([physionet_file])
    rec = rec.apply("add_annotation", onset=3.0, duration=1.0, description="eye blink")
    rec = rec.apply("edit_annotation", index=0, onset=0.5, duration=4.0, description="rest (edited)")
    rec = rec.apply("delete_annotation", index=1)
    rec = rec.apply("import_annotations", rows=[[10.0, 0.0, "marker"]])
    rec = rec.apply("set_bads", bads=["Fp1"])
    replayed = recipe.replay(recipe.parse_recipe(recipe.recipe_json(rec)), load_recording([physionet_file]))
    assert annotations.table(replayed.raw) == annotations.table(rec.raw)

    os.symlink(physionet_file, tmp_path / physionet_file.name)
    (tmp_path / "script.py").write_text(recipe.to_script(rec))
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        runpy.run_path("script.py")
    finally:
        os.chdir(cwd)
    saved = mne.io.read_raw_fif(next(tmp_path.glob("*_explorer_raw.fif")), verbose="error")
    got = [(round(r["onset"], 3), round(r["duration"], 3), r["description"]) for r in annotations.table(saved)]
    want = [(round(r["onset"], 3), round(r["duration"], 3), r["description"]) for r in annotations.table(rec.raw)]
    assert sorted(got) == sorted(want)
    assert saved.info["bads"] == ["Fp1"]


def test_times_count_from_the_first_sample_when_the_file_starts_later(shared_data):
    # This FIF starts at sample 2000 (10 s after its measurement start).
    rec = load_recording([shared_data / "fif_yasa" / "data_resting_EO_200Hz_raw.fif"])
    assert rec.raw.first_samp > 0
    added = rec.apply("add_annotation", onset=5.0, duration=1.0, description="arousal")
    assert annotations.table(added.raw)[0]["onset"] == pytest.approx(5.0)
    sample = added.raw.time_as_index(added.raw.annotations.onset[0] - added.raw.first_time)[0]
    assert sample == 1000
    assert annotations.in_window(added.raw, 4.0, 5.5)[0]["description"] == "arousal"


def test_bad_annotations_are_refused_with_one_line(physionet_recording):
    rec = physionet_recording
    for params in (
        {"onset": -1, "duration": 1, "description": "x"},
        {"onset": 1, "duration": 1e6, "description": "x"},
        {"onset": 1, "duration": 1, "description": "  "},
        {"onset": "soon", "duration": 1, "description": "x"},
    ):
        with pytest.raises(EEGError):
            rec.apply("add_annotation", **params)
    with pytest.raises(EEGError, match="no annotation number"):
        rec.apply("delete_annotation", index=10_000)


def test_csv_import_reads_mne_dates_and_refuses_garbage(physionet_recording, tmp_path):
    raw = physionet_recording.raw
    path = tmp_path / "mne_annotations.csv"
    raw.annotations[:3].save(path)  # MNE writes onsets as ISO dates
    rows = annotations.parse_csv(path.read_text(), raw)
    expected = annotations.table(raw)[:3]
    assert [r[2] for r in rows] == [e["description"] for e in expected]
    assert [r[0] for r in rows] == pytest.approx([e["onset"] for e in expected], abs=1e-3)
    with pytest.raises(EEGError, match="line 2"):
        annotations.parse_csv("onset,duration,description\nnoon,1,x\n", raw)
    with pytest.raises(EEGError, match="empty"):
        annotations.parse_csv("\n\n", raw)


def test_marking_bad_channels_is_a_history_step(physionet_recording):
    rec = physionet_recording.apply("set_bads", bads=["T7", "Iz"])
    assert rec.raw.info["bads"] == ["T7", "Iz"] and physionet_recording.raw.info["bads"] == []
    assert rec.history[-1].name == "set_bads"
    unmarked = rec.apply("set_bads", bads=["Iz"])
    assert unmarked.raw.info["bads"] == ["Iz"]
    from backend.browse.montages import build_montage

    montage = build_montage(unmarked.raw.info, "referential")
    assert [label for label, bad in zip(montage.labels, montage.bad_rows) if bad] == ["Iz"]


def test_a_span_dragged_on_the_traces_becomes_onset_and_duration():
    box = [{"xref": "x", "yref": "y", "x": [14.5, 12.25], "y": [-10, -400]}]
    assert annotations.selected_span(box, 10.0, 20.0) == (12.25, 2.25)
    assert annotations.selected_span([*box, {"x": [18.0, 25.0]}], 10.0, 20.0) == (
        18.0,
        2.0,
    )  # the last, cut at the page
    assert annotations.selected_span([{"x": [21.0, 25.0]}], 10.0, 20.0) is None  # off the page
    assert annotations.selected_span([], 10.0, 20.0) is None
    assert annotations.selected_span(None, 10.0, 20.0) is None
