"""Benchmark of a light command's start-up: ``python -m backend info`` on the bundled EDF.

Usage::

    python benchmarks/cli_startup.py            # 5 timed runs
    python benchmarks/cli_startup.py --runs 9

Times the whole command in fresh processes (interpreter start, imports, reading
the file, the summary), reports the median wall time, and lists which heavy
packages (torch, sklearn, pyriemann, onnxruntime) ``python -X importtime``
shows the command importing. A light command should import none of them.
Prints the figures, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "assets" / "samples" / "S001R04.edf"
HEAVY = ("torch", "sklearn", "pyriemann", "onnxruntime")


def command(*extra: str) -> list[str]:
    return [sys.executable, *extra, "-m", "backend", "info", str(SAMPLE)]


def time_once() -> float:
    start = time.perf_counter()
    subprocess.run(command(), cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def heavy_imports() -> dict[str, bool]:
    """Which heavy top-level packages ``-X importtime`` lists for the command."""
    done = subprocess.run(command("-X", "importtime"), cwd=ROOT, check=True, capture_output=True, text=True)
    top = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            top.add(name.split(".")[0])
    return {name: name in top for name in HEAVY}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs (after one warm-up)")
    args = parser.parse_args(argv)
    time_once()  # warm the file system cache and the .pyc files
    times = [time_once() for _ in range(args.runs)]
    heavy = heavy_imports()
    median = statistics.median(times)
    print(
        f"python -m backend info {SAMPLE.name}: median {median:.2f} s over {len(times)} runs "
        f"(min {min(times):.2f}, max {max(times):.2f})"
    )
    for name, imported in heavy.items():
        print(f"  imports {name:12s} {'yes' if imported else 'no'}")
    print(
        json.dumps(
            {
                "command": "info",
                "file": SAMPLE.name,
                "runs": len(times),
                "median_s": round(median, 3),
                "min_s": round(min(times), 3),
                "max_s": round(max(times), 3),
                "imports": heavy,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
