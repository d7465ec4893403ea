"""What a study runs over: the recordings of a BIDS dataset or of any folder.

A BIDS dataset (a folder with ``dataset_description.json``) is read with mne-bids:
subjects, sessions, tasks and runs from the file names; events from ``events.tsv``
and channel types and bads from ``channels.tsv`` are applied when a recording is
opened (:func:`open_entry`), as steps of its history. Any other folder is searched
recursively, and subject, session, task and run are taken from the file names with
a pattern the user can edit, such as ``S{subject}R{run}.edf``. A selection from the Library
(``library:3,5,9``, ``library:tag=motor`` or ``library:all``) becomes such a folder: links to
the stored files, one folder per recording (:func:`library_folder`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from backend.browse import annotations as notes
from backend.errors import EEGError, first_line
from backend.recording import Recording

FIELDS = ("subject", "session", "task", "run")
# Extensions of a recording's header file (the file a study lists); companions are found beside it.
HEADER_EXTENSIONS = (".edf", ".bdf", ".gdf", ".vhdr", ".set", ".fif", ".cnt")
_BIDS_EXTENSIONS = [".edf", ".bdf", ".vhdr", ".set", ".fif"]
_LABEL = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True)
class Entry:
    """One recording of a study: its header file and where it stands in the design.

    Small and picklable: this is what travels to a worker, never the data.

    Attributes
    ----------
    path : str
        Absolute path of the header file (companions are found beside it).
    subject, session, task, run : str or None
        Alphanumeric labels (BIDS entities); ``subject`` is always set.
    bids_root : str or None
        The dataset's root for a BIDS recording: its TSV sidecars apply when it is opened.
    """

    path: str
    subject: str
    session: str | None = None
    task: str | None = None
    run: str | None = None
    bids_root: str | None = None

    @property
    def label(self) -> str:
        """The BIDS-style name stem, e.g. ``sub-001_ses-1_task-mi_run-04``."""
        parts = [f"sub-{self.subject}"]
        parts += [
            f"{key}-{value}" for key, value in (("ses", self.session), ("task", self.task), ("run", self.run)) if value
        ]
        return "_".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


# --- folders of recordings, by pattern -----------------------------------------------------


def compile_pattern(pattern: str) -> re.Pattern:
    """A file-name pattern as a regular expression.

    ``{subject}``, ``{session}``, ``{task}`` and ``{run}`` match alphanumeric labels, ``*``
    anything but ``/``; the rest is literal, matched without regard to case. A pattern
    with ``/`` is matched against the path below the root, one without against the name.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise EEGError("the file pattern is empty; write one like S{subject}R{run}.edf")
    out, seen = [], set()
    for token in re.split(r"(\{[^{}]*\}|\*)", pattern.strip()):
        if token == "*":
            out.append(r"[^/]*")
        elif token.startswith("{") and token.endswith("}"):
            name = token[1:-1]
            if name not in FIELDS:
                raise EEGError(
                    f"unknown field {token} in the pattern {pattern!r}; use {', '.join('{' + f + '}' for f in FIELDS)}"
                )
            if name in seen:
                raise EEGError(f"{token} appears twice in the pattern {pattern!r}")
            seen.add(name)
            out.append(rf"(?P<{name}>[A-Za-z0-9]+?)")
        elif "{" in token or "}" in token:
            raise EEGError(f"unbalanced brace in the pattern {pattern!r}")
        else:
            out.append(re.escape(token))
    if "subject" not in seen:
        raise EEGError(f"the pattern {pattern!r} has no {{subject}}")
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE)


def _headers(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in HEADER_EXTENSIONS and p.is_file() and "derivatives" not in p.relative_to(root).parts
    )


def _default_fields(rel: Path) -> dict:
    # No pattern: the first folder below the root is the subject (the stem for a file at the root),
    # and the file's stem tells its recordings apart.
    stem = _LABEL.sub("", rel.stem) or "x"
    if len(rel.parts) > 1:
        return {"subject": _LABEL.sub("", rel.parts[0]) or "x", "run": stem}
    return {"subject": stem}


