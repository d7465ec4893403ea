"""The test set-up itself: a run without Chromium fails naming it; shared data is found by EEG_SHARED_DATA."""

import sys
from pathlib import Path

import pytest

from tests import conftest

sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))
from harness import require_chromium  # noqa: E402


def test_missing_chromium_fails_the_browser_tests_naming_it(tmp_path):
    absent = tmp_path / "chromium"
    with pytest.raises(pytest.fail.Exception, match=f"{absent} is missing: install Debian's chromium"):
        require_chromium(absent)


def test_present_chromium_passes(tmp_path):
    present = tmp_path / "chromium"
    present.touch()
    require_chromium(present)  # no failure


def test_shared_data_is_found_through_eeg_shared_data(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text("data")
    monkeypatch.setenv("EEG_SHARED_DATA", str(tmp_path))
    assert conftest._find_shared_data() == tmp_path


def test_ci_runs_the_readme_test_command():
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    assert "```bash\n.ci/test\n```" in readme
    assert ".ci/test" in (root / ".ci" / "run").read_text().splitlines()


@pytest.mark.parametrize(
    "url, outside",
    [
        ("http://127.0.0.1:8501/_stcore/health", False),
        ("http://localhost:8501/media/abc.png", False),
        ("http://[::1]:8501/", False),
        ("data:image/svg+xml,<svg/>", False),
        ("https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/neurology/default/24px.svg", True),
        ("http://10.0.0.5:8501/", True),
    ],
)
def test_the_browser_tests_count_any_non_loopback_request_as_leaving(url, outside):
    from harness import leaves_machine

    assert leaves_machine(url) is outside
