"""Recorded end-to-end runs in the browser, shared by the assertions of a test module.

Processing a meeting takes a while on two cores, so each run happens once per module: open a
meeting, upload the synthetic standup through the form, then watch the live view until the
job completes, with RECORDER_SCRIPT noting everything the page shows on the way. A run may
kill the Ingress replicas once the first lines are on screen, so the page has to reconnect.
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
    recorded_progress,
    session_token,
)
from tests.browser.replicas import kill_ingress_replicas, wait_for_replacement
from tests.integration.conftest import wait_ready

logger = logging.getLogger(__name__)

JOB_TIMEOUT_S = 240
POLL_INTERVAL_S = 0.2


@dataclass(frozen=True)
class Sample:
    lines: int
    status: str
    connection: str


@dataclass
class LiveRun:
    name: str
    meeting_id: str
    server: ServerView
    page: Page
    account: Account | None = None
    console_errors: list[str] = field(default_factory=list)
    upload_progress: int | None = None
    killed_replicas: list[str] = field(default_factory=list)
    lines_at_kill: int | None = None
    screenshots: dict[str, Path] = field(default_factory=dict)


def open_page(context: BrowserContext) -> Page:
    """A page of `context` with the recorder installed before the app's own scripts run."""
    context.add_init_script(RECORDER_SCRIPT)
    return context.new_page()


def take_sample(page: Page) -> Sample:
    state = page.evaluate(
        """() => ({
            lines: document.querySelectorAll('[data-testid=transcript-line]').length,
            status: document.querySelector('[data-testid=stage-panel]')?.dataset.status ?? '',
            connection: document.querySelector('[data-testid=connection-status]')
                ?.dataset.state ?? '' })"""
    )
    return Sample(int(state["lines"]), str(state["status"]), str(state["connection"]))


def upload_through_form(page: Page, audio: Path) -> int:
    """Uploads with the form; returns the progress (0-100) the bar shows when it is done."""
    page.get_by_test_id("upload-input").set_input_files(audio)
    page.get_by_test_id("upload-submit").click()
    message = page.get_by_test_id("upload-message")
    expect(message).to_contain_text(f"Uploaded {audio.name}", timeout=60_000)
    bar = page.get_by_test_id("upload-progress")
    return int(bar.get_attribute("data-progress") or -1)


def shoot(run: LiveRun, name: str, artifacts: Path) -> None:
    path = artifacts / f"{run.name}-{name}.png"
    run.page.screenshot(path=path, full_page=True)
    run.screenshots[name] = path


def watch_until_completed(run: LiveRun, artifacts: Path, drop_socket: bool) -> None:
    """Polls the view until the job completes, taking screenshots (and the Ingress) down."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        sample = take_sample(run.page)
        if sample.status in {"completed", "failed"}:
            return
        if sample.lines > 0 and "midstream" not in run.screenshots:
            shoot(run, "midstream", artifacts)
        if drop_socket and sample.lines > 0 and not run.killed_replicas:
            run.lines_at_kill = sample.lines
            run.killed_replicas = kill_ingress_replicas()
        if sample.connection == "reconnecting" and "reconnecting" not in run.screenshots:
            shoot(run, "reconnecting", artifacts)
        time.sleep(POLL_INTERVAL_S)
    raise TimeoutError(f"the page did not show a finished job within {JOB_TIMEOUT_S}s")


def record_live_run(
    page: Page, base_url: str, audio: Path, artifacts: Path, name: str, drop_socket: bool = False
) -> LiveRun:
    """From the signed-in meetings page: create a meeting, upload, watch it to the end."""
    meeting_id = create_meeting(page, f"Browser standup ({name})")
    run = LiveRun(name, meeting_id, ServerView(base_url, meeting_id, session_token(page)), page)
    run.upload_progress = upload_through_form(page, audio)
    try:
        watch_until_completed(run, artifacts, drop_socket)
        expect(page.get_by_test_id("summary-text")).to_be_visible(timeout=30_000)
        connection = page.get_by_test_id("connection-status")
        expect(connection).to_have_attribute("data-state", "connected")
        shoot(run, "finished", artifacts)
    finally:
        save_progress(run, artifacts / f"{name}-progress.json")
        restore_platform(run, base_url)
    return run


def save_progress(run: LiveRun, path: Path) -> None:
    """What the page showed over time, for reading a failure after the fact."""
    rows = [asdict(p) for p in recorded_progress(run.page)]
    path.write_text(json.dumps({"lines_at_kill": run.lines_at_kill, "progress": rows}, indent=1))


def restore_platform(run: LiveRun, base_url: str) -> None:
    """The cluster is shared: wait until the replaced Ingress answers /readyz again."""
    if run.killed_replicas:
        wait_for_replacement(run.killed_replicas)
    wait_ready(base_url, timeout_s=120)
