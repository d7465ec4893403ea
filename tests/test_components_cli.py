"""``python -m backend components``: the per-component CSV table and its refusals."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from backend.cli import main
from backend.components.cli import CSV_HEADER
from backend.components.ica import ICLABEL_CLASSES

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def test_header_is_the_documented_one():
    assert ",".join(CSV_HEADER) == "component,brain,muscle,eye,heart,line_noise,channel_noise,other,label,variance"


@pytest.mark.slow
def test_writes_one_row_per_component(eeglab_files, tmp_path, capsys):
    out = tmp_path / "table.csv"
    assert main(["components", *map(str, eeglab_files), "--method", "fastica", "--seed", "97", "--out", str(out)]) == 0
    rows = list(csv.reader(out.open()))
    assert tuple(rows[0]) == CSV_HEADER
    body = rows[1:]
    assert [int(r[0]) for r in body] == list(range(len(body)))
    probs = np.array([[float(x) for x in r[1:8]] for r in body])
    assert np.allclose(probs.sum(axis=1), 1.0, atol=2e-3)
    assert [r[8] for r in body] == [ICLABEL_CLASSES[k] for k in probs.argmax(axis=1)]
    assert "eye" in [r[8] for r in body]
    assert sum(float(r[9]) for r in body) == pytest.approx(1.0, abs=0.02)
    assert f"{len(body)} components" in capsys.readouterr().out


def test_a_count_limits_the_components(eeglab_files, tmp_path):
    out = tmp_path / "ten.csv"
    assert (
        main(["components", *map(str, eeglab_files), "--method", "fastica", "--n-components", "10", "--out", str(out)])
        == 0
    )
    assert len(list(csv.reader(out.open()))) == 11


def _exit_status(argv) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse refusals
        return stop.code


@pytest.mark.parametrize(
    "args",
    [
        ["--method", "jade"],
        ["--n-components", "1.5"],
        ["--n-components", "many"],
        ["--method", "fastica", "--n-components", "500"],
        ["--seed", "x"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(eeglab_files, tmp_path, capsys, args):
    out = tmp_path / "t.csv"
    assert _exit_status(["components", *map(str, eeglab_files), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not out.exists()


def test_missing_out_exits_2_from_the_shell(eeglab_files):
    run = subprocess.run(
        [sys.executable, "-m", "backend", "components", *map(str, eeglab_files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and "--out" in run.stderr and "Traceback" not in run.stderr


def test_refuses_a_non_csv_output(eeglab_files, tmp_path, capsys):
    assert main(["components", *map(str, eeglab_files), "--out", str(tmp_path / "t.txt")]) == 2
    assert "error: --out must name a .csv file" in capsys.readouterr().err


@pytest.mark.slow
def test_stored_ica_is_used_by_default(shared_data, tmp_path):
    folder = shared_data / "eeglab_sample"
    out = tmp_path / "stored.csv"
    assert (
        main(
            [
                "components",
                str(folder / "eeglab_data_epochs_ica.set"),
                str(folder / "eeglab_data_epochs_ica.fdt"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert len(list(csv.reader(out.open()))) == 33  # the 32 stored components, plus the header
