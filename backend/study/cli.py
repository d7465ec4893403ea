"""CLI of studies: ``study list``, ``study run``, ``study qc``, ``study classify``, ``study report``.

``study run ROOT --steps "bandpass:1,40;reref:average" --out ROOT/derivatives/eeg-explorer`` cleans
every recording of a BIDS dataset or folder on a Dask cluster (local by default, or
``--scheduler tcp://HOST:PORT`` / ``$EEG_EXPLORER_DASK_SCHEDULER``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from backend.cli import add_command, print_json
from backend.errors import EEGError


def _source_args(p) -> None:
    p.add_argument(
        "root",
        help="a BIDS dataset, any folder of recordings (searched recursively), or a Library selection: "
        "library:3,5,9 (ids), library:tag=NAME or library:all",
    )
    p.add_argument(
        "--pattern",
        help="file-name pattern for a plain folder, e.g. 'S{subject}R{run}.edf' "
        "(fields {subject} {session} {task} {run}, * for anything); a '/' matches the path below ROOT",
    )
    p.add_argument("--subjects", help="only these subjects, comma-separated")
    p.add_argument("--user", help="whose Library, for a library: selection (default: the local user)")


def _engine_args(p) -> None:
    p.add_argument(
        "--scheduler",
        help="tcp://HOST:PORT of a running Dask scheduler (default: $EEG_EXPLORER_DASK_SCHEDULER, "
        "else a local cluster)",
    )
    p.add_argument("--workers", type=int, help="workers of the local cluster (default: one per core)")


def add_commands(sub) -> None:
    from backend.classify.epochs import add_task_arguments

    study = add_command(sub, "study")
    verbs = study.add_subparsers(dest="verb", required=True, parser_class=sub._parser_class)

    listing = verbs.add_parser("list", help="the recordings a study would run over, with their labels")
    _source_args(listing)
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(func=_list)

    run = verbs.add_parser("run", help="clean every recording into a BIDS derivatives folder")
    _source_args(run)
    recipe = run.add_mutually_exclusive_group(required=True)
    recipe.add_argument(
        "--steps", help='pipeline string, as for clean --steps: "bandpass:1,40;notch:60;reref:average;asr:cutoff=20"'
    )
    recipe.add_argument("--recipe", help="a recipe or pipeline JSON saved by EEG Explorer")
    run.add_argument("--out", required=True, help="derivatives folder, e.g. ROOT/derivatives/eeg-explorer")
    _engine_args(run)
    run.add_argument("--json", action="store_true", help="end with one JSON object: the rows and counts")
    run.set_defaults(func=_run)

    qc = verbs.add_parser("qc", help="the quality table of a derivatives folder, with the cohort's outliers")
    qc.add_argument("deriv", help="the derivatives folder written by study run")
    qc.add_argument("--out", help="also write the table: .csv or .tsv")
    qc.add_argument("--json", action="store_true", help="print one JSON object: {recordings: [...]}")
    qc.set_defaults(func=_qc)

    classify = verbs.add_parser("classify", help="within-subject cross-validation of every subject, and the group mean")
    _source_args(classify)
    add_task_arguments(classify)
    classify.add_argument("--pipeline", default="best", help="a Classify pipeline (default best)")
    classify.add_argument("--folds", type=int, default=5, help="k of the stratified k-fold (default 5)")
    classify.add_argument("--loso", action="store_true", help="also leave-one-subject-out (scikit-learn pipelines)")
    classify.add_argument("--steps", help="a cleaning pipeline applied to each run first (as for clean --steps)")
    _engine_args(classify)
    classify.add_argument("--json", action="store_true", help="end with one JSON object")
    classify.add_argument("--save", metavar="DERIV", help="also store the result in DERIV/group/ (for study report)")
    classify.set_defaults(func=_classify)

    report = verbs.add_parser("report", help="the study report (summary, quality, group results, methods)")
    report.add_argument("deriv", help="the derivatives folder written by study run")
    report.add_argument("--out", required=True, type=Path, help="report.html or report.pdf (references.bib beside it)")
    report.add_argument("--paper", choices=("A4", "Letter"), default="A4", help="PDF paper size (default A4)")
    report.set_defaults(func=_report)


def _entries(args):
    from backend.study import dataset

    if dataset.is_library_selection(args.root):
        from backend.library.api import LOCAL_USER, Library

        selection = dataset.parse_library_selection(args.root)
        with Library() as library:
            args.root = dataset.library_folder(library, args.user or LOCAL_USER, selection)
    subjects = [s.strip() for s in args.subjects.split(",") if s.strip()] if args.subjects else None
    return dataset.find_recordings(args.root, args.pattern, subjects)


def read_pipeline(steps: str | None, recipe: str | None) -> list[dict]:
    """The pipeline of ``--steps`` or ``--recipe``, checked before anything runs."""
    from backend.clean.pipeline import load_pipeline, parse_pipeline

    if steps is not None:
        return parse_pipeline(steps)
    if recipe is None:
        raise EEGError("give the pipeline as --steps or --recipe")
    try:
        text = Path(recipe).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise EEGError(f"cannot read the recipe {recipe}: {exc.strerror}") from None
    pipeline = load_pipeline(text)
    if not pipeline:
        raise EEGError(f"the recipe {recipe} has no steps")
    return pipeline


def _client(args):
    from backend import engine

    return engine.get_client(args.scheduler, args.workers)


def _list(args) -> int:
    from backend.study.dataset import table

    rows = table(_entries(args), args.root)
    if args.json:
        print_json({"root": str(args.root), "recordings": rows})
        return 0
    print(f"{'subject':<10} {'session':<8} {'task':<12} {'run':<6} file")
    for r in rows:
        print(f"{r['subject']:<10} {r['session'] or '-':<8} {r['task'] or '-':<12} {r['run'] or '-':<6} {r['file']}")
    print(f"{len(rows)} recording(s)")
    return 0


def _run(args) -> int:
    from backend import engine
    from backend.clean.pipeline import format_pipeline
    from backend.study.quality import flag_outliers
    from backend.study.run import run_study

    pipeline = read_pipeline(args.steps, args.recipe)  # a typo costs nothing
    entries = _entries(args)
    client = _client(args)
    link = engine.dashboard_link(client)
    if not args.json:
        print(
            f"{len(entries)} recording(s) · {format_pipeline(pipeline)} · {engine.n_workers(client)} worker(s)"
            + (f" · dashboard {link}" if link else ""),
            flush=True,
        )

    def progress(i, n, row):
        if not args.json:
            detail = row.get("error") or f"{row.get('task_s', 0):.1f} s" if row["status"] != "skipped" else ""
            print(f"[{i}/{n}] {row['status']:<9} {row['file']}  {detail or ''}", flush=True)

    rows = flag_outliers(list(run_study(entries, pipeline, args.out, client, progress)))
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "skipped", "failed", "cancelled")}
    if args.json:
        print_json(
            {
                "out": str(args.out),
                "pipeline": format_pipeline(pipeline),
                "counts": counts,
                "dashboard": link,
                "recordings": [{k: v for k, v in r.items() if k != "path"} for r in rows],
            }
        )
    else:
        print(", ".join(f"{n} {s}" for s, n in counts.items() if n), "→", args.out)
    return 0


def _qc(args) -> int:
    from backend.study.quality import to_delimited
    from backend.study.run import read_results

    rows = read_results(args.deriv)
    if args.out:
        sep = {".csv": ",", ".tsv": "\t"}.get(Path(args.out).suffix.lower())
        if sep is None:
            raise EEGError(f"write the quality table as .csv or .tsv, not {Path(args.out).name}")
        Path(args.out).write_text(to_delimited(rows, sep), encoding="utf-8")
    if args.json:
        print_json({"deriv": str(args.deriv), "recordings": rows})
        return 0
    print(f"{'file':<28} {'status':<8} {'dur s':>7} {'bad':>4} {'ASR s':>6} {'line':>6} {'>100µV':>7}  flag")
    for r in rows:
        if r["status"] == "failed":
            print(f"{r.get('file', ''):<28} failed   {r.get('error')}")
            continue
        cells = [
            _fmt(r.get("duration_s"), 7, ".1f"),
            _fmt(r.get("n_bad"), 4, "d"),
            _fmt(r.get("asr_s"), 6, ".1f"),
            _fmt(r.get("line_noise_ratio"), 6, ".2f"),
            _fmt(r.get("high_amplitude_fraction"), 7, ".3f"),
        ]
        print(f"{r.get('file', ''):<28} {r['status']:<8} {' '.join(cells)}  {r.get('outlier_reason') or ''}")
    return 0


def _fmt(value, width: int, spec: str) -> str:
    return f"{value:>{width}{spec}}" if isinstance(value, (int, float)) else f"{'-':>{width}}"


def _classify(args) -> int:
    from backend.classify.epochs import TaskSpec
    from backend.classify.pipelines import pipeline_info
    from backend.study.group import classify_study

    pipeline_info(args.pipeline)
    task = TaskSpec.from_options(args.events, args.tmin, args.tmax, args.band)
    steps = read_pipeline(args.steps, None) if args.steps else []
    entries = _entries(args)
    client = _client(args)

    def progress(i, n, row):
        if not args.json:
            score = f"ROC-AUC {row['roc_auc']:.3f}" if row.get("status") == "done" else row.get("error")
            print(f"[{i}/{n}] sub-{row['subject']} {score}", file=sys.stderr, flush=True)

    result = classify_study(
        entries, task, args.pipeline, client, folds=args.folds, loso=args.loso, steps=steps, progress=progress
    )
    if args.save:
        from backend.study.run import save_group

        save_group(args.save, "classification", result)
    if args.json:
        print_json(result)
        return 0
    print(f"pipeline {args.pipeline} · {result['n_subjects']} subject(s) · within-session {args.folds}-fold")
    for r in result["subjects"]:
        print(
            f"sub-{r['subject']:<8} "
            + (f"ROC-AUC {r['roc_auc']:.3f}" if r["status"] == "done" else f"failed: {r['error']}")
        )
    low, high = result["roc_auc_ci95"]
    print(f"mean         ROC-AUC {result['roc_auc_mean']:.3f} (95 % CI {low:.3f}–{high:.3f})")
    if result["loso"]:
        loso = result["loso"]
        print(
            f"leave-one-subject-out ROC-AUC {loso['roc_auc_mean']:.3f} (95 % CI {loso['roc_auc_ci95'][0]:.3f}–{loso['roc_auc_ci95'][1]:.3f})"
        )
    return 0


def _report(args) -> int:
    from backend.report.cli import check_out, write_out
    from backend.report.study import StudyReport

    check_out(args.out)
    report = StudyReport.from_deriv(args.deriv)
    bib = write_out(report, args.out, args.paper)
    print_json(
        {
            "out": str(args.out),
            "bytes": args.out.stat().st_size,
            "recordings": len(report.rows),
            "flagged": len(report.flagged()),
            "classification": report.classification is not None,
            "averages": report.averages is not None,
            "bibtex": str(bib),
        }
    )
    return 0
