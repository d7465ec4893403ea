"""The HTML report in Chromium with the network off: no console error, no request leaves the file, every
figure drawn, no caption's script run, readable on a phone."""

import pytest

from tests.report_support import sample_report

pytestmark = pytest.mark.e2e


def test_html_report_opens_offline_in_chromium(browser, physionet_recording, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(sample_report(physionet_recording).html(), encoding="utf-8")
    errors, outside = [], []
    context = browser.new_context(offline=True, viewport={"width": 390, "height": 844})  # a phone
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None
        )
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.plot .main-svg').length >= 2", timeout=30000)
        drawn = page.evaluate(
            "[...document.querySelectorAll('.plot')].map(d => d.querySelectorAll('.scatterlayer .trace').length)"
        )
        pwned = page.evaluate("window.__pwned === undefined")
        width = page.evaluate("document.documentElement.scrollWidth")
    finally:
        context.close()
    assert not errors and not outside
    assert len(drawn) == 2 and all(n > 0 for n in drawn)
    assert pwned and width <= 400  # no script from the captions ran; readable on a phone
