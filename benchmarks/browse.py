"""Benchmark of the Browse page turn on an hour-long, 64-channel, 256 Hz EDF.

Usage::

    python benchmarks/browse.py                 # generates the EDF in a temp folder
    python benchmarks/browse.py --edf long.edf  # or takes one

The EDF is real data: the bundled PhysioNet run (64 ch, 160 Hz, 125 s) resampled
to 256 Hz and tiled to one hour, with its annotations, written with edfio.

Three processes, so each peak RSS is its own: one writes the file, one times our
page build (slice + montage + display filters + min-max downsample + the canvas
view's data, what a page turn sends by default) at the start, middle and end for the referential and double-banana
montages, one times MNE's matplotlib browser on the same pages
(``raw.plot(start=..., duration=10, n_channels=64, show=False)`` then
``fig.canvas.draw()``). Prints a table, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DURATION_S = 3600
SFREQ = 256
PAGE_S = 10.0
FILTERS = {"low": 0.5, "high": 70.0, "notch": 50.0}  # a usual clinical display setting
N_POINTS = 1200  # a point a pixel (min and max of every two) on the page's default 1200-px trace area
MONTAGES = ("referential", "double_banana")


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _positions(duration: float) -> dict[str, float]:
    return {"start": 0.0, "middle": duration / 2 - PAGE_S / 2, "end": duration - PAGE_S}


def generate(out: Path) -> None:
    """Write the tiled one-hour EDF+ (64 ch, 256 Hz) from the bundled PhysioNet run."""
    import mne
    import numpy as np
    from edfio import Edf, EdfAnnotation, EdfSignal
    from scipy.signal import resample_poly

    from backend.config import SAMPLES

    raw = mne.io.read_raw_edf(SAMPLES / "S001R04.edf", preload=True, verbose="error")
    up, down = SFREQ, int(raw.info["sfreq"])
    base = resample_poly(raw.get_data() * 1e6, up, down, axis=1)  # µV at 256 Hz
    n_total, n_base = DURATION_S * SFREQ, base.shape[1]
    reps = int(np.ceil(n_total / n_base))
    signals = []
    for name, row in zip(raw.ch_names, base):
        tiled = np.tile(row, reps)[:n_total]
        lo, hi = float(tiled.min()), float(tiled.max())
        signals.append(
            EdfSignal(
                tiled,
                sampling_frequency=SFREQ,
                label=name.strip(".")[:16],
                physical_dimension="uV",
                physical_range=(lo - 1, hi + 1),
            )
        )
    period = n_base / SFREQ
    annotations = [
        EdfAnnotation(k * period + onset, float(dur), str(desc))
        for k in range(reps)
        for onset, dur, desc in zip(raw.annotations.onset, raw.annotations.duration, raw.annotations.description)
        if k * period + onset + dur < DURATION_S
    ]
    Edf(signals, annotations=annotations).write(out)


def measure_ours(edf: Path, repeats: int) -> dict:
    """Page build times with this app's backend, in this process alone."""
    from backend.browse import annotations, display, figures, montages
    from backend.io import load_recording

    rec = load_recording([edf], max_bytes=1 << 40)
    raw = rec.raw
    filt = display.DisplayFilter(**FILTERS)
    labels = annotations.labels(raw)
    results, payloads, first_ms = {}, {}, None
    for name in MONTAGES:
        for where, start in _positions(rec.duration_s).items():
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                montage = montages.build_montage(raw.info, name)
                page = display.read_page(raw, montage, start, PAGE_S, filt, N_POINTS)
                row_mm = figures.row_height_mm(len(page.labels))
                sensitivity = display.autoscale(page.values, row_mm)
                data = figures.page_view_data(
                    page,
                    sensitivity,
                    all_labels=labels,
                    annotations=annotations.in_window(raw, page.start, page.start + PAGE_S),
                )
                times.append((time.perf_counter() - t0) * 1e3)
                first_ms = times[0] if first_ms is None else first_ms
            t0 = time.perf_counter()
            payloads[(name, where)] = len(json.dumps(data))
            results[(name, where)] = {"times": times, "json_ms": (time.perf_counter() - t0) * 1e3}
    all_times = [t for r in results.values() for t in r["times"]]
    return {
        "table": {
            f"{n}/{w}": {
                "median_ms": statistics.median(r["times"]),
                "min_ms": min(r["times"]),
                "json_ms": r["json_ms"],
                "payload_bytes": payloads[(n, w)],
            }
            for (n, w), r in results.items()
        },
        "page_ms_median": statistics.median(all_times),
        "first_page_ms": first_ms,
        "json_ms_median": statistics.median(r["json_ms"] for r in results.values()),
        "payload_bytes": max(payloads.values()),
        "peak_rss_bytes": _peak_rss(),
        "n_samples": int(raw.n_times),
        "n_channels": len(raw.ch_names),
        "sfreq": float(raw.info["sfreq"]),
        "n_points": N_POINTS,
        "filters": filt.describe(raw.info["sfreq"]),
    }


