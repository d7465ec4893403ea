"""CLI commands of the Library: ``python -m backend library add|list|show|annotate|annotations|remove``.

The same functions as the pages, for one user (``--user``, default the local user).
"""

from __future__ import annotations

import sys

from backend.cli import add_command, print_json
from backend.errors import EEGError
from backend.library import LOCAL_USER


def Library():  # noqa: N802  (SQLAlchemy is imported only when a library command runs)
    from backend.library.api import Library

    return Library()


def add_commands(sub) -> None:
    library = add_command(sub, "library")
    commands = library.add_subparsers(dest="library_command", required=True, parser_class=type(library))

    def command(name: str, help: str, func):
        parser = commands.add_parser(name, help=help)
        parser.add_argument("--user", default=LOCAL_USER, help="whose library (default: the local user)")
        parser.set_defaults(func=func)
        return parser

    add = command("add", "add a recording (its header and companion files); prints the new id", _add)
    add.add_argument("paths", nargs="+")
    add.add_argument("--tag", action="append", default=[], help="a tag to give it (repeatable)")
    add.add_argument(
        "--keep-identity",
        action="store_true",
        help="store the original bytes (by default patient and recording identifiers are removed)",
    )
    add.add_argument("--json", action="store_true", help="print the new entry as one JSON object")

    listing = command("list", "list the recordings", _list)
    listing.add_argument("--search", help="part of the name")
    listing.add_argument("--tag", help="only recordings with this tag")
    listing.add_argument("--format", help="only recordings of this format (EDF, EEGLAB, ...)")
    listing.add_argument(
        "--sort",
        default="opened",
        help="name, format, channels, rate, duration, recorded, size, added or opened (default)",
    )
    listing.add_argument("--limit", default="50", help="rows to show (default 50)")
    listing.add_argument("--json", action="store_true", help="print one JSON object")

    show = command("show", "show one recording: its details, history and results", _show)
    show.add_argument("id")
    show.add_argument("--json", action="store_true", help="print one JSON object")

    annotate = command("annotate", "add an annotation; prints its id", _annotate)
    annotate.add_argument("id")
    annotate.add_argument("--onset", required=True, help="seconds from the first sample")
    annotate.add_argument("--duration", default="0", help="seconds (default 0)")
    annotate.add_argument("--label", required=True)

    notes = command("annotations", "print a recording's annotations (JSON, or CSV with --csv)", _annotations)
    notes.add_argument("id")
    notes.add_argument("--csv", action="store_true", help="onset,duration,description")

    remove = command("remove", "delete a recording, its annotations and results", _remove)
    remove.add_argument("id")


def _add(args) -> int:
    with Library() as lib:
        entry = lib.add(args.user, args.paths, tags=args.tag, keep_identity=args.keep_identity, look_beside=True)
    if args.json:
        print_json(entry.to_dict())
    else:
        if entry.removed_fields:
            print(f"removed: {', '.join(entry.removed_fields)}", file=sys.stderr)
        print(entry.id)
    return 0


def _list(args) -> int:
    if not args.limit.isdigit():
        raise EEGError(f"--limit must be a whole number, got {args.limit!r}")
    with Library() as lib:
        entries = lib.list(
            args.user, search=args.search, tag=args.tag, format=args.format, sort=args.sort, limit=int(args.limit)
        )
        total = lib.count(args.user, search=args.search, tag=args.tag, format=args.format)
    if args.json:
        print_json({"total": total, "recordings": [e.to_dict() for e in entries]})
        return 0
    for e in entries:
        tags = f"  [{', '.join(e.tags)}]" if e.tags else ""
        print(
            f"{e.id:>6}  {e.name}  {e.format}  {e.n_channels} ch  {e.sfreq:g} Hz  {e.duration_s:.1f} s  "
            f"{e.recorded}{tags}"
        )
    print(f"{len(entries)} of {total} recording(s)")
    return 0


def _show(args) -> int:
    with Library() as lib:
        entry = lib.get(args.user, args.id)
        n_annotations = len(lib.annotations(args.user, entry.id))
        results = lib.results(args.user, entry.id)
    info = entry.to_dict() | {
        "n_annotations": n_annotations,
        "results": [
            {"id": r.id, "kind": r.kind, "name": r.name, "updated_at": r.updated_at.isoformat()} for r in results
        ],
    }
    if args.json:
        print_json(info)
        return 0
    print(f"id          {entry.id}")
    print(f"name        {entry.name} ({entry.format})")
    print(f"channels    {entry.n_channels} at {entry.sfreq:g} Hz, {entry.duration_s:.2f} s")
    print(f"recorded    {entry.recorded}")
    print(f"size        {entry.size_bytes / 2**20:.1f} MB")
    print(f"tags        {', '.join(entry.tags) or 'none'}")
    print(
        f"identity    {'kept (original bytes)' if entry.identity_kept else 'removed: ' + (', '.join(entry.removed_fields) or 'nothing identifying found')}"
    )
    print(f"added       {entry.added_at.isoformat()}")
    print(f"opened      {entry.opened_at.isoformat()}")
    print(f"history     {' → '.join(info['history'])}")
    print(f"annotations {n_annotations}")
    for r in info["results"]:
        print(f"result      {r['id']}: {r['kind']} {r['name']!r} ({r['updated_at']})")
    return 0


def _annotate(args) -> int:
    with Library() as lib:
        print(lib.add_annotation(args.user, args.id, args.onset, args.duration, args.label).id)
    return 0


def _annotations(args) -> int:
    with Library() as lib:
        if args.csv:
            sys.stdout.write(lib.annotations_csv(args.user, args.id))
        else:
            print_json([a.to_dict() for a in lib.annotations(args.user, args.id)])
    return 0


def _remove(args) -> int:
    with Library() as lib:
        name = lib.get(args.user, args.id).name
        lib.remove(args.user, args.id)
    print(f"removed {args.id} ({name})")
    return 0
