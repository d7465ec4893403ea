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


def test_event_epoch_stc_and_peak_table_written(eeglab_files, tmp_path, capsys):
    import csv

    import mne

    stem = tmp_path / "square"
    csv_path = tmp_path / "peaks.csv"
    args = ["source", *map(str, eeglab_files), "--event", "square", "--epoch", "-0.1", "0.3", "--model", sup.MODEL]
    assert main([*args, "--out-stc", str(stem), "--peaks-csv", str(csv_path), "--json"]) == 0
    peak = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert peak["written"] == [f"{stem}-lh.stc", f"{stem}-rh.stc", str(csv_path)]
    stc = mne.read_source_estimate(stem)
    assert stc.times[0] == pytest.approx(-0.1, abs=0.01) and stc.times[-1] == pytest.approx(0.3, abs=0.01)
    rows = list(csv.DictReader(csv_path.open()))
    assert 1 <= len(rows) <= 5 and rows[0]["rank"] == "1"
    assert float(rows[0]["time_s"]) == pytest.approx(peak["time"], abs=1e-3)
    assert [float(rows[0][k]) for k in ("x_mm", "y_mm", "z_mm")] == pytest.approx(peak["pos_mm"], abs=0.11)


def test_epoch_and_output_errors_exit_2(eeglab_files, physionet_file, tmp_path, capsys):
    files = list(map(str, eeglab_files))
    assert main(["source", *files, "--event", "square", "--epoch", "0.1", "0.5"]) == 2
    assert main(["source", *files, "--event", "square", "--epoch", "-3", "3"]) == 2
    assert main(["source", str(physionet_file), "--tmin", "1", "--tmax", "3", "--epoch", "-0.2", "0.5"]) == 2
    assert main(["source", *files, "--event", "square", "--peaks-csv", str(tmp_path / "no" / "p.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(line.startswith("error: ") for line in err)
    assert (
        "before the event" in err[0] and "at most 5 s" in err[1] and "--event" in err[2] and "does not exist" in err[3]
    )