def measure_mne(edf: Path, repeats: int) -> dict:
    """MNE's matplotlib browser on the same pages, in a process of its own."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mne

    mne.viz.set_browser_backend("matplotlib", verbose="error")
    raw = mne.io.read_raw_edf(edf, preload=False, verbose="error")
    times = {}
    for where, start in _positions(raw.n_times / raw.info["sfreq"]).items():
        times[where] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fig = raw.plot(start=start, duration=PAGE_S, n_channels=64, show=False, verbose="error")
            fig.canvas.draw()
            times[where].append((time.perf_counter() - t0) * 1e3)
            plt.close(fig)
    flat = [t for ts in times.values() for t in ts]
    return {
        "table": {w: statistics.median(ts) for w, ts in times.items()},
        "mne_page_ms_median": statistics.median(flat),
        "mne_peak_rss_bytes": _peak_rss(),
    }


def _child(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, *map(str, args)], capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"error: benchmark step {args[1]} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edf", type=Path, help="a long EDF to use instead of generating one")
    parser.add_argument("--repeats", type=int, default=5, help="page builds per montage and position (ours)")
    parser.add_argument("--mne-repeats", type=int, default=2, help="page draws per position (MNE)")
    parser.add_argument("--role", choices=("generate", "ours", "mne"), help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "generate":
        generate(args.path)
        print(json.dumps({"ok": True}))
        return
    if args.role in ("ours", "mne"):
        import warnings

        warnings.filterwarnings("ignore")
        measure = measure_ours if args.role == "ours" else measure_mne
        print(json.dumps(measure(args.path, args.repeats)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        edf = args.edf
        if edf is None:
            edf = Path(tmp) / "physionet_tiled_1h_64ch_256Hz.edf"
            t0 = time.perf_counter()
            _child("--role", "generate", "--path", edf)
            print(f"generated {edf.name} in {time.perf_counter() - t0:.1f} s")
        file_bytes = edf.stat().st_size
        ours = _child("--role", "ours", "--path", edf, "--repeats", args.repeats)
        theirs = _child("--role", "mne", "--path", edf, "--repeats", args.mne_repeats)

    print(
        f"file: {file_bytes / 1e6:.1f} MB, {ours['n_channels']} ch, {ours['sfreq']:g} Hz, "
        f"{ours['n_samples'] / ours['sfreq']:.0f} s; filters {ours['filters']}; {ours['n_points']} points a row"
    )
    print(f"{'montage/position':28s} {'median ms':>10s} {'min ms':>8s} {'json ms':>10s} {'payload':>10s}")
    for key, row in ours["table"].items():
        print(
            f"{key:28s} {row['median_ms']:10.1f} {row['min_ms']:8.1f} {row['json_ms']:10.1f} {row['payload_bytes']:10d}"
        )
    for where, ms in theirs["table"].items():
        print(f"{'mne raw.plot/' + where:28s} {ms:10.1f}")
    result = {
        "page_ms_median": round(ours["page_ms_median"], 1),
        "first_page_ms": round(ours["first_page_ms"], 1),
        "json_ms_median": round(ours["json_ms_median"], 1),
        "mne_page_ms_median": round(theirs["mne_page_ms_median"], 1),
        "speedup_vs_mne": round(theirs["mne_page_ms_median"] / ours["page_ms_median"], 1),
        "payload_bytes": ours["payload_bytes"],
        "peak_rss_bytes": ours["peak_rss_bytes"],
        "mne_peak_rss_bytes": theirs["mne_peak_rss_bytes"],
        "file_bytes": file_bytes,
        "peak_rss_over_file": round(ours["peak_rss_bytes"] / file_bytes, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
