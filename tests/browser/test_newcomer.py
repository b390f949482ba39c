"""The newcomer's whole journey in headless Chromium, starting logged out at `/`.

The first thing every new user sees: `make run` prints http://127.0.0.1:8000/, they open it,
are sent to the login page, register, create a meeting, upload a recording, watch the
transcript arrive, download an SRT and log out. Every step goes through the page itself
(links, forms, file input, buttons); nothing is set up through the API.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from scripts.synth_meeting import ensure_meeting
from tests.browser.conftest import console_errors, new_context
from tests.browser.flows import create_meeting, dom_lines, recorded_progress
from tests.browser.live_run import JOB_TIMEOUT_S, open_page, upload_through_form
from tests.integration.client import PASSWORD, register
from tests.integration.conftest import RunningPlatform

SRT_CUE = re.compile(r"^\d+\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\n.+", re.M)


def path_of(page: Page) -> str:
    return str(page.evaluate("location.pathname + location.search"))


def land_on_login_from_root(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", level=1, name="Log in")).to_be_visible()
    expect(page.get_by_test_id("login-form").get_by_label("Email")).to_be_visible()


def register_through_the_link(page: Page, email: str, name: str) -> None:
    page.get_by_role("link", name="Register").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    form = page.get_by_test_id("register-form")
    form.get_by_label("Name (optional)").fill(name)
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1, name="Meetings")).to_be_visible()
    assert path_of(page) == "/"
    expect(page.get_by_test_id("current-user")).to_have_text(name)


def upload_and_watch(page: Page, audio: Path) -> None:
    assert upload_through_form(page, audio) == 100
    # While the job runs, Upload is disabled and the page says why.
    expect(page.get_by_test_id("upload-busy")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("upload-submit")).to_be_disabled()
    stage = page.get_by_test_id("stage-panel")
    expect(stage).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_S * 1000)
    expect(page.get_by_test_id("upload-submit")).to_be_enabled()


def download_srt(page: Page, meeting_id: str, artifacts_dir: Path) -> str:
    with page.expect_download() as download_info:
        page.get_by_test_id("export-srt").click()
    download = download_info.value
    assert download.suggested_filename == f"{meeting_id}.srt"
    saved = artifacts_dir / "newcomer.srt"
    download.save_as(saved)
    return saved.read_text(encoding="utf-8")


def test_newcomer_journey_from_the_root_url(
    browser: Browser, platform: RunningPlatform, artifacts_dir: Path
) -> None:
    audio = ensure_meeting("planning2", install=True).audio_path
    context = new_context(browser, platform)
    try:
        page = open_page(context)
        errors = console_errors(page)
        land_on_login_from_root(page)
        register_through_the_link(page, f"newcomer-{uuid.uuid4().hex[:10]}@example.com", "Nia")
        meeting_id = create_meeting(page, "My first meeting")
        upload_and_watch(page, audio)

        # Lines arrived while the job ran, not all at once at the end. (planning2 is one 36 s
        # window, whose lines reach the page together, in one batch frame.)
        progress = recorded_progress(page)
        running = [p.lines for p in progress if p.status == "processing"]
        assert max(running, default=0) > 0, progress
        assert progress[-1].status == "completed" and progress[-1].lines == max(running)
        lines = dom_lines(page)
        assert lines and all(line.text.strip() for line in lines)

        srt = download_srt(page, meeting_id, artifacts_dir)
        assert len(SRT_CUE.findall(srt)) == len(lines)

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", level=1, name="Log in")).to_be_visible()
        assert path_of(page) == "/login"
        assert page.evaluate("localStorage.getItem('token')") is None
        assert errors == []
    finally:
        context.close()


def test_deep_link_returns_to_the_meeting_after_logging_in(
    browser: Browser, platform: RunningPlatform
) -> None:
    user = register(platform.base_url, platform.ws_url)
    meeting_id = user.create_meeting("Shared by link")
    context = new_context(browser, platform)
    try:
        page = context.new_page()
        page.goto(f"/meetings/{meeting_id}")
        expect(page.get_by_test_id("login-form")).to_be_visible()
        assert path_of(page) == f"/login?next=%2Fmeetings%2F{meeting_id}"
        form = page.get_by_test_id("login-form")
        form.get_by_label("Email").fill(user.email)
        form.get_by_label("Password").fill(PASSWORD)
        form.get_by_role("button", name="Log in").click()
        expect(page.get_by_test_id("meeting-title")).to_have_text("Shared by link")
        assert path_of(page) == f"/meetings/{meeting_id}"
        # The redirect replaced its history entry: Back leaves the app instead of bouncing.
        page.go_back()
        expect(page.get_by_test_id("meeting-title")).to_have_count(0)
    finally:
        context.close()
