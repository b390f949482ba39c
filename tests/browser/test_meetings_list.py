"""The meetings list in headless Chromium: the newest page first, older pages on demand."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import console_errors
from tests.browser.flows import register_and_log_in, session_token
from tests.integration.conftest import RunningPlatform

PAGE = 50  # web/src/lib/api.js MEETINGS_PAGE
MEETINGS = PAGE + 3


def test_older_meetings_load_on_demand(page: Page, platform: RunningPlatform) -> None:
    errors = console_errors(page)
    register_and_log_in(page)
    headers = {"Authorization": f"Bearer {session_token(page)}"}
    with httpx.Client(base_url=platform.base_url, headers=headers) as client:
        for i in range(MEETINGS):
            assert client.post("/api/meetings", json={"title": f"m{i}"}).status_code == 201
    newest_first = [f"m{i}" for i in reversed(range(MEETINGS))]

    page.goto("/")
    items = page.get_by_test_id("meeting-item")
    expect(items).to_have_count(PAGE)
    assert items.get_by_role("link").all_inner_texts() == newest_first[:PAGE]
    page.get_by_test_id("meetings-more").click()
    expect(items).to_have_count(MEETINGS)
    assert items.get_by_role("link").all_inner_texts() == newest_first
    expect(page.get_by_test_id("meetings-more")).to_have_count(0)
    assert errors == []
