"""Benchmark of the Library on 10,000 recordings and 1,000,000 annotations.

Usage::

    python benchmarks/library.py                       # SQLite in a temporary data folder
    python benchmarks/library.py --url postgresql://postgres@127.0.0.1:5432/postgres
                                                       # a fresh database on that server, dropped after

One real recording (the bundled PhysioNet run: 64 channels, 160 Hz, 125 s) is added
through the Library; the rest are synthetic rows inserted in bulk: 10,000 recordings
of one user, with one to three tags each, and 1,000,000 annotations, 5,000 of them
on one recording. Then, through the Library's own functions:

- list: one page of 50 rows, filtered by tag and format and sorted by recording date
  (and a name search sorted by name), median of 30 after one warm-up;
- annotations: one recording's 5,000 annotations, median of 30;
- write: 500 annotation writes, each committed before it returns, 95th percentile;
- open: the stored PhysioNet recording made ready to browse (read from the store,
  annotations set, its first 10-s page read), the slowest of 5 in this process, and
  the first open in a fresh process (``open_cold_ms``).

Targets: list ≤ 50 ms, annotations ≤ 50 ms, write p95 ≤ 10 ms (SQLite), open ≤ 1 s.
Prints a table, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_RECORDINGS = 10_000
N_ANNOTATIONS = 1_000_000
N_TARGET = 5_000
TAGS = [f"tag{i:02d}" for i in range(20)]
FORMATS = ["EDF", "BDF", "EEGLAB", "BrainVision", "FIF"]
OWNER = "bench"
# The first open in a fresh server process (modules imported, nothing read yet).
_COLD_OPEN = """
import sys, time, mne
mne.set_log_level("error")
from backend.library.api import Library
lib = Library(sys.argv[1], sys.argv[2])
t = time.perf_counter()
recording = lib.open("bench", int(sys.argv[3]))
recording.raw.get_data(start=0, stop=int(10 * recording.raw.info["sfreq"]))
print(time.perf_counter() - t)
"""


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 2)


def _timed(func, repeat: int) -> list[float]:
    func()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return times


def fill(lib, owner_id: int, rng: np.random.Generator) -> int:
    """Insert the synthetic recordings, tags and annotations; return the id of the one with 5,000 annotations."""
    from backend.library.db import AnnotationRow, RecordingRow, Tag

    now = datetime.now(UTC)
    recordings = [
        {
            "owner_id": owner_id,
            "parent_id": None,
            "name": f"subject{i:05d}_run{i % 14:02d}.edf",
            "format": FORMATS[i % len(FORMATS)],
            "stored_format": "EDF",
            "n_channels": int(rng.integers(8, 257)),
            "sfreq": float(rng.choice([128.0, 160.0, 256.0, 512.0])),
            "duration_s": float(rng.uniform(60, 7200)),
            "recorded_at": None if i % 10 == 0 else now - timedelta(days=float(rng.uniform(0, 3650))),
            "size_bytes": int(rng.integers(10**6, 10**9)),
            "source_sha256": f"{i:064x}",
            "identity_kept": False,
            "removed_fields": [],
            "history": [{"name": "load", "params": {}, "report": {}}],
            "cache_sha256": None,
            "added_at": now - timedelta(seconds=N_RECORDINGS - i),
            "opened_at": now - timedelta(seconds=float(rng.uniform(0, 1e7))),
            "version": 1,
        }
        for i in range(N_RECORDINGS - 1)
    ]
    with lib.engine.begin() as connection:
        connection.execute(RecordingRow.__table__.insert(), recordings)
        ids = (
            connection.execute(
                RecordingRow.__table__.select()
                .with_only_columns(RecordingRow.id)
                .where(RecordingRow.owner_id == owner_id)
                .order_by(RecordingRow.id)
            )
            .scalars()
            .all()
        )
        tags = [
            {"recording_id": rid, "tag": t}
            for rid in ids
            for t in rng.choice(TAGS, size=int(rng.integers(1, 4)), replace=False)
        ]
        connection.execute(Tag.__table__.insert(), tags)
    target = ids[len(ids) // 2]
    others = [rid for rid in ids if rid != target]
    per_other = np.full(len(others), (N_ANNOTATIONS - N_TARGET) // len(others))
    per_other[: (N_ANNOTATIONS - N_TARGET) - per_other.sum()] += 1
    owners = np.concatenate([np.full(N_TARGET, target), np.repeat(others, per_other)])
    onsets = rng.uniform(0, 3600, len(owners))
    chunk = 50_000
    for start in range(0, len(owners), chunk):
        rows = [
            {
                "recording_id": int(r),
                "onset": float(o),
                "duration": 1.0,
                "label": "spike",
                "version": 1,
                "updated_at": now,
            }
            for r, o in zip(owners[start : start + chunk], onsets[start : start + chunk])
        ]
        with lib.engine.begin() as connection:
            connection.execute(AnnotationRow.__table__.insert(), rows)
    return int(target)


def run(url: str | None) -> dict:
    from sqlalchemy import func, select

    from backend.library.api import Library
    from backend.library.db import AnnotationRow, RecordingRow, User

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="eeg-explorer-bench-") as home, Library(home, url) as lib:
        real = lib.add(OWNER, [ROOT / "assets" / "samples" / "S001R04.edf"])
        with lib.engine.connect() as connection:
            owner_id = connection.execute(select(User.id).where(User.name == OWNER)).scalar_one()
        t0 = time.perf_counter()
        target = fill(lib, owner_id, rng)
        fill_s = time.perf_counter() - t0
        if lib.is_sqlite:
            with lib.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        else:
            with lib.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        with lib.engine.connect() as connection:
            n_rec = connection.execute(select(func.count()).select_from(RecordingRow)).scalar()
            n_ann = connection.execute(select(func.count()).select_from(AnnotationRow)).scalar()

        page = lambda: lib.list(OWNER, tag="tag03", format="EDF", sort="recorded", limit=50)  # noqa: E731
        assert len(page()) == 50
        list_times = _timed(page, 30)
        search_times = _timed(lambda: lib.list(OWNER, search="run07", sort="name", limit=50), 30)
        assert len(lib.annotations(OWNER, target)) == N_TARGET
        annotation_times = _timed(lambda: lib.annotations(OWNER, target), 30)
        writes = []
        for i in range(500):
            t = time.perf_counter()
            lib.add_annotation(OWNER, target, (i % 100) * 10.0, 0.5, f"bench write {i}")
            writes.append(time.perf_counter() - t)

        def ready_to_browse():
            recording = lib.open(OWNER, real.id)
            recording.raw.get_data(start=0, stop=int(10 * recording.raw.info["sfreq"]))

        open_times = []
        for _ in range(5):
            t = time.perf_counter()
            ready_to_browse()
            open_times.append(time.perf_counter() - t)
        backend = lib.engine.dialect.name
        cold = subprocess.run(
            [sys.executable, "-c", _COLD_OPEN, home, lib.url, str(real.id)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        open_cold_s = float(cold.stdout.strip().splitlines()[-1])
    return {
        "database": backend,
        "recordings": n_rec,
        "annotations": n_ann,
        "fill_s": round(fill_s, 1),
        "list_ms": _ms(statistics.median(list_times)),
        "list_p95_ms": _ms(float(np.percentile(list_times, 95))),
        "search_ms": _ms(statistics.median(search_times)),
        "annotations_ms": _ms(statistics.median(annotation_times)),
        "write_median_ms": _ms(statistics.median(writes)),
        "write_p95_ms": _ms(float(np.percentile(writes, 95))),
        "open_ms": _ms(max(open_times)),
        "open_median_ms": _ms(statistics.median(open_times)),
        "open_cold_ms": _ms(open_cold_s),
    }


def _fresh_postgres(url: str):
    """A new database on the server ``url`` names, and a function that drops it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    name = f"eeg_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a PostgreSQL server URL (a fresh database is made on it); default SQLite")
    args = parser.parse_args()
    import mne

    mne.set_log_level("error")
    drop = None
    url = None
    if args.url and args.url.startswith("postgres"):
        url, drop = _fresh_postgres(args.url)
    elif args.url:
        url = args.url
    try:
        result = run(url)
    finally:
        if drop:
            drop()
    targets = {"list_ms": 50, "annotations_ms": 50, "write_p95_ms": 10, "open_ms": 1000}
    print(
        f"database   {result['database']}: {result['recordings']} recordings, {result['annotations']} annotations "
        f"(filled in {result['fill_s']} s)"
    )
    for key, label in (
        ("list_ms", "list page (50, tag+format, by date)"),
        ("search_ms", "list page (name search)"),
        ("annotations_ms", "load 5,000 annotations"),
        ("write_median_ms", "annotation write, median"),
        ("write_p95_ms", "annotation write, p95"),
        ("open_ms", "open 64 ch × 125 s, slowest of 5"),
        ("open_cold_ms", "open, first in a fresh process"),
    ):
        target = f"  (target ≤ {targets[key]} ms)" if key in targets else ""
        print(f"{label:<40} {result[key]:>9.2f} ms{target}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
