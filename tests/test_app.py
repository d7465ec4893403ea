"""The app starts on a bundled sample and every page renders without an exception."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_app

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow

PAGES = [
    "pages/load.py",
    "pages/browse.py",
    "pages/clean.py",
    "pages/components.py",
    "pages/sources.py",
    "pages/classify.py",
    "pages/study.py",
    "pages/report.py",
]


def _app() -> AppTest:
    at = open_app(timeout=120)
    assert not at.exception, at.exception
    return at


def test_app_opens_on_a_bundled_recording():
    at = _app()
    assert any("eeglab_data.set" in m.value for m in at.sidebar.markdown)
    assert any("32 channels" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(page):
    at = _app()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title and at.title[0].value


def test_load_page_opens_the_other_sample_and_shows_its_summary():
    at = _app()
    at.selectbox(key="sample_choice").select_index(1).run()
    at.button(key="open_sample").click().run()
    assert not at.exception
    assert at.session_state["recordings"][-1].name == "S001R04.edf"
    assert any("T1 ×8" in c.value for c in at.caption)


def _upload(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    at.file_uploader(key="uploads").set_value([(name, data, "application/octet-stream") for name, data in files]).run()
    at.button(key="load_upload").click().run()
    return at


def test_uploading_a_real_file_makes_it_current(physionet_file):
    at = _upload(_app(), [(physionet_file.name, physionet_file.read_bytes())])
    assert not at.exception and not at.error
    current = at.session_state["recordings"][-1]
    assert current.name == "S001R04.edf" and len(current.raw.ch_names) == 64


def test_uploading_a_broken_file_keeps_the_previous_recording(tmp_path):
    at = _app()
    before = at.session_state["recordings"][-1]
    at = _upload(at, [("notes.edf", b"plain text, not EEG\n" * 50)])
    assert not at.exception
    assert len(at.error) == 1 and "not an EDF file" in at.error[0].value
    assert at.session_state["recordings"][-1] is before


def test_uploading_brainvision_pointing_outside_is_refused(shared_data):
    folder = shared_data / "brainvision"
    header = (
        (folder / "test_CA_208.vhdr")
        .read_text(encoding="latin-1")
        .replace("DataFile=test_CA_208.eeg", "DataFile=../../etc/passwd")
    )
    files = [("test_CA_208.vhdr", header.encode("latin-1"))] + [
        (f"test_CA_208{ext}", (folder / f"test_CA_208{ext}").read_bytes()) for ext in (".vmrk", ".eeg")
    ]
    at = _upload(_app(), files)
    assert not at.exception
    assert "outside the upload" in at.error[0].value
    assert at.session_state["recordings"][-1].name == "eeglab_data.set"


def test_an_upload_removed_after_idling_falls_back_with_a_message(physionet_file, tmp_path):
    import shutil

    copy = tmp_path / physionet_file.name
    shutil.copyfile(physionet_file, copy)
    at = _app()
    from backend.io import load_recording

    at.session_state["recordings"] = [load_recording([copy])]
    copy.unlink()  # what the idle sweep does to an upload folder
    at.run()
    assert not at.exception
    assert at.session_state["recordings"][-1].name == "eeglab_data.set"
    assert any("idle too long" in w.value for w in at.warning)
