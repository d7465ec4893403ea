"""The user's place in the app: their recordings, shown in the sidebar of every page.

``st.session_state["recordings"]`` is a stack: the current recording last, its
ancestors before it, so "before/after" is one lookup away and undo is a pop.
Every push and pop is saved to the Library (:func:`ui.library.autosave`) when the
recording is one of its entries; a new session opens the last-opened entry.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from pathlib import Path

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from backend import workspace
from backend.config import BUNDLED_SAMPLES, DEFAULT_SAMPLE
from backend.errors import EEGError
from backend.io import load_recording
from backend.recording import Recording
from ui import library
from ui.cache import cached

_SWEEP_EVERY_S = 60.0
# (recording key, ICA settings) of the decomposition the Components page shows; other pages
# (the Sources page's component dipoles) use the same one.
SHOWN_COMPONENTS = "result:components"


@cached(max_entries=8)
def load_bundled(path: str) -> Recording:
    """Bundled samples are shared by all sessions: a Recording is never mutated."""
    return load_recording([p for p in Path(path).parent.glob(Path(path).stem + ".*")])


@cached(max_entries=6)
def decomposition(rec: Recording, method=None, n_components=None, seed: int | None = None):
    """The ICA components of ``rec`` with these settings (see ``backend.components.ica.for_recording``)."""
    from backend.components.ica import DEFAULT_SEED, for_recording

    return for_recording(rec, method, n_components, DEFAULT_SEED if seed is None else seed)


def shown_components(rec: Recording) -> tuple | None:
    """The settings of the decomposition the Components page shows for ``rec``, or None."""
    shown = st.session_state.get(SHOWN_COMPONENTS)
    return shown[1] if shown and shown[0] == rec.key else None


def ensure_shell() -> None:
    """Run the page through ``app.py`` even when the server's first request names a page.

    Streamlit treats an app with a ``pages/`` folder as a v1 multipage app until
    ``st.navigation`` has run once, so a first visit to ``/browse`` after a restart
    would run the page alone, without our navigation and sidebar. Rerunning puts
    ``app.py`` in front; ``app.py`` marks the session once it has run.
    """
    if "_shell" not in st.session_state:
        PagesManager.uses_pages_directory = False
        st.rerun()


def session_id() -> str:
    """This browser session's id (a UUID in a served app), safe as a folder name."""
    ctx = get_script_run_ctx()
    return re.sub(r"[^\w-]", "_", ctx.session_id) if ctx else "no-session"


def _is_active(sid: str) -> bool:
    return Runtime.exists() and Runtime.instance().is_active_session(sid)


def housekeeping() -> None:
    """Keep this session's upload folder alive and remove those of ended sessions."""
    workspace.touch(session_id())
    last = st.session_state.get("_last_sweep", 0.0)
    if time.time() - last > _SWEEP_EVERY_S:
        st.session_state["_last_sweep"] = time.time()
        workspace.sweep(_is_active)


@contextmanager
def user_errors():
    """Show an :class:`EEGError` as one line; whatever was loaded stays as it was."""
    try:
        yield
    except EEGError as err:
        st.error(str(err), icon=":material/error:")


def _files_gone(rec: Recording) -> bool:
    """Whether a lazily read recording's upload was removed (the session sat idle too long)."""
    return not rec.raw.preload and any(f is not None and not Path(f).exists() for f in rec.raw.filenames)


def stack() -> list[Recording]:
    recordings = st.session_state.get("recordings")
    if recordings and any(_files_gone(r) for r in recordings):
        st.warning(
            "This session was idle too long and its upload was removed; the last recording of your library "
            "(or the bundled sample) is open again. Upload the file once more to go on."
        )
        recordings = None
    if not recordings:
        _restore()
    return st.session_state["recordings"]


def _restore() -> None:
    """A session with nothing open: the last-opened Library entry, else the bundled sample."""
    with user_errors():
        last = library.last_opened()
        if last is not None:
            st.session_state["recordings"] = [library.open_entry(last.id)]
            return
    open_sample(BUNDLED_SAMPLES[DEFAULT_SAMPLE])


def open_sample(path: Path) -> None:
    """Open a bundled sample: it joins the Library with its first change."""
    open_recording(load_bundled(str(path)))
    library.remember_bundled(path)


def open_entry(recording_id) -> None:
    """Open a Library entry as it was last saved."""
    recording = library.open_entry(recording_id)
    _new_history(recording)


def open_upload(paths, keep_identity: bool = False, max_bytes: int | None = None) -> None:
    """Add an upload to the Library (de-identified unless ``keep_identity``) and open it."""
    recording = library.add(paths, keep_identity=keep_identity, max_bytes=max_bytes)
    _new_history(recording)


def delete_entry(recording_id) -> None:
    """Delete a Library entry; when it is the open recording, the session opens another."""
    library.get().remove(library.owner(), recording_id)
    if library.entry() is not None and library.entry().id == recording_id:
        library.forget()
        st.session_state["recordings"] = None


def current() -> Recording:
    return stack()[-1]


def original() -> Recording:
    return stack()[0]


def open_recording(recording: Recording) -> None:
    """Make ``recording`` current, starting a new history (outside the Library)."""
    library.forget()
    _new_history(recording)


def _new_history(recording: Recording) -> None:
    st.session_state["recordings"] = [recording]
    for key in [k for k in st.session_state if str(k).startswith("result:")]:
        del st.session_state[key]


def push(recording: Recording) -> None:
    """Make a processed version current, keeping its ancestors."""
    stack().append(recording)
    _autosave()


def _autosave() -> None:
    """Save the current recording to the Library; a failure is shown on every run until a save succeeds."""
    try:
        library.autosave(current())
        st.session_state.pop(library.SAVE_ERROR, None)
    except EEGError as err:
        st.session_state[library.SAVE_ERROR] = f"Not saved to the library: {err}"


def apply_step(name: str, **params) -> bool:
    """Apply a registered step to the current recording; False (and a message) on bad input."""
    with user_errors():
        push(current().apply(name, **params))
        return True
    return False


def can_undo() -> bool:
    """Ancestors in the session, or (a reopened Library entry) steps in its history."""
    return len(stack()) > 1 or (library.entry() is not None and len(current().history) > 1)


def undo() -> None:
    if len(stack()) > 1:
        stack().pop()
    elif can_undo():
        try:
            st.session_state["recordings"] = [library.previous_state(current())]
        except EEGError as err:
            st.session_state[library.SAVE_ERROR] = f"Cannot undo: {err}"
            return
    else:
        return
    _autosave()


def sidebar() -> None:
    """The current recording and its history, on every page."""
    rec = current()
    if library.SAVE_ERROR in st.session_state:
        st.error(st.session_state[library.SAVE_ERROR], icon=":material/sync_problem:")
    entry = library.entry()
    with st.sidebar:
        st.markdown(f"**{entry.name if entry is not None else rec.name}**")
        raw = rec.raw
        st.caption(f"{len(raw.ch_names)} channels · {raw.info['sfreq']:g} Hz · {rec.duration_s:.1f} s · {rec.format}")
        st.markdown("**History**")
        for i, step in enumerate(rec.history):
            st.caption(f"{i + 1}. {step.label()}")
        if entry is not None:
            st.caption("Saved in your library as you work.")
        if can_undo():
            st.button("Undo last step", on_click=undo, key="sidebar_undo", width="stretch")
