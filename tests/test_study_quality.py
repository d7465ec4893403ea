"""The quality table's views: rows for a table on the page, and the CSV/TSV export."""

from __future__ import annotations

from backend.study import quality

ROW = {
    "subject": "01",
    "file": "S01R04.edf",
    "status": "done",
    "bad_channels": ["Fc5.", "Cz."],
    "n_bad": 2,
    "iclabel": {"Brain": 10, "Eye": 2},
    "asr_s": None,
    "path": "/data/S01R04.edf",
}


def test_display_rows_keep_numbers_and_join_lists():
    (row,) = quality.display_rows([ROW])
    assert list(row) == list(quality.COLUMNS)  # the table's columns, in order; the path is not one
    assert row["bad_channels"] == "Fc5., Cz." and row["iclabel"] == "Brain=10 Eye=2"
    assert row["n_bad"] == 2 and row["asr_s"] is None  # numbers stay numbers (sortable), None stays empty


def test_delimited_table_marks_missing_values():
    lines = quality.to_delimited([ROW], "\t").splitlines()
    assert lines[0].split("\t")[:3] == ["subject", "session", "task"]
    cells = dict(zip(lines[0].split("\t"), lines[1].split("\t")))
    assert cells["bad_channels"] == "Fc5.+Cz." and cells["asr_s"] == "n/a" and "path" not in cells
