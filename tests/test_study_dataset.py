"""Finding a study's recordings: file patterns in a folder, BIDS datasets read with mne-bids."""

from __future__ import annotations

import pytest

from backend.errors import EEGError
from backend.study import dataset
from tests.study_support import make_bids


def _touch_edf(folder, physionet_file, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).symlink_to(physionet_file)


def test_pattern_takes_subject_and_run_from_names(tmp_path, physionet_file):
    _touch_edf(tmp_path / "S001", physionet_file, ["S001R04.edf", "S001R08.edf", "notes.txt"])
    _touch_edf(tmp_path / "S002", physionet_file, ["S002R04.EDF"])
    entries = dataset.find_recordings(tmp_path, "S{subject}R{run}.edf")
    assert [(e.subject, e.run) for e in entries] == [("001", "04"), ("001", "08"), ("002", "04")]
    assert [r["file"] for r in dataset.table(entries, tmp_path)] == [
        "S001/S001R04.edf",
        "S001/S001R08.edf",
        "S002/S002R04.EDF",
    ]
    assert entries[0].label == "sub-001_run-04"
    # A pattern with '/' reads the path below the root; subjects can be filtered as numbers.
    by_path = dataset.find_recordings(tmp_path, "S{subject}/*R{run}.edf", subjects=["2"])
    assert [(e.subject, e.run) for e in by_path] == [("002", "04")]


def test_default_pattern_uses_folders_as_subjects(tmp_path, physionet_file):
    _touch_edf(tmp_path / "alice", physionet_file, ["rest.edf", "task_1.edf"])
    entries = dataset.find_recordings(tmp_path)
    assert [(e.subject, e.run) for e in entries] == [("alice", "rest"), ("alice", "task1")]


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("S{subj}R{run}.edf", "unknown field {subj}"),
        ("R{run}.edf", "has no {subject}"),
        ("S{subject}R{run.edf", "unbalanced brace"),
        ("S{subject}R*.edf", "both read as sub-001"),
        ("X{subject}.edf", "no recordings found"),
    ],
)
def test_bad_patterns_say_what_is_wrong(tmp_path, physionet_file, pattern, message):
    _touch_edf(tmp_path, physionet_file, ["S001R04.edf", "S001R08.edf"])
    with pytest.raises(EEGError, match=message.replace("{", r"\{").replace("}", r"\}")):
        dataset.find_recordings(tmp_path, pattern)


def test_bids_dataset_gives_entities_bads_and_events(tmp_path, physionet_file):
    root = make_bids(tmp_path / "bids", physionet_file)
    # An event only events.tsv knows about is added to the recording; the others are already in the EDF.
    events = root / "sub-02" / "eeg" / "sub-02_task-mi_run-1_events.tsv"
    lines = events.read_text().splitlines()
    fields = lines[1].split("\t")
    header = lines[0].split("\t")
    fields[header.index("onset")], fields[header.index("trial_type")] = "12.5", "probe"
    events.write_text("\n".join(lines + ["\t".join(fields)]) + "\n")
    (root / "derivatives" / "eeg-explorer" / "sub-01" / "eeg").mkdir(parents=True)

    entries = dataset.find_recordings(root)
    assert [(e.subject, e.task, e.run) for e in entries] == [("01", "mi", "1"), ("02", "mi", "1")]
    first = dataset.open_entry(entries[0])
    assert first.raw.info["bads"] == ["FC5"]  # channels.tsv's "Fc5." under the name loading tidied it to
    assert [s.name for s in first.history] == ["load", "set_bads"]
    second = dataset.open_entry(entries[1])
    assert second.history[-1].name == "import_annotations"
    assert list(second.raw.annotations.description).count("probe") == 1


def test_missing_root_and_a_file_as_root_are_one_line(tmp_path, physionet_file):
    with pytest.raises(EEGError, match=r"nowhere does not exist$"):
        dataset.find_recordings(tmp_path / "nowhere")
    with pytest.raises(EEGError, match=r"S001R04.edf is not a folder$"):
        dataset.find_recordings(physionet_file)
