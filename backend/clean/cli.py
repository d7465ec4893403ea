"""CLI of the clean stage: ``python -m backend clean PATH... --steps "..." --out OUT.fif``."""

from __future__ import annotations

import contextlib
from pathlib import Path

from backend.cli import add_command, print_json
from backend.errors import EEGError


def add_commands(sub) -> None:
    clean = add_command(
        sub,
        "clean",
        description='Steps: "bandpass:1,40;notch:50;reref:average;bad_channels;asr:cutoff=20;ica_iclabel". '
        "Each step is a registered step name with positional or key=value arguments.",
    )
    clean.add_argument("paths", nargs="+", help="the recording's files (header and companions)")
    source = clean.add_mutually_exclusive_group(required=True)
    source.add_argument("--steps", help='pipeline string, e.g. "bandpass:1,40;reref:average;asr:cutoff=20"')
    source.add_argument(
        "--recipe", help="a recipe or pipeline JSON saved by EEG Explorer, re-applied to this recording"
    )
    clean.add_argument("--out", required=True, help="output file: .fif, .edf, .vhdr or .set")
    clean.add_argument("--script", help="also write the MNE-Python script reproducing the output")
    clean.add_argument("--json", action="store_true", help="print one JSON object with each step's report")
    clean.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads of the transformer denoiser (the art step); default: every core this process may use",
    )
    clean.set_defaults(func=_clean)


def _clean(args) -> int:
    from backend.clean.pipeline import format_pipeline, load_pipeline, parse_pipeline, run_pipeline
    from backend.io import export_recording, load_recording
    from backend.recipe import to_script

    # The pipeline is checked before the recording is read: a typo costs nothing.
    if args.steps is not None:
        pipeline = parse_pipeline(args.steps)
    else:
        try:
            text = Path(args.recipe).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise EEGError(f"cannot read the recipe {args.recipe}: {exc.strerror}") from None
        pipeline = load_pipeline(text)
    if args.threads is not None and args.threads < 1:
        raise EEGError("--threads must be at least 1")
    recording = load_recording(args.paths, look_beside=True)
    threads: contextlib.AbstractContextManager = contextlib.nullcontext()
    if any(step["name"] == "art" for step in pipeline):  # torch is imported only where the step runs
        from backend.denoise.inference import steps_on_threads
        from backend.engine import default_workers

        threads = steps_on_threads(args.threads or default_workers())

    def progress(i, n, name):
        if not args.json and i < n:
            print(f"[{i + 1}/{n}] {name}", flush=True)

    with threads:
        cleaned = run_pipeline(recording, pipeline, progress)
    written = export_recording(cleaned, args.out)
    if args.script:
        Path(args.script).write_text(to_script(cleaned), encoding="utf-8")
    reports = [
        {"name": s.name, "params": s.params, "report": s.report} for s in cleaned.history[len(recording.history) :]
    ]
    if args.json:
        print_json(
            {
                "pipeline": format_pipeline(pipeline),
                "steps": reports,
                "written": [str(p) for p in written],
                "n_channels": len(cleaned.raw.ch_names),
                "sfreq": cleaned.raw.info["sfreq"],
                "n_samples": cleaned.raw.n_times,
            }
        )
        return 0
    for step in reports:
        print(f"{step['name']:<16} {step['report'] or 'done'}")
    for path in written:
        print(path)
    return 0
