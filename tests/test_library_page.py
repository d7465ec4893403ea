"""The Library page and autosave in Streamlit's AppTest, on a private data folder (tests/conftest.py).

A "new session" is a new AppTest on the same data folder: what a reload of the tab
or a restart of the server sees.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.browse import annotations
from backend.library import LOCAL_USER
from backend.library.api import Library
from tests.conftest import open_app

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow

TIMEOUT = 120


def _session(page: str | None = None) -> AppTest:
    return open_app(page, timeout=TIMEOUT)


def _upload(at: AppTest, files: list[Path], deidentify: bool = True) -> AppTest:
    at.file_uploader(key="uploads").set_value([(f.name, f.read_bytes(), "application/octet-stream") for f in files])
    at.checkbox(key="deidentify").set_value(deidentify)
    at.run()
    at.button(key="load_upload").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    return at


def _table(at: AppTest):
    """The Library's table (a read-only dataframe carries no key in AppTest), or None."""
    return next((d.value for d in at.dataframe if "Last opened" in d.value.columns), None)


def _listed(at: AppTest) -> list[str]:
    table = _table(at)
    return [] if table is None else list(table["Name"])


def _library() -> Library:
    return Library(os.environ["EEG_EXPLORER_HOME"])


def _add_annotation(at: AppTest, onset: float, label: str) -> None:
    next(n for n in at.number_input if n.label == "Onset (s)").set_value(onset)
    next(t for t in at.text_input if t.label == "Label").set_value(label)
    next(b for b in at.button if b.label == "Add").click()
    at.run()
    assert not at.exception, at.exception


def _labels(at: AppTest) -> list[str]:
    return [r["description"] for r in annotations.table(at.session_state["recordings"][-1].raw)]


def test_an_empty_library_opens_the_bundled_sample_and_says_so():
    at = _session()
    assert at.title[0].value == "Library"
    assert _listed(at) == []
    assert any("library is empty" in c.value for c in at.caption)
    assert at.session_state["recordings"][-1].name == "eeglab_data.set"


def test_upload_lists_the_recording_with_what_deidentification_removed(physionet_file):
    at = _upload(_session(), [physionet_file])
    assert _listed(at) == ["S001R04.edf"]
    assert at.session_state["library_entry"].name == "S001R04.edf"
    assert any(c.value.startswith("De-identified on import; removed:") for c in at.caption)
    row = _table(at).iloc[0]
    assert (row["Format"], row["Channels"], row["Rate (Hz)"]) == ("EDF", 64, "160")


def test_upload_keeping_identity_says_so(physionet_file):
    at = _upload(_session(), [physionet_file], deidentify=False)
    assert any("identifying fields were kept" in c.value for c in at.caption)


def test_search_filter_rename_and_tag(physionet_file, eeglab_files):
    at = _upload(_upload(_session(), [physionet_file]), eeglab_files)
    assert sorted(_listed(at)) == ["S001R04.edf", "eeglab_data.set"]
    at.text_input(key="lib_search").set_value("s001").run()
    assert _listed(at) == ["S001R04.edf"]
    at.text_input(key="lib_search").set_value("").run()
    at.selectbox(key="lib_format").set_value("EDF").run()
    assert _listed(at) == ["S001R04.edf"]
    at.selectbox(key="lib_format").set_value("(any)").run()

    rid = next(e.id for e in _library().list(LOCAL_USER) if e.name == "S001R04.edf")
    at.selectbox(key="lib_chosen").set_value(rid).run()
    at.text_input(key=f"lib_name:{rid}").set_value("motor imagery run 4")
    at.button(key="lib_rename").click().run()
    at.text_input(key=f"lib_tags:{rid}").set_value("motor, demo")
    at.button(key="lib_save_tags").click().run()
    assert not at.exception and not at.error
    assert sorted(_listed(at)) == ["eeglab_data.set", "motor imagery run 4"]
    assert at.selectbox(key="lib_tag").options == ["(any)", "demo", "motor"]
    at.selectbox(key="lib_tag").set_value("motor").run()
    assert _listed(at) == ["motor imagery run 4"]
    assert _table(at).iloc[0]["Tags"] == "demo, motor"
    at.selectbox(key="lib_sort").set_value("Name").run()
    assert not at.exception


