"""One recorded end-to-end run in the browser, shared by the assertions in test_live_meeting.py.

Processing a meeting takes most of a minute on two cores, so the run happens once: register,
log in, create a meeting, upload through the form, then watch the live view until the job
completes, sampling the transcript while it grows and killing the Ingress replicas mid-stream
so the page has to reconnect and resume. Everything the tests need is recorded on the way.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.flows import (
    RECORDER_SCRIPT,
    Account,
    ServerView,
    create_meeting,
    register_and_log_in,
    session_token,
)
from tests.browser.replicas import kill_ingress_replicas, wait_for_replacement
from tests.integration.conftest import wait_ready

logger = logging.getLogger(__name__)

JOB_TIMEOUT_S = 240
SAMPLE_INTERVAL_S = 0.5
MEETING_TITLE = "Browser standup"
# The server is made to drop the socket once the transcript has grown this many times (window
# by window): growth is on record, and later windows still arrive while the page is away.
KILL_AFTER_GROWTHS = 2


@dataclass(frozen=True)
class Sample:
    at: float
    lines: int
    status: str
    connection: str


@dataclass
class LiveRun:
    account: Account
    meeting_id: str
    server: ServerView
    page: Page
    upload_progress: int | None = None
    samples: list[Sample] = field(default_factory=list)
    killed_replicas: list[str] = field(default_factory=list)
    lines_at_kill: int | None = None
    screenshots: dict[str, Path] = field(default_factory=dict)

    def samples_before_completion(self) -> list[Sample]:
        return [s for s in self.samples if s.status != "completed"]

    def distinct_line_counts(self) -> list[int]:
        """The non-zero line counts seen before completion, in order."""
        return sorted({s.lines for s in self.samples_before_completion() if s.lines > 0})


def take_sample(page: Page) -> Sample:
    state = page.evaluate(
        """() => ({
            lines: document.querySelectorAll('[data-testid=transcript-line]').length,
            status: document.querySelector('[data-testid=stage-panel]')?.dataset.status ?? '',
            connection: document.querySelector('[data-testid=connection-status]')
                ?.dataset.state ?? '' })"""
    )
    return Sample(time.monotonic(), int(state["lines"]), str(state["status"]), state["connection"])


def upload_through_form(page: Page, audio: Path) -> int:
    """Uploads with the form; returns the progress (0-100) the bar shows when it is done."""
    page.get_by_test_id("upload-input").set_input_files(audio)
    page.get_by_test_id("upload-submit").click()
    message = page.get_by_test_id("upload-message")
    expect(message).to_contain_text(f"Uploaded {audio.name}", timeout=60_000)
    bar = page.get_by_test_id("upload-progress")
    return int(bar.get_attribute("data-progress") or -1)


def shoot(run: LiveRun, name: str, artifacts: Path) -> None:
    path = artifacts / f"{name}.png"
    run.page.screenshot(path=path, full_page=True)
    run.screenshots[name] = path


def watch_until_completed(run: LiveRun, artifacts: Path) -> None:
    """Samples the view until the job completes; drops the socket once lines are flowing."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        sample = take_sample(run.page)
        run.samples.append(sample)
        if sample.status in {"completed", "failed"}:
            return
        growths = len(run.distinct_line_counts())
        if not run.killed_replicas and growths >= KILL_AFTER_GROWTHS:
            shoot(run, "live-midstream", artifacts)
            run.lines_at_kill = sample.lines
            run.killed_replicas = kill_ingress_replicas()
        if sample.connection == "reconnecting" and "reconnecting" not in run.screenshots:
            shoot(run, "reconnecting", artifacts)
        time.sleep(SAMPLE_INTERVAL_S)
    raise TimeoutError(f"the page did not show a finished job within {JOB_TIMEOUT_S}s")


def record_live_run(
    context: BrowserContext, base_url: str, audio: Path, artifacts: Path
) -> LiveRun:
    """Runs the whole flow once; leaves the page on the finished meeting."""
    context.add_init_script(RECORDER_SCRIPT)
    page = context.new_page()
    account = register_and_log_in(page)
    page.get_by_role("heading", name="Meetings", exact=True).wait_for()
    meeting_id = create_meeting(page, MEETING_TITLE)
    run = LiveRun(account, meeting_id, ServerView(base_url, meeting_id, session_token(page)), page)
    run.upload_progress = upload_through_form(page, audio)
    try:
        watch_until_completed(run, artifacts)
        expect(page.get_by_test_id("summary-text")).to_be_visible(timeout=30_000)
        connection = page.get_by_test_id("connection-status")
        expect(connection).to_have_attribute("data-state", "connected")
        shoot(run, "finished", artifacts)
    finally:
        save_samples(run, artifacts / "samples.json")
        restore_platform(run, base_url)
    return run


def save_samples(run: LiveRun, path: Path) -> None:
    """What the page showed over time, for reading a failure after the fact."""
    start = run.samples[0].at if run.samples else 0.0
    rows = [{**asdict(s), "at": round(s.at - start, 2)} for s in run.samples]
    path.write_text(json.dumps({"lines_at_kill": run.lines_at_kill, "samples": rows}, indent=1))


def restore_platform(run: LiveRun, base_url: str) -> None:
    """The cluster is shared: wait until the replaced Ingress answers /readyz again."""
    if run.killed_replicas:
        wait_for_replacement(run.killed_replicas)
    wait_ready(base_url, timeout_s=120)
