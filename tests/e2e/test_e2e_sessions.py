"""Two users at once: each sees only their own recording and files; a closed session's files go."""

from __future__ import annotations

import time

import pytest
from conftest import GRACE_S
from harness import (
    click,
    eventually,
    go_to,
    metrics,
    open_app,
    run_count,
    settle,
    sidebar_text,
    wait_for_run,
    wait_idle,
    widget,
)

pytestmark = pytest.mark.e2e


def _folders(root) -> dict[str, set[str]]:
    """Session id -> names of the files uploaded in that session."""
    if not root.exists():
        return {}
    return {d.name: {f.name for f in d.rglob("*") if f.is_file()} for d in root.iterdir() if d.is_dir()}


def _both(pages, act) -> None:
    """Do ``act(page)`` in every page without waiting in between, then wait for all their runs."""
    before = [run_count(p) for p in pages]
    for p in pages:
        act(p)
    for p, b in zip(pages, before):
        wait_for_run(p, b)


def _shows(page, rec) -> None:
    def shown():
        m = metrics(page)
        assert (m.get("Channels"), m.get("Rate")) == (str(len(rec.raw.ch_names)), f"{rec.raw.info['sfreq']:g} Hz")
        assert page.locator('[data-testid="stMain"] h3', has_text=rec.name).count() == 1

    eventually(shown)


def test_two_sessions_at_once_see_only_their_own_recording(
    new_page, app_url, workspace_root, physionet_file, physionet_recording, eeglab_files, eeglab_recording
):
    a, b = new_page(), new_page()
    open_app(a, app_url)
    open_app(b, app_url)
    # Both start on the bundled default; then each uploads a different recording at the same moment.
    a.set_default_timeout(90_000)
    b.set_default_timeout(90_000)
    before = _folders(workspace_root)
    _both(
        [a, b],
        lambda p: (
            widget(p, "uploads")
            .locator('input[type="file"]')
            .set_input_files([str(f) for f in ([physionet_file] if p is a else eeglab_files)])
        ),
    )
    _both([a, b], lambda p: widget(p, "load_upload").locator("button").click())

    _shows(a, physionet_recording)
    _shows(b, eeglab_recording)
    # Nothing of the other user's recording anywhere on the page.
    assert "S001R04" not in b.locator('[data-testid="stMain"]').inner_text()
    assert "eeglab_data" not in a.locator('[data-testid="stMain"] h3').first.inner_text()

    # Each session's uploads are in its own folder, holding its files only.
    new = {sid: files for sid, files in _folders(workspace_root).items() if sid not in before}
    assert sorted(new.values(), key=len) == [{"S001R04.edf"}, {"eeglab_data.set", "eeglab_data.fdt"}]


def test_two_sessions_on_the_same_recording_keep_their_annotations_and_results_apart(new_page, app_url):
    """Same bundled recording (so any cache keyed on content is shared): what one user adds
    or computes stays in that user's session."""
    a, b = new_page(), new_page()
    for p in (a, b):
        p.set_default_timeout(180_000)
        open_app(p, app_url)
        go_to(p, "Browse")
    form = a.locator('[data-testid="stForm"]', has_text="Add an annotation")
    form.get_by_label("Label").fill("only-in-session-a")
    settle(a, form.get_by_role("button", name="Add", exact=True).click, timeout_s=120)
    eventually(lambda: _assert("only-in-session-a" in sidebar_text(a), "A's annotation is in A's history"))
    # A result: A cleans its recording; B's history keeps the load step alone.
    go_to(a, "Clean")
    typed = a.get_by_role("textbox", name="Pipeline as text (the CLI's --steps)")
    typed.fill("bandpass:2,30")  # not the page's default, so pressing Enter changes it
    settle(a, lambda: typed.press("Enter"))
    click(a, "clean_run", timeout_s=180)
    # Four minutes of data: the pipeline runs as a job on a Dask worker, and A's page takes its result up.
    eventually(lambda: _assert("Band-pass 2–30 Hz" in sidebar_text(a), "A's cleaning step is in A's history"), 240)

    # B works on after A's changes (a page turn, in B's own session) and sees none of them.
    widget(b, "browse_next").locator("button").click()
    eventually(lambda: _assert(float(b.locator(".eeg-page-view").get_attribute("data-start")) > 0, "B's page turned"))
    wait_idle(b, 120)
    seen_by_b = sidebar_text(b) + b.locator('[data-testid="stMain"]').inner_text()
    assert "only-in-session-a" not in seen_by_b and "Band-pass" not in sidebar_text(b)
    assert "Add annotation" not in sidebar_text(b)


def test_a_closed_sessions_files_are_removed_after_the_grace_period(
    new_page, app_url, workspace_root, physionet_file, eeglab_files
):
    leaving, staying = new_page(), new_page()
    for p, files in ((leaving, [physionet_file]), (staying, eeglab_files)):
        open_app(p, app_url)
        before = set(_folders(workspace_root))
        _both(
            [p],
            lambda q, files=files: (
                widget(q, "uploads").locator('input[type="file"]').set_input_files([str(f) for f in files])
            ),
        )
        _both([p], lambda q: widget(q, "load_upload").locator("button").click())
        p.session_folder = (set(_folders(workspace_root)) - before).pop()
    gone, kept = leaving.session_folder, staying.session_folder
    assert (workspace_root / gone).exists() and (workspace_root / kept).exists()

    leaving.context.close()  # the user closes the tab
    time.sleep(GRACE_S + 1.0)
    # Sweeps run as sessions work; a new visitor's first run is one.
    open_app(new_page(), app_url)
    eventually(lambda: _assert(not (workspace_root / gone).exists(), "closed session's folder still there"), 20)
    assert (workspace_root / kept).exists(), "a connected session's folder was removed"
    assert _folders(workspace_root)[kept] == {"eeglab_data.set", "eeglab_data.fdt"}


def _assert(condition, message) -> None:
    assert condition, message
