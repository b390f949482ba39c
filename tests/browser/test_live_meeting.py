"""The live meeting view in headless Chromium against the real platform (CPU profile).

One recorded run (tests/browser/live_run.py) feeds every assertion: register and log in through
the forms, upload through the form, transcript lines appear while the job runs, and the
summary, action items and exports match the API. test_reconnect.py covers a dropped socket.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from scripts.synth_meeting import ensure_meeting
from tests.browser.a11y import axe_check
from tests.browser.conftest import console_errors, new_context
from tests.browser.flows import dom_lines, recorded, recorded_progress, register_and_log_in
from tests.browser.live_run import LiveRun, open_page, record_live_run
from tests.integration.conftest import RunningPlatform

TITLE = "Browser standup (live)"
# "Speaker 01 at 00:12: text" (LiveMeeting's announcement for one new line).
ANNOUNCEMENT = re.compile(r"^(?P<speaker>.+) at (?P<clock>\d{2}:\d{2}): (?P<text>.*)$", re.S)


@pytest.fixture(scope="module")
def live_run(browser: Browser, platform: RunningPlatform, artifacts_dir: Path) -> Iterator[LiveRun]:
    audio = ensure_meeting("standup3", install=True).audio_path
    context = new_context(browser, platform)
    try:
        page = open_page(context)
        errors = console_errors(page)
        account = register_and_log_in(page)
        page.get_by_role("heading", name="Meetings", exact=True).wait_for()
        run = record_live_run(page, platform.base_url, audio, artifacts_dir, name="live")
        run.account = account
        run.console_errors = errors
        yield run
    finally:
        context.close()


def test_signed_in_user_owns_the_new_meeting(live_run: LiveRun) -> None:
    page = live_run.page
    assert live_run.account is not None
    assert page.get_by_test_id("current-user").inner_text() == live_run.account.name
    assert page.get_by_test_id("meeting-title").inner_text() == TITLE
    meeting = live_run.server.get("").json()
    assert (meeting["title"], meeting["status"]) == (TITLE, "completed")
    assert live_run.upload_progress == 100


def test_page_logged_no_errors(live_run: LiveRun) -> None:
    assert live_run.console_errors == []


def test_transcript_lines_appear_while_the_job_runs(live_run: LiveRun) -> None:
    progress = recorded_progress(live_run.page)
    counts = [p.lines for p in progress]
    assert counts == sorted(counts), "the number of lines on screen went down"
    # Lines arrive window by window, not all at the end: at least two different non-empty
    # transcripts were on screen while the job was still processing, and more at the end.
    running = [p for p in progress if p.status == "processing" and p.lines > 0]
    assert len({p.lines for p in running}) >= 2, progress
    # ...spread over time as windows finish, not one burst rendered in pieces.
    first_line_at = running[0].at_ms
    last_growth_at = next(p.at_ms for p in progress if p.lines == progress[-1].lines)
    assert last_growth_at - first_line_at >= 500, progress
    assert progress[-1].status == "completed"
    assert progress[-1].lines == len(dom_lines(live_run.page))


def test_transcript_view_followed_to_the_last_line(live_run: LiveRun) -> None:
    # Nobody scrolled, so the scrolling transcript must have kept up with every burst of lines.
    box = live_run.page.evaluate(
        """() => { const list = document.querySelector('[data-testid=transcript]');
            const lines = list.querySelectorAll('[data-testid=transcript-line]');
            const last = lines[lines.length - 1].getBoundingClientRect();
            const view = list.getBoundingClientRect();
            return { scrolls: list.scrollHeight > list.clientHeight, lastTop: last.top,
                     lastBottom: last.bottom, viewTop: view.top, viewBottom: view.bottom }; }"""
    )
    assert box["scrolls"], "the transcript is short enough to fit: this check proves nothing"
    assert box["viewTop"] <= box["lastTop"] and box["lastBottom"] <= box["viewBottom"] + 1, box


def test_finished_meeting_opens_at_its_first_line(live_run: LiveRun) -> None:
    # Opened again once the job is done, the meeting is history to read from the top: its
    # replay must not pull the view down to the last lines, and there is nothing to follow.
    page = live_run.page.context.new_page()
    try:
        page.goto(live_run.page.url)
        expect(page.get_by_test_id("summary-text")).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("transcript-line")).to_have_count(len(dom_lines(live_run.page)))
        box = page.evaluate(
            """() => { const list = document.querySelector('[data-testid=transcript]');
                const first = list.querySelector('[data-testid=transcript-line]');
                return { scrolls: list.scrollHeight > list.clientHeight, top: list.scrollTop,
                         firstTop: first.getBoundingClientRect().top,
                         viewTop: list.getBoundingClientRect().top }; }"""
        )
        assert box["scrolls"], "the transcript is short enough to fit: this check proves nothing"
        assert box["top"] == 0 and box["firstTop"] >= box["viewTop"], box
        expect(page.get_by_test_id("follow-live")).to_have_count(0)
    finally:
        page.close()


def test_summary_and_action_items_match_the_api(live_run: LiveRun) -> None:
    page = live_run.page
    summary = live_run.server.get("/summary").json()
    assert page.get_by_test_id("summary-text").inner_text() == summary["summary"]
    shown = page.get_by_test_id("action-item").all_inner_texts()
    expected = summary["details"]["action_items"]
    assert len(shown) == len(expected) >= 1
    for text, item in zip(shown, expected, strict=True):
        assert text.startswith(item["text"])
    stage = page.get_by_test_id("stage")
    assert stage.get_attribute("data-stage") == "done"
    assert page.get_by_test_id("stage-progress").get_attribute("data-progress") == "100"


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json"])
def test_export_downloads_the_api_transcript(
    live_run: LiveRun, fmt: str, artifacts_dir: Path
) -> None:
    page = live_run.page
    with page.expect_download() as download_info:
        page.get_by_test_id(f"export-{fmt}").click()
    download = download_info.value
    assert download.suggested_filename == f"{live_run.meeting_id}.{fmt}"
    saved = artifacts_dir / f"export.{fmt}"
    download.save_as(saved)
    assert saved.read_text() == live_run.server.get("/transcript", format=fmt).text
    message = page.get_by_test_id("export-message").inner_text()
    assert message == f"Saved {live_run.meeting_id}.{fmt}."


def test_live_region_announces_new_lines(live_run: LiveRun) -> None:
    announcements = recorded(live_run.page, "announcements")
    lines = {line.text for line in dom_lines(live_run.page)}
    line_announcements = [a for a in announcements if ANNOUNCEMENT.match(a)]
    # The meeting was new when the page connected, so every line is live news; React may
    # fold lines that arrive together into one announcement, so not every line is read.
    assert len(line_announcements) >= 2, announcements
    for announcement in line_announcements:
        match = ANNOUNCEMENT.match(announcement)
        assert match and match["speaker"].startswith("Speaker ")
        assert match["text"] in lines
    assert announcements[-1] == "The summary and action items are ready."


def test_speakers_have_distinct_readable_colours(live_run: LiveRun) -> None:
    colours = live_run.page.eval_on_selector_all(
        "[data-testid=transcript-line]",
        """els => els.map(el => [el.dataset.speaker,
            getComputedStyle(el).borderLeftColor,
            getComputedStyle(el.querySelector('.transcript__speaker')).color])""",
    )
    by_speaker = {speaker: (border, text) for speaker, border, text in colours}
    assert len(by_speaker) == 3, by_speaker
    assert len({border for border, _ in by_speaker.values()}) == 3
    assert all(border == text for border, text in by_speaker.values())


def test_finished_meeting_with_summary_has_no_axe_violations(live_run: LiveRun) -> None:
    # axe-core at WCAG 2.2 AA (contrast, names, roles, structure) over the completed meeting,
    # transcript, summary and action items on screen.
    report = axe_check(live_run.page)
    assert report.passes > 20  # the whole page was checked, not an empty shell
    assert [str(v) for v in report.violations] == []
