"""CLI of the classify stage: ``classify cv``, ``classify train``, ``classify predict``."""

from __future__ import annotations

import csv
import sys

from backend.classify import window_band
from backend.classify.epochs import TaskSpec, add_task_arguments, load_runs, make_trials
from backend.classify.persistence import load_model, save_model, train_model
from backend.classify.pipelines import BEST, PIPELINES
from backend.classify.timeline import predict_timeline
from backend.cli import add_command, print_json
from backend.errors import EEGError


def _task_args(p) -> None:
    p.add_argument("paths", nargs="+", help="one or more runs of one subject (each a recording's files)")
    add_task_arguments(p)
    p.add_argument(
        "--pipeline", default=BEST, choices=list(PIPELINES), help=f"pipeline (default {BEST}, our recommendation)"
    )


def _task(args) -> TaskSpec:
    return TaskSpec.from_options(args.events, args.tmin, args.tmax, args.band)


def add_commands(sub) -> None:
    classify = add_command(sub, "classify")
    verbs = classify.add_subparsers(dest="verb", required=True, parser_class=sub._parser_class)

    cv = verbs.add_parser("cv", help="within-subject cross-validation: per-fold and mean accuracy and ROC-AUC")
    _task_args(cv)
    cv.add_argument("--folds", type=int, default=5, help="k of stratified k-fold (default 5)")
    cv.add_argument("--scheme", choices=("kfold", "runs"), default="kfold", help="kfold, or runs: leave one run out")
    cv.add_argument("--seed", type=int, default=42, help="seed of the fold shuffling")
    cv.add_argument(
        "--permutations",
        type=int,
        default=0,
        help="shuffle the labels N times and cross-validate each: the p-value and the chance level from the "
        "null (default 0: off; each shuffle costs one cross-validation)",
    )
    cv.add_argument("--json", action="store_true", help="end with one JSON line")
    cv.set_defaults(func=_cv)

    train = verbs.add_parser("train", help="fit a pipeline on all trials and save the model")
    _task_args(train)
    train.add_argument("--out", required=True, help="model file to write (zip: model.json + skops or state_dict)")
    train.set_defaults(func=_train)

    predict = verbs.add_parser("predict", help="class probabilities on sliding windows of a recording")
    predict.add_argument("paths", nargs="+", help="the recording's files")
    predict.add_argument("--model", required=True, help="model file written by `classify train`")
    predict.add_argument("--step", type=float, default=0.5, help="hop between windows, s (default 0.5)")
    predict.add_argument("--out", required=True, help="CSV to write: start_s, center_s, p_<class>…")
    predict.set_defaults(func=_predict)

    timeline = verbs.add_parser(
        "timeline",
        help="out-of-fold class probabilities on sliding windows of the first recording: each window predicted "
        "by the cross-validation fold model that did not see the trials it overlaps",
    )
    _task_args(timeline)
    timeline.add_argument("--folds", type=int, default=5, help="k of stratified k-fold (default 5)")
    timeline.add_argument("--scheme", choices=("kfold", "runs"), default="kfold", help="kfold, or runs")
    timeline.add_argument("--seed", type=int, default=42, help="seed of the fold shuffling (as for cv)")
    timeline.add_argument("--step", type=float, default=0.5, help="hop between windows, s (default 0.5)")
    timeline.add_argument("--out", required=True, help="CSV to write: start_s, center_s, p_<class>… (empty: no model)")
    timeline.set_defaults(func=_timeline)


def _cv(args) -> int:
    from backend.classify.chance import chance_level
    from backend.classify.validate import cross_validate

    trials = make_trials(load_runs(args.paths), _task(args))
    level = chance_level(trials, args.scheme, args.folds, args.seed)  # also refuses a scheme the trials cannot take
    progress = None if args.json else (lambda f, msg: print(msg, file=sys.stderr))
    result = cross_validate(trials, args.pipeline, args.scheme, args.folds, args.seed, progress=progress)
    summary = result.to_dict()
    summary["n_trials"] = trials.counts()
    summary["runs"] = list(trials.run_names)
    summary["chance_roc_auc_95"] = level.auc_95
    summary["few_trials"] = level.few
    print(
        f"pipeline {args.pipeline} · {len(trials.y)} trials ({', '.join(f'{k} ×{v}' for k, v in trials.counts().items())}) · {args.scheme}"
    )
    for f in result.folds:
        print(
            f"fold {f.fold}  accuracy {f.accuracy:.3f}  ROC-AUC {f.roc_auc:.3f}  (fit {f.fit_s:.2f} s, predict {f.predict_s:.3f} s)"
        )
    low, high = result.roc_auc_ci95
    print(
        f"mean    accuracy {result.accuracy_mean:.3f}  ROC-AUC {result.roc_auc_mean:.3f} ± {result.roc_auc_std:.3f} "
        f"(95 % interval {low:.3f}–{high:.3f}, corrected resampled t)"
    )
    print(f"chance  {level.note()}")
    print(window_band.describe(result))
    if args.permutations:
        from backend.classify.chance import permutation_estimate_s, permutation_test

        print(
            f"permutation test: {args.permutations} shuffles, about {permutation_estimate_s(result, args.permutations):.0f} s",
            file=sys.stderr,
        )
        test = permutation_test(
            trials,
            args.pipeline,
            args.scheme,
            args.folds,
            args.seed,
            args.permutations,
            observed=result,
            progress=lambda f, msg: print(msg, file=sys.stderr),
        )
        summary["permutation"] = test.to_dict()
        print(f"permutation  {test.line()}")
    if args.json:
        print_json(summary)
    return 0


def _train(args) -> int:
    trials = make_trials(load_runs(args.paths), _task(args))
    model = train_model(trials, args.pipeline)
    path = save_model(model, args.out)
    how = "chosen by inner cross-validation" if trials.task.auto else "as set"
    print(
        f"trained {args.pipeline} on {len(trials.y)} trials of {', '.join(trials.run_names)}, "
        f"{model.task.describe()} ({how}) → {path}"
    )
    return 0


def _predict(args) -> int:
    model = load_model(args.model)
    runs = load_runs(args.paths)
    if len(runs) != 1:
        raise EEGError("predict reads one recording at a time")
    return _write_timeline(predict_timeline(runs[0], model, step_s=args.step), args.out)


def _timeline(args) -> int:
    from backend.classify.timeline import out_of_fold_timeline

    runs = load_runs(args.paths)
    trials = make_trials(runs, _task(args))
    timeline = out_of_fold_timeline(
        runs[0], trials, args.pipeline, args.scheme, args.folds, args.seed, step_s=args.step
    )
    return _write_timeline(timeline, args.out)


def _write_timeline(timeline, out: str) -> int:
    rows = timeline.to_rows()
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    how = "out of fold" if timeline.out_of_fold else "one model"
    print(f"{len(rows)} windows of {timeline.window_s:g} s every {timeline.step_s:g} s ({how}) → {out}")
    return 0
