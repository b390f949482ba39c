"""Keyboard-only use of the live meeting view: caption size and upload without a mouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.a11y import focus_is_visible, focused_test_id, tab_to
from tests.integration.client import ApiUser, register
from tests.integration.conftest import RunningPlatform


@pytest.fixture(scope="module")
def keyboard_user(platform: RunningPlatform) -> ApiUser:
    # One account over the API for the module: the login rate limit (10 a minute per client)
    # is shared with the other browser tests, and the register form is covered elsewhere.
    return register(platform.base_url, platform.ws_url)


@pytest.fixture
def open_fresh_meeting(page: Page, keyboard_user: ApiUser) -> None:
    """A new meeting, freshly loaded, so focus starts at the top of the page."""
    meeting_id = keyboard_user.create_meeting("Keyboard check")
    page.goto("/login")
    page.evaluate("token => localStorage.setItem('token', token)", keyboard_user.token)
    page.goto(f"/meetings/{meeting_id}")
    expect(page.get_by_test_id("meeting-title")).to_have_text("Keyboard check")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "connected")


@pytest.mark.usefixtures("open_fresh_meeting")
def test_first_tab_reaches_the_skip_link(page: Page) -> None:
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.usefixtures("open_fresh_meeting")
def test_caption_size_changes_with_tab_and_enter(page: Page) -> None:
    size = page.get_by_test_id("caption-size")
    assert size.inner_text() == "18px"
    tab_to(page, "caption-smaller")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(size).to_have_text("16px")
    page.keyboard.press("Tab")
    assert focused_test_id(page) == "caption-larger"
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(size).to_have_text("20px")
    # Remembered for the next visit.
    page.reload()
    expect(page.get_by_test_id("caption-size")).to_have_text("20px")


@pytest.mark.usefixtures("open_fresh_meeting")
def test_upload_works_from_the_keyboard(page: Page, tmp_path: Path) -> None:
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("these are meeting notes, not audio\n")
    # A listener switches file chooser interception on now; expect_file_chooser() alone
    # switches it on lazily and can lose the race with the key press.
    page.on("filechooser", lambda _chooser: None)
    tab_to(page, "upload-input")
    assert focus_is_visible(page)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(not_audio)
    page.keyboard.press("Tab")
    assert focused_test_id(page) == "upload-submit"
    page.keyboard.press("Enter")
    # The server refuses a file it cannot decode; the page says so in an alert.
    error = page.get_by_test_id("upload-error")
    expect(error).to_contain_text("not a supported audio format", timeout=30_000)
    assert error.get_attribute("role") == "alert"
    assert page.get_by_test_id("upload-message").count() == 0
