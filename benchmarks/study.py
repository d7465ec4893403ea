"""Benchmark of a study on Dask: PhysioNet S001–S010, runs 4, 8 and 12, in ../shared/data.

The same work twice, on a local cluster of 1 worker and then of 2 workers (one thread each),
the two stages submitted together (classification reads the raw runs, so it needs no cleaning):
the recipe ``bandpass:1,40;notch:60;reref:average;asr:cutoff=20`` on every run (one task per
recording, outputs written as BIDS derivatives in a temporary folder), the quality table with
its outliers, and ``study classify`` with ``best`` (within-session 5-fold, one task per subject).

Wall time excludes starting the cluster and importing on the workers what the tasks use: the
backend, the modules of the recipe's steps (ASR's meegkit, ...) and the classifiers (reported as
``startup_s``), so neither configuration pays a one-off cost inside its timing; the input files
are read once beforehand, so the first configuration does not pay cold disk reads the second skips. Scheduler overhead per task is the time a worker sat idle between the end of one
task and the start of its next (Dask's task stream), summed over workers and divided by the
tasks; the round trip of a no-op task is printed too. Peak memory is the largest peak resident
set of a worker process.

Run:  nice python benchmarks/study.py [--subjects 10] [--pipeline best] [--steps ...]
Smoke: nice python benchmarks/study.py --subjects 2 --pipeline ts-lr
Targets (issue #17): speedup ≥ 1.7× on this 2-core machine, overhead ≤ 50 ms per task.

From the measured per-task costs it projects the time for 1,000 subjects on 8, 64 and 512 workers
(:func:`projected_s`), and checks that model against runs of many small tasks on the local cluster
(:func:`check_projection`): busy tasks on its 2 workers, waiting tasks on 32 worker threads.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "eegbci_physionet"
STEPS = "bandpass:1,40;notch:60;reref:average;asr:cutoff=20"
RUNS = ("04", "08", "12")


def _warm(step_names: list[str]) -> None:
    """Import what the tasks use, once per worker (timed apart from the work): the study modules,
    the classifiers and the module of each step of the recipe."""
    from backend import io, steps  # noqa: F401
    from backend.classify import validate  # noqa: F401
    from backend.study import group, quality, run  # noqa: F401

    for name in step_names:
        steps.get(name).apply  # noqa: B018 (imports the step's module)


def _read_inputs(entries) -> int:
    """Read every input file once, so both configurations find them in the page cache."""
    from backend.study.provenance import input_files

    return sum(len(path.read_bytes()) for entry in entries for path in input_files(entry))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _noop(i):
    return i


def _busy(seconds: float) -> float:
    """A task that keeps one core busy for ``seconds`` (a small stand-in for a recording's work)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return seconds


def _waiting(seconds: float) -> float:
    """A task that waits ``seconds`` without a core, so a few cores can stand for many workers."""
    time.sleep(seconds)
    return seconds


def projected_s(n_tasks: int, task_s: float, workers: int, dispatch_ms: float, longest_s: float) -> float:
    """The wall time of ``n_tasks`` tasks of ``task_s`` seconds on average on ``workers`` workers.

    The work spreads evenly (many tasks, each small beside the total); the scheduler handles the
    tasks one after another at ``dispatch_ms`` each (the round trip of a no-op task when many are
    in flight), which no number of workers hides; the last wave adds at most the longest task.
    """
    return n_tasks * task_s / workers + n_tasks * dispatch_ms / 1000 + longest_s


def check_projection(n_tasks: int = 400, task_s: float = 0.05, threads: int = 16) -> list[dict]:
    """Many small tasks on the local cluster, measured against :func:`projected_s`, its dispatch
    cost taken from no-op tasks on the same cluster first.

    Two runs: busy tasks on the machine's 2 single-thread workers, and waiting tasks on 2 workers
    of ``threads`` threads each (2 × ``threads`` slots, as many workers as a small cluster has).
    """
    from distributed import Client, LocalCluster

    checks = []
    for kind, func, workers, per_worker in (("busy", _busy, 2, 1), ("waiting", _waiting, 2 * threads, threads)):
        # As the engine's local cluster (worker processes on the loopback), with more threads for the second run.
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=per_worker, host="127.0.0.1", dashboard_address=None, processes=True
        )
        client = Client(cluster)
        try:
            client.gather(client.map(_noop, range(50), pure=False))  # the workers are up and warm
            t0 = time.perf_counter()
            client.gather(client.map(_noop, range(n_tasks), pure=False))
            dispatch_ms = (time.perf_counter() - t0) / n_tasks * 1000
            t0 = time.perf_counter()
            client.gather(client.map(func, [task_s] * n_tasks, pure=False))
            measured = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
        predicted = projected_s(n_tasks, task_s, workers, dispatch_ms, task_s)
        checks.append(
            {
                "tasks": kind,
                "workers": workers,
                "n_tasks": n_tasks,
                "task_s": task_s,
                "dispatch_ms": round(dispatch_ms, 2),
                "predicted_s": round(predicted, 2),
                "measured_s": round(measured, 2),
                "error": round(measured / predicted - 1, 3),
            }
        )
    return checks


