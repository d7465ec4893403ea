"""CLI commands of the load stage: ``info`` and ``export``."""

from __future__ import annotations

from backend.cli import add_command, print_json
from backend.io import export_recording, load_recording


def add_commands(sub) -> None:
    info = add_command(sub, "info")
    info.add_argument("paths", nargs="+", help="the recording's files (header and companions)")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=_info)

    export = add_command(sub, "export")
    export.add_argument("paths", nargs="+")
    export.add_argument("--to", required=True, help="output file: .fif, .edf, .vhdr or .set")
    export.set_defaults(func=_export)


def _info(args) -> int:
    summary = load_recording(args.paths, look_beside=True).summary()
    if args.json:
        print_json(summary)
        return 0
    types = ", ".join(f"{n} {t}" for t, n in summary["channel_types"].items())
    montage = summary["montage"]
    print(f"file        {summary['file']} ({summary['format']})")
    print(f"channels    {summary['n_channels']} ({types})")
    print(f"names       {', '.join(c['name'] for c in summary['channels'])}")
    print(f"rate        {summary['sfreq']:g} Hz")
    print(f"duration    {summary['duration_s']:.2f} s ({summary['n_samples']} samples)")
    print(f"start       {summary['start']}")
    events = ", ".join(f"{k} ×{v}" for k, v in summary["annotations"].items()) or "none"
    print(f"annotations {events}")
    print(f"montage     {len(montage['matched'])} matched; unmatched: {', '.join(montage['unmatched']) or 'none'}")
    for warning in summary["warnings"]:
        print(f"warning     {warning}")
    return 0


def _export(args) -> int:
    written = export_recording(load_recording(args.paths, look_beside=True), args.to)
    for path in written:
        print(path)
    return 0
