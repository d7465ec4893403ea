"""``python -m backend source``: the peak of a recording, and simulated errors."""

import json

import pytest

import tests.sources_support as sup
from backend.cli import main


def test_source_event_json(eeglab_files, capsys):
    code = main(
        ["source", *map(str, eeglab_files), "--method", "sloreta", "--event", "square", "--model", sup.MODEL, "--json"]
    )
    assert code == 0
    peak = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert peak["method"] == "sLORETA" and peak["covariance"] == "baseline"
    assert len(peak["pos_mm"]) == 3 and peak["region"]
    assert -0.2 <= peak["time"] <= 0.5
    assert peak["channels_used"] == 30


def test_source_window_text(physionet_file, capsys):
    assert main(["source", str(physionet_file), "--tmin", "5", "--tmax", "8", "--model", sup.MODEL]) == 0
    out = capsys.readouterr().out
    assert "peak" in out and "mm (fsaverage template)" in out


@pytest.mark.slow
def test_simulate_json_keyed_by_method(capsys):
    code = main(
        [
            "source",
            "--simulate",
            "--n",
            "20",
            "--snr",
            "20",
            "--channels",
            "32",
            "--model",
            sup.MODEL,
            "--simulate-model",
            sup.MODEL,
            "--json",
        ]
    )
    assert code == 0
    table = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(table) == {"MNE", "dSPM", "sLORETA", "eLORETA"}
    for row in table.values():
        assert 0 <= row["median_mm"] <= row["p90_mm"] < 200


def test_user_errors_exit_2(physionet_file, capsys):
    assert main(["source", str(physionet_file), "--event", "T1", "--tmin", "1"]) == 2
    assert main(["source", str(physionet_file), "--event", "nope", "--model", sup.MODEL]) == 2
    assert main(["source"]) == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 3 and "Traceback" not in err