def _idle_between_tasks(stream: list[dict]) -> float:
    """Seconds workers sat idle between consecutive tasks, summed over workers."""
    by_worker: dict[str, list[tuple[float, float]]] = {}
    for task in stream:
        spans = [(s["start"], s["stop"]) for s in task["startstops"]]
        by_worker.setdefault(task["worker"], []).append((min(a for a, _ in spans), max(b for _, b in spans)))
    idle = 0.0
    for spans in by_worker.values():
        spans.sort()
        idle += sum(max(0.0, nxt[0] - cur[1]) for cur, nxt in zip(spans, spans[1:]))
    return idle


def _compute_s(stream: list[dict]) -> list[float]:
    """Seconds each task computed (Dask's task stream)."""
    return [sum(s["stop"] - s["start"] for s in t["startstops"] if s["action"] == "compute") for t in stream]


def measure(n_workers: int, entries, pipeline, task, classifier: str, out: Path) -> dict:
    from distributed import get_task_stream

    from backend import engine
    from backend.study.group import classify_study
    from backend.study.quality import flag_outliers
    from backend.study.run import run_study

    t0 = time.perf_counter()
    client = engine.get_client(n_workers=n_workers)
    client.run(_warm, [step["name"] for step in pipeline])
    startup = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        with get_task_stream(client) as ts, ThreadPoolExecutor(1) as pool:
            # Both stages at once, as the Study page runs them: one queue of tasks for the workers.
            classified = pool.submit(classify_study, entries, task, classifier, client)
            rows = flag_outliers(list(run_study(entries, pipeline, out, client)))
            result = classified.result()
        wall = time.perf_counter() - t0
        stream = ts.data
        t1 = time.perf_counter()
        client.gather(client.map(_noop, range(200), pure=False))
        noop_ms = (time.perf_counter() - t1) / 200 * 1000
        peak = max(client.run(_peak_mb).values())
    finally:
        engine.close_client()
    return {
        "workers": n_workers,
        "wall_s": wall,
        "startup_s": startup,
        "rows": rows,
        "classify": result,
        "n_tasks": len(stream),
        "task_s": _compute_s(stream),
        "idle_s": _idle_between_tasks(stream),
        "noop_ms": noop_ms,
        "peak_mb": peak,
    }