def find_in_folder(root: str | Path, pattern: str | None = None) -> list[Entry]:
    """The recordings below ``root`` whose names match ``pattern`` (every recording when None).

    Returns
    -------
    list of Entry
        In path order. Files the pattern does not match are left out.

    Raises
    ------
    EEGError
        For a malformed pattern, or two recordings the pattern gives the same labels.
    """
    root = Path(root).resolve()
    regex = compile_pattern(pattern) if pattern is not None else None
    whole_path = pattern is not None and "/" in pattern  # a pattern with folders matches the path below root
    entries = []
    for path in _headers(root):
        rel = path.relative_to(root)
        if regex is None:
            fields = _default_fields(rel)
        else:
            match = regex.match(rel.as_posix() if whole_path else path.name)
            if match is None:
                continue
            fields = {k: v for k, v in match.groupdict().items() if v}
        entries.append(Entry(str(path), **fields))
    _check_unique(entries, pattern)
    return entries


def _check_unique(entries: Sequence[Entry], pattern: str | None) -> None:
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.label in seen:
            first = Path(seen[entry.label].path).name
            raise EEGError(
                f"{first} and {Path(entry.path).name} both read as {entry.label} with the pattern "
                f"{pattern!r}; add {{run}} or {{session}} to tell them apart"
            )
        seen[entry.label] = entry


# --- BIDS --------------------------------------------------------------------------------


def is_bids(root: str | Path) -> bool:
    return Path(root, "dataset_description.json").is_file()


def find_in_bids(root: str | Path) -> list[Entry]:
    """The EEG recordings of a BIDS dataset (raw data only: ``derivatives/`` and ``sourcedata/`` are skipped)."""
    import mne_bids

    root = Path(root).resolve()
    paths = mne_bids.find_matching_paths(root, datatypes="eeg", suffixes="eeg", extensions=_BIDS_EXTENSIONS)
    entries = []
    for bp in sorted(paths, key=lambda p: str(p.fpath)):
        rel = Path(bp.fpath).resolve().relative_to(root).parts
        if rel[0] in ("derivatives", "sourcedata") or bp.description is not None or bp.subject is None:
            continue
        entries.append(Entry(str(Path(bp.fpath).resolve()), bp.subject, bp.session, bp.task, bp.run, str(root)))
    return entries


def find_recordings(root: str | Path, pattern: str | None = None, subjects: Sequence[str] | None = None) -> list[Entry]:
    """The recordings of a study: a BIDS dataset's (when ``root`` is one and no pattern is given) or a folder's.

    Parameters
    ----------
    root : path-like
    pattern : str or None
        File-name pattern for a plain folder (see :func:`compile_pattern`).
    subjects : sequence of str or None
        Keep only these subjects (labels compared as written, and as numbers when both are).

    Raises
    ------
    EEGError
        When ``root`` does not exist or is not a folder, or nothing is found.
    """
    root = Path(root)
    if not root.exists():
        raise EEGError(f"{root} does not exist")
    if not root.is_dir():
        raise EEGError(f"{root} is not a folder")
    entries = find_in_bids(root) if pattern is None and is_bids(root) else find_in_folder(root, pattern)
    if subjects is not None:
        wanted = {_subject_key(s) for s in subjects}
        entries = [e for e in entries if _subject_key(e.subject) in wanted]
    if not entries:
        what = f"matching {pattern!r}" if pattern else "(EDF, BDF, GDF, BrainVision, EEGLAB, FIF or CNT)"
        raise EEGError(f"no recordings found in {root} {what}")
    return entries


# --- a selection from the Library -----------------------------------------------------------

LIBRARY_PREFIX = "library:"


def is_library_selection(root: str | Path) -> bool:
    return str(root).startswith(LIBRARY_PREFIX)


def parse_library_selection(text: str) -> dict:
    """``library:3,5,9`` -> ``{"ids": [3, 5, 9]}``; ``library:tag=motor`` -> ``{"tag": "motor"}``; ``library:all`` -> ``{}``."""
    body = str(text)[len(LIBRARY_PREFIX) :].strip()
    if body == "all":
        return {}
    if body.startswith("tag="):
        tag = body[len("tag=") :].strip()
        if tag:
            return {"tag": tag}
    elif body and all(part.strip().isdigit() for part in body.split(",")):
        return {"ids": sorted({int(part) for part in body.split(",")})}
    raise EEGError(f"{text!r} is not a Library selection; write library:3,5,9, library:tag=NAME or library:all")


