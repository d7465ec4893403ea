"""The Library in the app: one per server process, the signed-in user, and autosave of the open recording.

The session's recordings stack (:mod:`ui.session`) stays the user's place; this module
remembers which Library entry it belongs to (``st.session_state["library_entry"]``)
and writes every change of its history and annotations to the Library as it happens.
Only the annotation rows this session has seen are ever changed or deleted, each at the
version it saw, so another session's edit is never silently overwritten.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pandas as pd
import streamlit as st

from backend import recipe
from backend.browse.annotations import table
from backend.errors import EEGError
from backend.library import LOCAL_USER
from backend.library.api import Entry, Library, Result, data_home, finite
from backend.recording import Recording

ENTRY = "library_entry"  # the Entry of the open recording (None: not in the Library)
NOTES = "library_notes"  # the annotation rows this session last saw, with their versions
SAVED = "library_saved"  # the key of the recording state last saved
BUNDLED = "library_bundled"  # the bundled sample open but not yet in the Library (its path)
SAVE_ERROR = "library_save_error"  # why the last autosave failed, shown until one succeeds or another opens
RESULTS = "library_results"  # (entry id, kind, name) -> the payload last saved by this session


@st.cache_resource(show_spinner=False)
def _library(home: str, url: str | None) -> Library:
    return Library(home, url)


def get() -> Library:
    """This server's Library (one a data folder and database URL)."""
    return _library(str(data_home()), os.environ.get("EEG_EXPLORER_DATABASE_URL") or None)


def auth_configured() -> bool:
    """Whether ``.streamlit/secrets.toml`` configures Streamlit's sign-in (an ``[auth]`` section)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file, or one that does not parse: no sign-in
        return False


def owner() -> str:
    """The signed-in user's e-mail (or subject id), or :data:`LOCAL_USER` when no sign-in is configured."""
    if not auth_configured():
        return LOCAL_USER
    if not st.user.get("is_logged_in"):
        raise EEGError("sign in to see your library")
    name = st.user.get("email") or st.user.get("sub")
    if not name:
        raise EEGError("the sign-in provider gave neither an e-mail nor a subject id; ask your administrator")
    return str(name)


def require_user() -> None:
    """With sign-in configured, stop here until the user has signed in; a sign-out button in the sidebar."""
    if not auth_configured():
        return
    if not st.user.get("is_logged_in"):
        st.title("EEG Explorer")
        st.write("Sign in to see your library.")
        st.button("Sign in", on_click=st.login, key="sign_in", type="primary")
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {owner()}")
        st.button("Sign out", on_click=st.logout, key="sign_out")


# --- what this session has open ----------------------------------------------------------------


def entry() -> Entry | None:
    """The Library entry of the open recording, or None."""
    return st.session_state.get(ENTRY)


def forget() -> None:
    """The open recording is not (or not yet) in the Library."""
    for key in (ENTRY, NOTES, SAVED, BUNDLED, SAVE_ERROR, RESULTS):
        st.session_state.pop(key, None)


def _remember(found: Entry, recording: Recording | None) -> None:
    forget()
    st.session_state[ENTRY] = found
    st.session_state[NOTES] = tuple(get().annotations(owner(), found.id))
    st.session_state[SAVED] = recording.key if recording is not None else None


def remember_bundled(path: Path) -> None:
    """A bundled sample is open: it joins the Library at its first change."""
    forget()
    st.session_state[BUNDLED] = str(path)


def open_entry(recording_id) -> Recording:
    """Open a Library entry as it was last saved (history and annotations)."""
    lib = get()
    recording = lib.open(owner(), recording_id)
    _remember(lib.get(owner(), recording_id), recording)
    return recording


def add(paths, keep_identity: bool = False, max_bytes: int | None = None) -> Recording:
    """Add an upload to the Library and open it."""
    found = get().add(owner(), paths, keep_identity=keep_identity, max_bytes=max_bytes)
    return open_entry(found.id)


def last_opened() -> Entry | None:
    found = get().list(owner(), sort="opened", limit=1)
    return found[0] if found else None


