"""CLI of the components stage: ``python -m backend components PATH... --out table.csv``."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from backend.cli import add_command
from backend.components.ica import ICLABEL_CLASSES, METHODS, for_recording
from backend.errors import EEGError
from backend.io import load_recording

CSV_HEADER = ("component", *ICLABEL_CLASSES, "label", "variance")


def _n_components(text: str):
    """A count (``20``) or a fraction of variance explained (``0.99``)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count or a fraction of variance, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"a fraction of variance must be between 0 and 1, got {text}")
    return value


def add_commands(sub) -> None:
    cmd = add_command(sub, "components")
    cmd.add_argument("paths", nargs="+", help="the recording's files (header and companions)")
    cmd.add_argument(
        "--method",
        choices=METHODS,
        default=None,
        help="ICA algorithm (default: the ICA stored in the file if any, else picard)",
    )
    cmd.add_argument(
        "--n-components",
        type=_n_components,
        default=None,
        help="number of components, or a fraction of variance explained (default: all)",
    )
    cmd.add_argument("--seed", type=int, default=97, help="random seed of the fit (default 97)")
    cmd.add_argument("--out", required=True, help="CSV file to write, one row per component")
    cmd.set_defaults(func=_components)


def component_rows(dec) -> list[list]:
    """The table's rows: index, the seven probabilities, top label, variance explained (fraction)."""
    probs, variance, labels = dec.probabilities, dec.variance, dec.labels
    return [[i, *(f"{p:.4f}" for p in probs[i]), labels[i], f"{variance[i]:.4f}"] for i in range(dec.n_components)]


def _components(args) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise EEGError(f"--out must name a .csv file, got {args.out}")
    if not out.parent.exists():
        raise EEGError(f"folder {out.parent} does not exist")
    rec = load_recording(args.paths, look_beside=True)
    dec = for_recording(rec, args.method, args.n_components, args.seed)
    rows = component_rows(dec)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
    counts = {c: dec.labels.count(c) for c in ICLABEL_CLASSES if c in dec.labels}
    source = "stored in the file" if dec.method == "stored" else f"{dec.method}, fitted in {dec.fit_s:.1f} s"
    print(
        f"{dec.n_components} components ({source}); labels: "
        + ", ".join(f"{c} {n}" for c, n in counts.items())
        + f"; wrote {out}"
    )
    return 0
