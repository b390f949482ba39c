"""The live meeting view in headless Chromium against the real platform (CPU profile).

One recorded run (tests/browser/live_run.py) feeds every assertion: transcript lines appear
while the job runs, the page survives the server dropping its socket mid-stream without a
duplicate or a missing line, and the summary, action items and exports match the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from scripts.synth_meeting import ensure_meeting
from tests.browser.a11y import text_contrast
from tests.browser.conftest import new_context
from tests.browser.flows import dom_lines, recorded
from tests.browser.live_run import MEETING_TITLE, LiveRun, record_live_run
from tests.integration.conftest import RunningPlatform

# "Speaker 01 at 00:12: text" (LiveMeeting's announcement for one new line).
ANNOUNCEMENT = re.compile(r"^(?P<speaker>.+) at (?P<clock>\d{2}:\d{2}): (?P<text>.*)$", re.S)


@pytest.fixture(scope="module")
def live_run(browser: Browser, platform: RunningPlatform, artifacts_dir: Path) -> Iterator[LiveRun]:
    audio = ensure_meeting("standup3", install=True).audio_path
    context = new_context(browser, platform)
    try:
        yield record_live_run(context, platform.base_url, audio, artifacts_dir)
    finally:
        context.close()


def test_signed_in_user_owns_the_new_meeting(live_run: LiveRun) -> None:
    page = live_run.page
    assert page.get_by_test_id("current-user").inner_text() == live_run.account.name
    assert page.get_by_test_id("meeting-title").inner_text() == MEETING_TITLE
    meeting = live_run.server.get("").json()
    assert (meeting["title"], meeting["status"]) == (MEETING_TITLE, "completed")
    assert live_run.upload_progress == 100


def test_transcript_lines_appear_while_the_job_runs(live_run: LiveRun) -> None:
    counts = [s.lines for s in live_run.samples_before_completion()]
    assert counts == sorted(counts), "the number of lines on screen went down"
    # Lines arrive window by window, not all at the end: at least two different non-empty
    # transcripts were on screen while the job was still running, then more at the end.
    growing = live_run.distinct_line_counts()
    assert len(growing) >= 2, counts
    assert growing[0] < growing[1] < len(dom_lines(live_run.page))


def test_dropped_socket_shows_reconnecting_then_resumes(live_run: LiveRun) -> None:
    assert live_run.killed_replicas, "the Ingress was never killed (job finished too early?)"
    states = recorded(live_run.page, "states")
    first_connected = states.index("connected")
    assert "reconnecting" in states[first_connected:], states
    assert states[-1] == "connected", states
    assert "offline" not in states, states
    assert live_run.page.get_by_test_id("socket-error").count() == 0
    assert "reconnecting" in live_run.screenshots


def test_final_lines_match_the_server_without_duplicates_or_gaps(live_run: LiveRun) -> None:
    lines = dom_lines(live_run.page)
    events = live_run.server.events()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    expected = [
        (e["seq"], e["segment"]["speaker"], e["segment"]["text"])
        for e in events
        if e["type"] == "transcript"
    ]
    assert [(line.seq, line.speaker, line.text) for line in lines] == expected
    segments = live_run.server.transcript_segments()
    assert [(line.speaker, line.text) for line in lines] == [
        (s["speaker"], s["text"]) for s in segments
    ]
    assert live_run.lines_at_kill is not None and len(lines) > live_run.lines_at_kill


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
    lines = {(line.text) for line in dom_lines(live_run.page)}
    line_announcements = [a for a in announcements if ANNOUNCEMENT.match(a)]
    # Every line before the drop arrived live; React may fold lines of one window together.
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


def test_text_on_the_finished_meeting_meets_wcag_aa_contrast(live_run: LiveRun) -> None:
    results = text_contrast(live_run.page)
    assert len(results) > 50  # the whole page was measured, not an empty shell
    failing = [r for r in results if r.ratio < r.required]
    assert failing == []