def set_entry(found: Entry) -> None:
    """After a rename or new tags: the session's copy of its entry (the version moved on)."""
    if entry() is not None and entry().id == found.id:
        st.session_state[ENTRY] = found


# --- the list --------------------------------------------------------------------------------

# Shown sort orders: (the Library's sort key, descending).
SORTS = {
    "Last opened": ("opened", True),
    "Added": ("added", True),
    "Name": ("name", False),
    "Format": ("format", False),
    "Recording date": ("recorded", True),
    "Duration": ("duration", True),
    "Size": ("size", True),
    "Channels": ("channels", True),
}
ANY = "(any)"


def find(search: str, tag: str, fmt: str, dates, sort: tuple[str, bool], limit: int = 200) -> list[Entry]:
    """The user's recordings passing the filters the Library page shows (``dates``: a ``st.date_input`` range)."""
    recorded_from = recorded_to = None
    if dates and len(dates) == 2:
        recorded_from = dt.datetime.combine(dates[0], dt.time.min, tzinfo=dt.UTC)
        recorded_to = dt.datetime.combine(dates[1], dt.time.max, tzinfo=dt.UTC)
    return get().list(
        owner(),
        search=search.strip() or None,
        tag=None if tag == ANY else tag,
        format=None if fmt == ANY else fmt,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
        sort=sort[0],
        descending=sort[1],
        limit=limit,
    )


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} kB"


def _when(t: dt.datetime) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M")


def listing(entries: list[Entry]) -> pd.DataFrame:
    """The rows of the Library's table, as the page shows them."""
    return pd.DataFrame(
        {
            "Name": [e.name for e in entries],
            "Format": [e.format for e in entries],
            "Channels": [e.n_channels for e in entries],
            "Rate (Hz)": [f"{e.sfreq:g}" for e in entries],
            "Duration (s)": [f"{e.duration_s:.1f}" for e in entries],
            "Recorded": [_when(e.recorded_at) if e.recorded_at else "anonymised" for e in entries],
            "Size": [_size(e.size_bytes) for e in entries],
            "Tags": [", ".join(e.tags) for e in entries],
            "Added": [_when(e.added_at) for e in entries],
            "Last opened": [_when(e.opened_at) for e in entries],
        }
    )


def identity_note(found: Entry) -> str:
    """What de-identification removed from an entry, in one line."""
    if found.identity_kept:
        return "Stored as uploaded: its identifying fields were kept."
    if not found.removed_fields:
        return "De-identified on import: it held no identifying fields."
    return "De-identified on import; removed: " + "; ".join(found.removed_fields) + "."


def rename(recording_id: int, name: str) -> None:
    set_entry(get().rename(owner(), recording_id, name))


def set_tags(recording_id: int, text: str) -> None:
    """Replace an entry's tags with those of ``text``, separated by commas."""
    set_entry(get().set_tags(owner(), recording_id, [t.strip() for t in text.split(",") if t.strip()]))


def facets() -> tuple[list[str], list[str]]:
    """The tags and formats of the user's recordings, for the filters."""
    rows = get().list(owner(), sort="name", limit=1000)
    return sorted({t for r in rows for t in r.tags}), sorted({r.format for r in rows})


# --- autosave ----------------------------------------------------------------------------------


def autosave(recording: Recording) -> None:
    """Save the open recording's history and annotations, if they changed since the last save.

    Raises
    ------
    EEGError
        When another session changed the same recording or annotation meanwhile
        (nothing of theirs is overwritten), or the Library cannot be written.
    """
    if _join() is None:
        return
    lib, found = get(), entry()
    # Annotations first: each row has its own version, so they are kept even when the history is refused.
    _sync_annotations(lib, found.id, recording)
    if st.session_state.get(SAVED) != recording.key:
        version = lib.save_state(owner(), found.id, recording, expected_version=found.version)
        st.session_state[ENTRY] = replace(found, version=version)
        st.session_state[SAVED] = recording.key


def join() -> Entry | None:
    """The open recording's Library entry, a bundled sample joining the Library now; None outside it."""
    return _join()


