"""The app runs offline: no page asks a server beyond this machine for anything, the tab icon included.

The ``new_page`` fixture fails any test whose pages made a request that leaves the machine; this test walks
the main pages so that a page-wide request (as the tab icon was) is caught even where no other test looks.
"""

from __future__ import annotations

import pytest
from harness import go_to, leaves_machine, open_app

pytestmark = pytest.mark.e2e


def test_main_pages_request_nothing_outside_and_the_tab_icon_is_ours(page, app_url):
    open_app(page, app_url)  # the Library page
    for title in ("Browse", "Clean", "Components"):
        go_to(page, title)
        icon = page.locator("link[rel='shortcut icon']").get_attribute("href")
        assert icon and not leaves_machine(page.evaluate("(href) => new URL(href, location.href).href", icon)), icon
        assert "/media/" in icon  # the shipped assets/icon.png, served by the app
