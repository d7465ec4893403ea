"""``python -m backend library ...``: the Library from the shell, for one user at a time."""

from __future__ import annotations

import json

import pytest

from backend.cli import main


def run(capsys, *argv):
    status = main(["library", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_add_annotate_list_show_and_remove(library_url, physionet_file, capsys):
    status, out, err = run(capsys, "add", str(physionet_file), "--tag", "motor", "--tag", "run 4")
    assert status == 0 and out.strip().isdigit() and "removed: equipment" in err
    rid = out.strip()
    status, out, _ = run(capsys, "annotate", rid, "--onset", "2.5", "--duration", "1", "--label", 'say "hi", <b>')
    assert status == 0 and out.strip().isdigit()
    status, out, _ = run(capsys, "annotations", rid, "--csv")
    assert status == 0 and out.splitlines()[0] == "onset,duration,description"
    assert '2.500000,1.000000,"say ""hi"", <b>"' in out.splitlines()
    status, out, _ = run(capsys, "list", "--json")
    listed = json.loads(out.strip().splitlines()[-1])
    assert listed["total"] == 1 and listed["recordings"][0]["tags"] == ["motor", "run 4"]
    status, out, _ = run(capsys, "show", rid, "--json")
    shown = json.loads(out)
    assert shown["n_annotations"] == 31 and shown["removed_fields"] == ["equipment"] and shown["n_channels"] == 64
    status, out, _ = run(capsys, "show", rid)
    assert "identity    removed: equipment" in out and "recorded    2009-08-12T16:15:00+00:00" in out
    assert run(capsys, "remove", rid)[0] == 0
    assert run(capsys, "list")[1].strip() == "0 of 0 recording(s)"


def test_add_json_and_keep_identity(library_url, physionet_file, capsys):
    status, out, _ = run(capsys, "add", str(physionet_file), "--keep-identity", "--json")
    entry = json.loads(out.strip().splitlines()[-1])
    assert status == 0 and entry["identity_kept"] and entry["removed_fields"] == [] and entry["format"] == "EDF"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["show", "999"], "error: no recording 999 in local's library"),
        (
            ["show", "1; DROP TABLE recordings"],
            "error: a recording id must be a whole number, got '1; DROP TABLE recordings'",
        ),
        (
            ["annotate", "1", "--onset", "1e", "--label", "x"],
            "error: an annotation's onset must be a number of seconds, got '1e'",
        ),
        (
            ["annotate", "1", "--onset", "1", "--duration", "-2", "--label", "x"],
            "error: an annotation's duration must be a finite",
        ),
        (
            ["annotate", "1", "--onset", "1", "--label", "x" * 10_000],
            "error: an annotation's label has 10000 characters",
        ),
        (["annotations", "1", "--user", "mallory"], "error: no recording 1 in mallory's library"),
        (["remove", "1", "--user", "mallory"], "error: no recording 1 in mallory's library"),
        (
            ["annotate", "1", "--onset", "1", "--label", "x", "--user", "mallory"],
            "error: no recording 1 in mallory's library",
        ),
        (["list", "--limit", "ten"], "error: --limit must be a whole number, got 'ten'"),
    ],
)
def test_bad_input_is_one_line_and_status_2(library_url, physionet_file, capsys, argv, message):
    assert run(capsys, "add", str(physionet_file))[1].strip() == "1"
    status, out, err = run(capsys, *argv)
    assert status == 2 and err.startswith(message) and err.count("\n") == 1 and out == ""
    # Nothing changed for the owner.
    status, out, _ = run(capsys, "annotations", "1")
    assert len(json.loads(out)) == 30
