"""The Record button in headless Chromium: the real microphone path end to end.

Chromium's fake capture device plays the synthetic planning meeting (a 16 kHz WAV) as the
microphone, so the page runs getUserMedia → AudioWorklet (resampling the context's rate to
16 kHz PCM16) → the live audio socket → the platform's live session. Transcript lines must
appear on the page while the recording is still running, and Stop must end in `completed`
with a summary. This needs its own Chromium: the fake-media flags are launch arguments.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from scripts.synth_meeting import ensure_meeting
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, console_errors, new_context
from tests.browser.flows import LINE, RECORDER_SCRIPT, ServerView, dom_lines, recorded_progress
from tests.integration.client import register
from tests.integration.conftest import RunningPlatform

logger = logging.getLogger(__name__)

RECORD_S = 25.0  # the WAV is 36 s; Chromium loops it, so stop well before the end
FIRST_LINE_TIMEOUT_MS = 60_000
COMPLETED_TIMEOUT_MS = 240_000
# Words of the planning script's opening minute; the CPU model must get at least one right.
EXPECTED_WORDS = {"sprint", "migration", "billing", "joining", "plan", "vendor", "weeks"}


@dataclass
class RecordRun:
    page: Page
    server: ServerView
    lines_while_recording: int
    statuses_while_recording: list[str]
    lag_while_recording: str
    recorded_s: float
    console_errors: list[str]
    screenshot: Path


def fake_microphone_args(wav: Path) -> list[str]:
    return [
        "--use-fake-ui-for-media-stream",  # grant the permission prompt
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav.resolve()}",
        "--autoplay-policy=no-user-gesture-required",
    ]


@pytest.fixture(scope="module")
def mic_browser(playwright_driver: Playwright) -> Iterator[Browser]:
    wav = ensure_meeting("planning2", install=True).audio_path
    chromium = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + fake_microphone_args(wav), headless=True
    )
    yield chromium
    chromium.close()


def record_status(page: Page) -> str:
    return str(page.get_by_test_id("record-status").get_attribute("data-status") or "")


def record_until(page: Page, seconds: float) -> tuple[int, list[str]]:
    """Waits until `seconds` of audio were captured; returns lines seen and record statuses."""
    statuses: list[str] = []
    deadline = time.monotonic() + seconds + 60
    while time.monotonic() < deadline:
        status = record_status(page)
        if not statuses or statuses[-1] != status:
            statuses.append(status)
        elapsed = page.get_by_test_id("record-elapsed").inner_text()
        minutes, secs = (int(part) for part in elapsed.split(":"))
        if minutes * 60 + secs >= seconds:
            return page.locator(LINE).count(), statuses
        time.sleep(0.25)
    pytest.fail(f"only {elapsed} recorded after {seconds + 60:.0f} s; statuses {statuses}")


@pytest.fixture(scope="module")
def record_run(
    mic_browser: Browser, platform: RunningPlatform, artifacts_dir: Path
) -> Iterator[RecordRun]:
    user = register(platform.base_url, platform.ws_url)
    meeting_id = user.create_meeting("Browser recording")
    context = new_context(mic_browser, platform)
    try:
        context.add_init_script(RECORDER_SCRIPT)
        page = context.new_page()
        errors = console_errors(page)
        page.goto("/login")
        page.evaluate("token => localStorage.setItem('token', token)", user.token)
        page.goto(f"/meetings/{meeting_id}")
        expect(page.get_by_test_id("connection-status")).to_have_attribute(
            "data-state", "connected"
        )
        started = time.monotonic()
        page.get_by_test_id("record-button").click()
        expect(page.get_by_test_id("record-status")).to_have_attribute("data-status", "recording")
        expect(page.locator(LINE).first).to_be_visible(timeout=FIRST_LINE_TIMEOUT_MS)
        logger.info("first line %.1f s after Record", time.monotonic() - started)
        lines, statuses = record_until(page, RECORD_S)
        lag = page.get_by_test_id("record-lag").inner_text()
        page.screenshot(path=str(artifacts_dir / "record-recording.png"), full_page=True)
        page.get_by_test_id("record-button").click()
        stage = page.get_by_test_id("stage-panel")
        expect(stage).to_have_attribute("data-status", "completed", timeout=COMPLETED_TIMEOUT_MS)
        expect(page.get_by_test_id("summary-text")).to_be_visible()
        expect(page.get_by_test_id("record-status")).to_have_attribute("data-status", "stopped")
        shot = artifacts_dir / "record-completed.png"
        page.screenshot(path=str(shot), full_page=True)
        elapsed = page.get_by_test_id("record-elapsed").inner_text()
        minutes, secs = (int(part) for part in elapsed.split(":"))
        yield RecordRun(
            page,
            ServerView(platform.base_url, meeting_id, user.token),
            lines,
            statuses,
            lag,
            float(minutes * 60 + secs),
            errors,
            shot,
        )
    finally:
        context.close()


def test_lines_appear_while_recording(record_run: RecordRun) -> None:
    # Lines were on the page before Stop was pressed, while the recorder still said recording.
    assert record_run.lines_while_recording >= 1
    assert record_run.statuses_while_recording == ["recording"]
    running = [p for p in recorded_progress(record_run.page) if p.status == "processing"]
    assert any(p.lines > 0 for p in running), running


def test_recording_completes_with_summary_and_matches_the_server(record_run: RecordRun) -> None:
    page = record_run.page
    meeting = record_run.server.get("").json()
    assert meeting["status"] == "completed"
    assert page.get_by_test_id("summary-text").inner_text().strip()
    lines = dom_lines(page)
    segments = record_run.server.transcript_segments()
    assert [line.text.strip() for line in lines] == [s["text"].strip() for s in segments]
    assert len(lines) >= record_run.lines_while_recording
    assert RECORD_S <= record_run.recorded_s <= RECORD_S + 5


def test_microphone_audio_was_transcribed(record_run: RecordRun) -> None:
    # The words prove the PCM arrived as 16 kHz speech (a wrong rate or byte order is noise).
    words = {
        w.strip(".,?!").lower() for line in dom_lines(record_run.page) for w in line.text.split()
    }
    assert words & EXPECTED_WORDS, sorted(words)


def test_live_status_reported_lag_and_page_logged_no_errors(record_run: RecordRun) -> None:
    lags = [
        e["details"]["lag_s"]
        for e in record_run.server.events()
        if e.get("type") == "status" and "lag_s" in (e.get("details") or {})
    ]
    assert lags, "no live status event carried lag_s"
    assert re.fullmatch(r"\s*Processing lag: \d+\.\d s\.", record_run.lag_while_recording)
    assert all(lag >= 0 for lag in lags)
    assert record_run.console_errors == []
    assert record_run.screenshot.is_file()
