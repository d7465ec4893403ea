"""A study over a selection from the Library: its stored files, by ids or by tag, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.cli import main
from backend.errors import EEGError
from backend.study import dataset
from tests.study_support import make_folder

PATTERN = "S{subject}R{run}.edf"


@pytest.fixture
def three_in_library(library, tmp_path, physionet_file):
    folder = make_folder(tmp_path / "uploads", physionet_file, subjects=("01", "02", "03"))
    added = [
        library.add("local", [folder / f"S{s}R01.edf"], tags=["motor"] if s != "03" else ["rest"])
        for s in ("01", "02", "03")
    ]
    return library, added


def _json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_selection_by_ids_and_by_tag_links_the_stored_files(three_in_library):
    library, added = three_in_library
    by_tag = dataset.library_folder(library, "local", dataset.parse_library_selection("library:tag=motor"))
    entries = dataset.find_recordings(by_tag, PATTERN)
    assert [(e.subject, e.run) for e in entries] == [("01", "01"), ("02", "01")]
    # Each file is a link into the Library's store: the bytes the Library keeps.
    stored = {library.store.path(f["sha256"]).resolve() for a in added[:2] for f in library.files("local", a.id)}
    assert {p.resolve() for e in entries for p in [Path(e.path)]} == stored
    # The same selection gives the same folder (a rerun finds its derivatives); another, another folder.
    ids = f"library:{added[1].id},{added[0].id}"
    assert dataset.library_folder(library, "local", dataset.parse_library_selection(ids)) == by_tag
    everything = dataset.library_folder(library, "local", dataset.parse_library_selection("library:all"))
    assert everything != by_tag and len(dataset.find_recordings(everything, PATTERN)) == 3


@pytest.mark.parametrize(
    "text, message",
    [
        ("library:", "is not a Library selection"),
        ("library:1,x", "is not a Library selection"),
        ("library:tag=", "is not a Library selection"),
    ],
)
def test_malformed_selections_are_one_line(text, message):
    with pytest.raises(EEGError, match=message):
        dataset.parse_library_selection(text)


def test_cli_lists_and_runs_a_library_selection(three_in_library, tmp_path, capsys):
    library, added = three_in_library
    assert main(["study", "list", "library:tag=motor", "--pattern", PATTERN, "--json"]) == 0
    assert [r["subject"] for r in _json(capsys)["recordings"]] == ["01", "02"]

    out = tmp_path / "deriv"
    args = ["study", "run", f"library:{added[2].id}", "--pattern", PATTERN, "--steps", "bandpass:1,40"]
    assert main([*args, "--out", str(out), "--workers", "1", "--json"]) == 0
    rows = _json(capsys)["recordings"]
    assert [(r["subject"], r["status"]) for r in rows] == [("03", "done")]
    assert (out / "sub-03" / "eeg" / "sub-03_run-01_desc-clean_eeg.fif").is_file()

    # Someone else's recording, an unknown tag: one line, status 2.
    assert main(["study", "list", f"library:{added[0].id}", "--user", "someone@else"]) == 2
    assert main(["study", "list", "library:tag=sleep"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
    assert "no recordings tagged 'sleep'" in err[1]
