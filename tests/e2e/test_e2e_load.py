"""The Load page in a real browser: bundled sample, real uploads, hostile files, export."""

from __future__ import annotations

import hostile
import pytest
from conftest import MAX_UPLOAD_MB
from harness import WARNING, check, click, eventually, messages, metrics, open_app, select, sidebar_text, upload, widget

from backend.config import BUNDLED_SAMPLES
from backend.errors import EEGError
from backend.io import load_recording

pytestmark = pytest.mark.e2e


def _expected_metrics(rec) -> dict[str, str]:
    info = rec.summary()
    return {
        "Channels": str(info["n_channels"]),
        "Rate": f"{info['sfreq']:g} Hz",
        "Duration": f"{info['duration_s']:.1f} s",
    }


def _assert_equal(shown, expected, what) -> None:
    assert shown == expected, what


def _shows(page, rec) -> None:
    eventually(lambda: _shown(page, rec))


def _shown(page, rec) -> None:
    shown = metrics(page)
    assert {k: shown.get(k) for k in ("Channels", "Rate", "Duration")} == _expected_metrics(rec)
    assert page.locator('[data-testid="stMain"] h3', has_text=f"{rec.name}  ·  {rec.format}").count() == 1


def test_open_sample_then_upload_a_real_file(
    page, app_url, physionet_file, eeglab_files, physionet_recording, eeglab_recording
):
    open_app(page, app_url)
    _shows(page, eeglab_recording)  # the app opens on the default bundled sample
    check(page, "load-01-default-sample")

    physionet_label = next(k for k, v in BUNDLED_SAMPLES.items() if v.name == physionet_file.name)
    select(page, "sample_choice", physionet_label)
    click(page, "open_sample")
    _shows(page, physionet_recording)
    check(page, "load-02-opened-physionet-sample")

    upload(page, "uploads", eeglab_files)
    click(page, "load_upload")
    _shows(page, eeglab_recording)
    assert "Annotations:" in page.get_by_text("Annotations:").first.inner_text()
    check(page, "load-03-uploaded-eeglab")


def test_hostile_uploads_are_refused_and_keep_the_recording(
    page, app_url, physionet_file, physionet_recording, tmp_path
):
    open_app(page, app_url)
    upload(page, "uploads", [physionet_file])
    click(page, "load_upload")
    _shows(page, physionet_recording)

    for case in hostile.cases(tmp_path):
        if not case.refused:
            continue
        with pytest.raises(EEGError) as expected:
            load_recording(case.files)
        upload(page, "uploads", case.files)
        click(page, "load_upload")
        eventually(lambda case=case: _assert_equal(messages(page), [str(expected.value)], case.label))
        _shows(page, physionet_recording)  # nothing already loaded is lost
        check(page, f"load-hostile-{case.label}")

    # The recording kept through all that is still usable: it exports.
    click(page, "prepare_export")
    assert widget(page, "download_export").locator("button").is_visible()

    # Over the upload limit: the widget itself refuses it; the load button stays off.
    big = hostile.over_limit(tmp_path / "big", MAX_UPLOAD_MB)
    upload(page, "uploads", [big], refused=True)
    refusal = widget(page, "uploads").locator('[data-testid="stFileChip"] [role="alert"]').inner_text()
    assert f"{MAX_UPLOAD_MB:.1f}MB or smaller" in refusal, refusal
    assert widget(page, "load_upload").locator("button").is_disabled()
    _shows(page, physionet_recording)
    check(page, "load-hostile-over-limit")

    # NaN/Inf samples load, with a warning that says where.
    nan_case = next(c for c in hostile.cases(tmp_path) if not c.refused)
    nan_rec = load_recording(nan_case.files)
    upload(page, "uploads", nan_case.files)
    click(page, "load_upload")
    _shows(page, nan_rec)
    nan_warning = next(w for w in nan_rec.history[0].report["warnings"] if "NaN" in w)
    eventually(lambda: _assert_equal([w for w in messages(page, WARNING) if "NaN" in w], [nan_warning], "NaN warning"))
    check(page, "load-hostile-nan-samples")


def test_sidebar_shows_the_recording_just_opened(page, app_url, physionet_file, physionet_recording):
    open_app(page, app_url)
    upload(page, "uploads", [physionet_file])
    click(page, "load_upload")
    _shows(page, physionet_recording)
    assert physionet_recording.name in sidebar_text(page)


@pytest.mark.parametrize("ext", ["edf", "vhdr"])
def test_export_downloads_a_file_that_loads(page, app_url, physionet_file, physionet_recording, tmp_path, ext):
    import zipfile

    open_app(page, app_url)
    upload(page, "uploads", [physionet_file])
    click(page, "load_upload")
    select(page, "export_fmt", f"(.{ext})")
    click(page, "prepare_export")
    with page.expect_download() as info:
        widget(page, "download_export").locator("button").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    files = [target]
    if zipfile.is_zipfile(target):  # formats of several files come zipped
        with zipfile.ZipFile(target) as zf:
            zf.extractall(tmp_path / "unzipped")
            files = [tmp_path / "unzipped" / n for n in zf.namelist()]
    loaded = load_recording(files)
    assert loaded.raw.ch_names == physionet_recording.raw.ch_names
    assert loaded.raw.info["sfreq"] == physionet_recording.raw.info["sfreq"]
    assert loaded.raw.n_times == physionet_recording.raw.n_times
    check(page, f"load-export-{ext}")