def _join() -> Entry | None:
    """The open recording's entry; a bundled sample joins the Library here, at its first change."""
    if entry() is None and BUNDLED in st.session_state:
        path = Path(st.session_state[BUNDLED])
        found = get().add(owner(), sorted(path.parent.glob(path.stem + ".*")))
        _remember(found, None)
    return entry()


def save_result(kind: str, name: str, payload: dict, blob: bytes | None = None) -> bool:
    """Save a result of the open recording as it is produced (one of :data:`RESULT_KINDS`, replacing its namesake).

    Nothing is written when this session already saved the same payload, so pages may
    call it on every run. A bundled sample joins the Library first (its first change);
    a recording outside the Library is not saved and a caption says so. A failure is
    shown above every page, as for the history's autosave. True when it is saved.
    """
    if entry() is None and BUNDLED not in st.session_state:
        st.caption("This recording is not in your library: its results are not saved.")
        return False
    done = st.session_state.setdefault(RESULTS, {})
    try:
        found = _join()
        if found is None:
            return False
        if done.get((found.id, kind, name)) == payload:
            return True
        get().save_result(owner(), found.id, kind, name, finite(payload), blob=blob)
    except EEGError as err:
        st.session_state[SAVE_ERROR] = f"Not saved to the library: {err}"
        return False
    st.session_state.setdefault(RESULTS, {})[(found.id, kind, name)] = payload
    return True


def latest_result(kind: str, name: str | None = None) -> Result | None:
    """The open recording's newest saved result of ``kind`` (and ``name``), or None."""
    found = entry()
    if found is None:
        return None
    try:
        rows = get().results(owner(), found.id, kind=kind)
    except EEGError:
        return None
    return next((r for r in rows if name is None or r.name == name), None)


def delete_result(result: Result) -> None:
    """Delete a saved result of the open recording (an impression cleared by the user)."""
    try:
        get().delete_result(owner(), result.id)
    except EEGError as err:
        st.session_state[SAVE_ERROR] = f"Not saved to the library: {err}"
        return
    st.session_state.get(RESULTS, {}).pop((result.recording_id, result.kind, result.name), None)


def result_blob(result: Result) -> bytes:
    return get().result_blob(owner(), result.id)


def saved_when(result: Result) -> str:
    """When a result was saved, in local time."""
    t = result.updated_at
    return _when(t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC))


def _key(onset: float, duration: float, label: str) -> tuple:
    return round(onset, 6), round(duration, 6), label


def _sync_annotations(lib: Library, recording_id: int, recording: Recording) -> None:
    """Make the Library's rows that this session saw match the recording's annotations."""
    wanted = Counter(_key(r["onset"], r["duration"], r["description"]) for r in table(recording.raw))
    kept, gone = [], []
    for row in st.session_state.get(NOTES, ()):
        k = _key(row.onset, row.duration, row.label)
        if wanted[k] > 0:
            wanted[k] -= 1
            kept.append(row)
        else:
            gone.append(row)
    try:
        while gone:
            lib.delete_annotation(owner(), gone[0].id, gone[0].version)
            gone.pop(0)
        for (onset, duration, label), n in wanted.items():
            for _ in range(n):
                kept.append(lib.add_annotation(owner(), recording_id, onset, duration, label or "(no label)"))
    finally:  # what was written is known, even when a conflict stopped the rest
        st.session_state[NOTES] = tuple(sorted(kept + gone, key=lambda a: (a.onset, a.id)))


def previous_state(recording: Recording) -> Recording:
    """The open entry's state one step back: its files with all steps but the last replayed.

    For an undo after the entry was reopened, when the session holds no ancestors.
    """
    found = entry()
    if found is None or len(recording.history) < 2:
        raise EEGError("nothing to undo")
    from backend.io import load_recording

    lib = get()
    files = lib.files(owner(), found.id)
    folder = Path(tempfile.mkdtemp(prefix="eeg-explorer-undo-"))
    paths = [lib.store.link(f["sha256"], folder, f["name"]) for f in files]
    base = load_recording(paths, max_bytes=sum(f["size_bytes"] for f in files) + 1)
    steps = [s.to_dict() for s in recording.history[1:-1]]
    return recipe.replay({"steps": steps}, base)
