"""``python -m backend page`` and ``annotations``: the same functions as the page, from the shell."""

import json

from backend.cli import main


def test_page_command_prints_the_page_and_writes_html(physionet_file, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert (
        main(
            [
                "page",
                str(physionet_file),
                "--montage",
                "double_banana",
                "--start",
                "30",
                "--notch",
                "60",
                "--html",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["rows"][0] == "Fp1-F7" and len(result["rows"]) == 18
    assert result["start_s"] == 30.0 and "notch 60 Hz" in result["filters"]
    assert out.stat().st_size > 1_000_000 and "cdn.plot.ly" not in out.read_text()[:5000]  # plotly.js inside: offline


def test_page_command_refuses_a_montage_the_cap_cannot_make(physionet_file, capsys):
    assert main(["page", str(physionet_file), "--montage", "linked_ears"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: a linked-ears reference needs") and err.count("\n") == 1


def test_annotations_command_exports_csv(physionet_file, tmp_path, capsys):
    out = tmp_path / "notes.csv"
    assert main(["annotations", str(physionet_file), "--csv", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "onset,duration,description" and lines[1].endswith(",T0")