def library_folder(library, owner: str, selection: dict) -> Path:
    """A folder of links to the stored files of the selected Library recordings: ``<id>/<file name>``.

    The links point into the Library's content-addressed store, so a study reads the bytes the
    Library keeps (de-identified unless the owner kept the identity) and its resume key stays the
    same from run to run. The folder is named after the selection, so a rerun finds its derivatives.

    Raises
    ------
    EEGError
        When the selection names no recording of ``owner`` (or one that is not theirs).
    """
    if "ids" in selection:
        chosen = [library.get(owner, rid) for rid in selection["ids"]]
    else:
        chosen = library.list(owner, tag=selection.get("tag"), sort="name", limit=1000)
    if not chosen:
        what = f"tagged {selection['tag']!r}" if "tag" in selection else "at all"
        raise EEGError(f"the Library has no recordings {what}")
    ids = sorted(entry.id for entry in chosen)
    name = "library-" + hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:12]
    root = Path(library.home) / "studies" / name
    for rid in ids:
        folder = root / str(rid)
        folder.mkdir(parents=True, exist_ok=True)
        for stored in library.files(owner, rid):
            link = folder / stored["name"]
            target = library.store.path(stored["sha256"])
            if link.is_symlink() and link.resolve() == target.resolve():
                continue
            link.unlink(missing_ok=True)
            library.store.link(stored["sha256"], folder, stored["name"])
    return root


def _subject_key(label: str) -> str:
    label = str(label)
    return str(int(label)) if label.isdigit() else label


def table(entries: Sequence[Entry], root: str | Path | None = None) -> list[dict]:
    """One row per recording: the labels and the file (relative to ``root`` when given)."""
    rows = []
    for e in entries:
        file = Path(e.path)
        if root is not None:
            try:
                file = file.relative_to(Path(root).resolve())
            except ValueError:
                pass
        rows.append({"subject": e.subject, "session": e.session, "task": e.task, "run": e.run, "file": str(file)})
    return rows


# --- opening a recording -------------------------------------------------------------------


def open_entry(entry: Entry) -> Recording:
    """Load the recording of ``entry``; for BIDS, apply its ``channels.tsv`` and ``events.tsv`` as steps."""
    from backend.io import load_recording

    recording = load_recording([entry.path], max_bytes=2**40, look_beside=True)
    if entry.bids_root is None:
        return recording
    return _apply_bids_sidecars(recording, entry)


def _apply_bids_sidecars(recording: Recording, entry: Entry) -> Recording:
    import mne
    import mne_bids

    from backend.channels import CHANNEL_TYPES

    bids_path = mne_bids.get_bids_path_from_fname(entry.path)
    bids_path.update(root=entry.bids_root)
    try:
        with mne.utils.use_log_level("error"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                described = mne_bids.read_raw_bids(bids_path, on_ch_mismatch="rename")
    except Exception as exc:  # mne-bids raises many types for inconsistent sidecars
        raise EEGError(f"{Path(entry.path).name}: its BIDS sidecars could not be read ({first_line(exc)})") from None
    renames = recording.history[0].params.get("renames", {}) or {}
    ours = set(recording.raw.ch_names)
    names = {name: renames.get(name, name) for name in described.ch_names}
    types = {
        names[n]: t
        for n, t in zip(described.ch_names, described.get_channel_types())
        if names[n] in ours and t in CHANNEL_TYPES and recording.raw.get_channel_types([names[n]])[0] != t
    }
    if types:
        recording = recording.apply("set_channel_types", mapping=types)
    bads = [names[b] for b in described.info["bads"] if names.get(b) in ours]
    if bads != list(recording.raw.info["bads"]) and (bads or recording.raw.info["bads"]):
        recording = recording.apply("set_bads", bads=bads)
    rows = _new_events(recording.raw, described)
    if rows:
        recording = recording.apply("import_annotations", rows=rows)
    return recording


def _new_events(raw, described) -> list[list]:
    """The events of ``events.tsv`` (as mne-bids read them) that ``raw`` does not already hold."""
    sfreq = raw.info["sfreq"]
    held = {(round(o * sfreq), str(d)) for o, d in zip(notes.onsets(raw), raw.annotations.description)}
    rows = []
    for start, duration, description in zip(
        notes.onsets(described), described.annotations.duration, described.annotations.description
    ):
        if (round(start * sfreq), str(description)) not in held:
            rows.append([float(start), float(duration), str(description)])
    return rows
