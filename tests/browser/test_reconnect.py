"""The server drops the room socket mid-stream: the page says "reconnecting", resumes from the
last seq it saw and ends with exactly the server's transcript, no line doubled or lost.

The drop is real: every Ingress replica (where the sockets terminate) is killed with ray.kill
once the first lines are on screen, and Serve starts a replacement while the job keeps running
in the Processor. The shared cluster is back to /readyz 200 before the fixture returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from scripts.synth_meeting import ensure_meeting
from tests.browser.conftest import new_context
from tests.browser.flows import dom_lines, recorded
from tests.browser.live_run import LiveRun, open_page, record_live_run
from tests.integration.client import register
from tests.integration.conftest import RunningPlatform


@pytest.fixture(scope="module")
def reconnect_run(
    browser: Browser, platform: RunningPlatform, artifacts_dir: Path
) -> Iterator[LiveRun]:
    audio = ensure_meeting("standup3", install=True).audio_path
    # Signed in over the API: the forms are covered by test_live_meeting, and the login rate
    # limit (10 a minute per client) is shared by every browser test.
    user = register(platform.base_url, platform.ws_url)
    context = new_context(browser, platform)
    try:
        page = open_page(context)
        page.goto("/login")
        page.evaluate("token => localStorage.setItem('token', token)", user.token)
        page.goto("/")
        page.get_by_role("heading", name="Meetings", exact=True).wait_for()
        yield record_live_run(
            page, platform.base_url, audio, artifacts_dir, name="reconnect", drop_socket=True
        )
    finally:
        context.close()


def test_page_shows_reconnecting_then_connected(reconnect_run: LiveRun) -> None:
    assert reconnect_run.killed_replicas, "the Ingress was never killed"
    states = recorded(reconnect_run.page, "states")
    first_connected = states.index("connected")
    assert "reconnecting" in states[first_connected:], states
    assert states[-1] == "connected", states
    assert "offline" not in states, states
    assert reconnect_run.page.get_by_test_id("socket-error").count() == 0
    assert "reconnecting" in reconnect_run.screenshots


def test_final_lines_match_the_server_without_duplicates_or_gaps(reconnect_run: LiveRun) -> None:
    lines = dom_lines(reconnect_run.page)
    events = reconnect_run.server.events()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    expected = [
        (e["seq"], e["segment"]["speaker"], e["segment"]["text"])
        for e in events
        if e["type"] == "transcript"
    ]
    assert [(line.seq, line.speaker, line.text) for line in lines] == expected
    segments = reconnect_run.server.transcript_segments()
    assert [(line.speaker, line.text) for line in lines] == [
        (s["speaker"], s["text"]) for s in segments
    ]
    # Some lines were produced while the page was away: the resume really had work to do.
    assert reconnect_run.lines_at_kill is not None
    assert 0 < reconnect_run.lines_at_kill < len(lines)


def test_finished_view_after_the_resume(reconnect_run: LiveRun) -> None:
    page = reconnect_run.page
    assert page.get_by_test_id("stage-panel").get_attribute("data-status") == "completed"
    summary = reconnect_run.server.get("/summary").json()
    assert page.get_by_test_id("summary-text").inner_text() == summary["summary"]
    # A summary that arrived during the outage is still announced once the page is back.
    assert recorded(page, "announcements")[-1] == "The summary and action items are ready."