def _print(m: dict) -> None:
    rows, result = m["rows"], m["classify"]
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "failed")}
    print(
        f"\n{m['workers']} worker(s): {m['wall_s']:.1f} s wall ({m['startup_s']:.1f} s startup apart), "
        f"{m['n_tasks']} tasks, idle between tasks {m['idle_s'] * 1000 / max(1, m['n_tasks']):.1f} ms/task, "
        f"no-op round trip {m['noop_ms']:.1f} ms, peak worker {m['peak_mb']:.0f} MB"
    )
    print(
        f"  recordings: {counts['done']} done, {counts['failed']} failed; "
        f"mean task {sum(r.get('task_s', 0) for r in rows) / max(1, len(rows)):.2f} s"
    )
    for r in rows:
        if r.get("outlier") or r["status"] == "failed":
            print(f"  {r['file']}: {r.get('outlier_reason') or r.get('error')}")
    asr = [r["asr_s"] for r in rows if r.get("asr_s") is not None]
    if asr:
        print(f"  ASR reconstructed {min(asr):.1f}–{max(asr):.1f} s per run")
    for s in result["subjects"]:
        print(f"  sub-{s['subject']} ROC-AUC " + (f"{s['roc_auc']:.3f}" if s["status"] == "done" else s["error"]))
    low, high = result["roc_auc_ci95"]
    print(f"  {result['pipeline']} mean ROC-AUC {result['roc_auc_mean']:.3f} (95 % CI {low:.3f}–{high:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=10, help="first N subjects (default 10)")
    parser.add_argument("--pipeline", default="best", help="classification pipeline (default best)")
    parser.add_argument("--steps", default=STEPS, help=f"cleaning recipe (default {STEPS})")
    args = parser.parse_args()

    import mne

    from backend.classify.epochs import TaskSpec
    from backend.clean.pipeline import parse_pipeline
    from backend.study.dataset import find_recordings

    mne.set_log_level("error")
    pipeline = parse_pipeline(args.steps)
    entries = [
        e
        for e in find_recordings(DATA, "S{subject}R{run}.edf", [str(s) for s in range(1, args.subjects + 1)])
        if e.run in RUNS
    ]
    task = TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0))
    print(f"{len(entries)} recordings of {args.subjects} subject(s) · {args.steps} · classify {args.pipeline}")
    _read_inputs(entries)
    with tempfile.TemporaryDirectory(prefix="eeg-study-bench-") as tmp:
        serial = measure(1, entries, pipeline, task, args.pipeline, Path(tmp) / "one")
        _print(serial)
        parallel = measure(2, entries, pipeline, task, args.pipeline, Path(tmp) / "two")
        _print(parallel)
    speedup = serial["wall_s"] / parallel["wall_s"]
    overhead = parallel["idle_s"] * 1000 / max(1, parallel["n_tasks"])
    print(f"\nspeedup {speedup:.2f}× (target ≥ 1.7) · overhead {overhead:.1f} ms/task (target ≤ 50)")

    # 1,000 subjects from this run's costs: the tasks of one subject (its runs' cleaning and its
    # classification), each as long as it took on the lone worker plus the idle time between two
    # tasks on the 2 workers, dispatched at the 2 workers' no-op round trip.
    durations = serial["task_s"]
    tasks_per_subject = len(durations) / args.subjects
    mean_task, longest = sum(durations) / len(durations), max(durations)
    projection = {
        workers: projected_s(
            round(1000 * tasks_per_subject), mean_task + overhead / 1000, workers, parallel["noop_ms"], longest
        )
        for workers in (8, 64, 512)
    }
    print(
        f"1,000 subjects ({tasks_per_subject:.0f} tasks each, mean {mean_task:.2f} s, longest {longest:.1f} s): "
        + ", ".join(f"{w} workers {t / 60:.1f} min" for w, t in projection.items())
    )
    checks = check_projection()
    for c in checks:
        print(
            f"check: {c['n_tasks']} {c['tasks']} tasks of {c['task_s']} s on {c['workers']} workers: "
            f"projected {c['predicted_s']:.2f} s, measured {c['measured_s']:.2f} s ({c['error']:+.0%})"
        )
    print(
        json.dumps(
            {
                "subjects": args.subjects,
                "recordings": len(entries),
                "pipeline": args.pipeline,
                "steps": args.steps,
                "serial_s": round(serial["wall_s"], 2),
                "two_workers_s": round(parallel["wall_s"], 2),
                "speedup": round(speedup, 3),
                "overhead_ms_per_task": round(overhead, 2),
                "noop_ms_per_task": round(parallel["noop_ms"], 2),
                "peak_worker_mb": round(max(serial["peak_mb"], parallel["peak_mb"]), 1),
                "roc_auc_mean": parallel["classify"]["roc_auc_mean"],
                "mean_task_s": round(mean_task, 3),
                "tasks_per_subject": tasks_per_subject,
                "projected_1000_subjects_s": {str(w): round(t, 1) for w, t in projection.items()},
                "projection_check": checks,
            }
        )
    )


if __name__ == "__main__":
    main()
