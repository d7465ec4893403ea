"""``python -m backend classify cv|train|predict|timeline`` on the bundled run."""

import csv
import json

from backend.cli import main

SAMPLE_ARGS = ["--events", "T1,T2", "--tmin", "0.5", "--tmax", "2.5", "--band", "8,30"]


def test_cv_json(physionet_file, capsys):
    assert (
        main(["classify", "cv", str(physionet_file), *SAMPLE_ARGS, "--pipeline", "csp-lda", "--folds", "3", "--json"])
        == 0
    )
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])
    assert len(summary["folds"]) == 3
    assert summary["roc_auc_mean"] == sum(f["roc_auc"] for f in summary["folds"]) / 3
    assert 0 <= summary["accuracy_mean"] <= 1
    low, high = summary["roc_auc_ci95"]
    assert 0 <= low <= summary["roc_auc_mean"] <= high <= 1
    assert any(line.startswith("mean ") and f"(95 % interval {low:.3f}–{high:.3f}" in line for line in out)
    assert any(line.startswith("fold 1") for line in out)
    # 8 vs 7 trials in 3 folds: flagged, with the ROC-AUC guessing reaches for those counts.
    assert summary["few_trials"] is True and 0.6 < summary["chance_roc_auc_95"] < 1
    assert any(line.startswith("chance  Few trials: 8 vs 7 ") for line in out)


def test_train_then_predict(physionet_file, tmp_path, capsys):
    model = tmp_path / "m.zip"
    assert (
        main(["classify", "train", str(physionet_file), *SAMPLE_ARGS, "--pipeline", "ts-lr", "--out", str(model)]) == 0
    )
    out_csv = tmp_path / "timeline.csv"
    assert main(["classify", "predict", str(physionet_file), "--model", str(model), "--out", str(out_csv)]) == 0
    with open(out_csv) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 200  # 125 s, 2 s windows every 0.5 s
    assert abs(float(rows[0]["p_T1"]) + float(rows[0]["p_T2"]) - 1) < 1e-9


def test_out_of_fold_timeline(physionet_file, tmp_path, capsys):
    out_csv = tmp_path / "oof.csv"
    args = ["classify", "timeline", str(physionet_file), *SAMPLE_ARGS, "--pipeline", "ts-lr", "--folds", "3"]
    assert main([*args, "--step", "1", "--out", str(out_csv)]) == 0
    assert "(out of fold)" in capsys.readouterr().out
    with open(out_csv) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 124  # 125 s, 2 s windows every 1 s
    assert all(abs(float(r["p_T1"]) + float(r["p_T2"]) - 1) < 1e-9 for r in rows)


def test_bad_input_exits_2(physionet_file, eeglab_files, tmp_path, capsys):
    assert main(["classify", "cv", str(physionet_file), "--events", "T1,T9", "--pipeline", "ts-lr"]) == 2
    assert "too few trials" in capsys.readouterr().err
    assert main(["classify", "cv", str(physionet_file), "--band", "8", "--pipeline", "ts-lr"]) == 2
    model = tmp_path / "m.zip"
    assert (
        main(["classify", "train", str(physionet_file), *SAMPLE_ARGS, "--pipeline", "ts-lr", "--out", str(model)]) == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "classify",
                "predict",
                str(eeglab_files[0]),
                str(eeglab_files[1]),
                "--model",
                str(model),
                "--out",
                str(tmp_path / "t.csv"),
            ]
        )
        == 2
    )
    assert capsys.readouterr().err.startswith("error: model expects 64 channels")


def test_cv_with_a_permutation_test(physionet_file, capsys):
    args = ["classify", "cv", str(physionet_file), *SAMPLE_ARGS, "--pipeline", "mdm", "--folds", "3"]
    assert main([*args, "--permutations", "4", "--json"]) == 0
    captured = capsys.readouterr()
    out = captured.out.strip().splitlines()
    permutation = json.loads(out[-1])["permutation"]
    assert permutation["n"] == 4 and len(permutation["null"]) == 4 and permutation["scheme"] == "kfold"
    assert 1 / 5 <= permutation["p_value"] <= 1 and 0 <= permutation["chance_roc_auc_95"] <= 1
    assert [line for line in out if line.startswith("permutation  Permutation test (4 label shuffles): p = ")]
    assert "mdm: shuffle 4/4 ROC-AUC" in captured.err  # progress on stderr, the JSON line alone on stdout
    assert captured.err.startswith("permutation test: 4 shuffles, about ")
    assert main(args) == 0
    assert "permutation  " not in capsys.readouterr().out  # off by default