def test_delete_asks_first_and_removes_the_files(physionet_file):
    at = _upload(_session(), [physionet_file])
    store = Path(os.environ["EEG_EXPLORER_HOME"]) / "store"
    assert any(p.is_file() for p in store.rglob("*"))
    at.button(key="lib_delete").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key="lib_delete_no").click().run()
    assert _listed(at) == ["S001R04.edf"]
    at.button(key="lib_delete").click().run()
    at.button(key="lib_delete_yes").click().run()
    assert not at.exception and not at.error
    assert _listed(at) == []
    assert not any(p.is_file() for p in store.rglob("*"))
    # The open recording was the deleted one: the session is back on the bundled sample.
    assert at.session_state["recordings"][-1].name == "eeglab_data.set"


def test_an_annotation_is_saved_as_it_is_added_and_a_new_session_finds_it(physionet_file):
    at = _upload(_session(), [physionet_file])
    at.switch_page("pages/browse.py").run()
    _add_annotation(at, 33.0, "seizure onset")
    assert not at.error
    rid = at.session_state["library_entry"].id
    assert "seizure onset" in [a.label for a in _library().annotations(LOCAL_USER, rid)]

    again = _session("pages/browse.py")  # a reload, or a restart of the server
    assert again.session_state["library_entry"].id == rid
    assert any(m.value == "**S001R04.edf**" for m in again.sidebar.markdown)
    assert "seizure onset" in _labels(again)
    assert again.session_state["recordings"][-1].history[-1].name == "add_annotation"

    # Undo still works after the reload: the annotation goes, in the Library too.
    again.button(key="sidebar_undo").click().run()
    assert not again.exception and not again.error
    assert "seizure onset" not in _labels(again)
    assert "seizure onset" not in [a.label for a in _library().annotations(LOCAL_USER, rid)]
    assert len(_library().get(LOCAL_USER, rid).history) == 1


def test_the_bundled_sample_joins_the_library_at_its_first_change():
    at = _session("pages/browse.py")
    assert _library().list(LOCAL_USER) == []
    _add_annotation(at, 12.0, "blink burst")
    [entry] = _library().list(LOCAL_USER)
    assert entry.name == "eeglab_data.set"
    again = _session("pages/browse.py")
    assert "blink burst" in _labels(again)


def test_two_sessions_on_one_recording_a_conflict_is_shown_not_lost(physionet_file):
    a = _upload(_session(), [physionet_file])
    b = _session()  # the same recording, opened from the library
    for at in (a, b):
        at.switch_page("pages/browse.py").run()
    _add_annotation(a, 10.0, "from a")
    _add_annotation(b, 20.0, "from b")
    # Shown above every page until a save succeeds (AppTest keeps only the page's own elements after a rerun).
    assert "changed in another session" in b.session_state["library_save_error"]
    assert b.session_state["library_save_error"].startswith("Not saved to the library: recording")
    rid = a.session_state["library_entry"].id
    labels = [x.label for x in _library().annotations(LOCAL_USER, rid)]
    assert "from a" in labels and "from b" in labels  # annotations are kept row by row


def test_owner_is_the_local_user_without_sign_in_and_nobody_before_signing_in(monkeypatch):
    from backend.errors import EEGError
    from ui import library

    assert library.owner() == LOCAL_USER  # no .streamlit/secrets.toml here
    monkeypatch.setattr(library, "auth_configured", lambda: True)
    with pytest.raises(EEGError, match="sign in"):
        library.owner()  # not signed in: never the local user's rows
