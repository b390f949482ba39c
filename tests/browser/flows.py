"""User flows and page probes shared by the browser tests (Playwright sync API)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.integration.client import PASSWORD

LINE = "[data-testid=transcript-line]"

# Records, from the first paint on, every connection state, every live-region text and every
# (line count, job status) pair the page shows, in order: polling from Python would miss a
# "reconnecting" that lasts 100 ms or a window of lines followed quickly by the next one.
RECORDER_SCRIPT = """
(() => {
  window.__states = [];
  window.__announcements = [];
  window.__progress = [];
  const pushChanged = (list, value, same) => {
    if (list.length === 0 || !same(list[list.length - 1], value)) list.push(value);
  };
  const record = () => {
    const status = document.querySelector('[data-testid=connection-status]');
    if (status && status.dataset.state) {
      pushChanged(window.__states, status.dataset.state, (a, b) => a === b);
    }
    const live = document.querySelector('[data-testid=live-announcer]');
    const text = live ? live.textContent.trim() : '';
    if (text) pushChanged(window.__announcements, text, (a, b) => a === b);
    const stage = document.querySelector('[data-testid=stage-panel]');
    const progress = {
      at: performance.now(),
      lines: document.querySelectorAll('[data-testid=transcript-line]').length,
      status: (stage && stage.dataset.status) || '',
    };
    pushChanged(window.__progress, progress,
      (a, b) => a.lines === b.lines && a.status === b.status);
  };
  new MutationObserver(record).observe(document, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ['data-state', 'data-status'],
  });
})();
"""


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    name: str


def register_and_log_in(page: Page) -> Account:
    """Registers through the form (which signs in), logs out, then logs in through the form."""
    account = Account(f"browser-{uuid.uuid4().hex[:10]}@example.com", PASSWORD, "Browser Tester")
    page.goto("/register")
    form = page.get_by_test_id("register-form")
    form.get_by_label("Name (optional)").fill(account.name)
    form.get_by_label("Email").fill(account.email)
    form.get_by_label("Password").fill(account.password)
    form.get_by_role("button", name="Register").click()
    expect(page.get_by_test_id("current-user")).to_have_text(account.name)
    page.get_by_role("button", name="Log out").click()
    login = page.get_by_test_id("login-form")
    login.get_by_label("Email").fill(account.email)
    login.get_by_label("Password").fill(account.password)
    login.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("current-user")).to_have_text(account.name)
    return account


def create_meeting(page: Page, title: str) -> str:
    """Creates a meeting from the meetings page; returns its id from the live view's URL."""
    form = page.get_by_test_id("create-meeting-form")
    form.get_by_label("Title").fill(title)
    form.get_by_role("button", name="Create meeting").click()
    page.wait_for_url(re.compile(r"/meetings/[^/]+$"))
    expect(page.get_by_test_id("meeting-title")).to_have_text(title)
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "connected")
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def session_token(page: Page) -> str:
    token = page.evaluate("localStorage.getItem('token')")
    assert isinstance(token, str) and token, "the page holds no session token"
    return token


@dataclass(frozen=True)
class DomLine:
    seq: int
    speaker: str
    text: str


def dom_lines(page: Page) -> list[DomLine]:
    rows = page.eval_on_selector_all(
        LINE,
        """els => els.map(el => ({
            seq: Number(el.dataset.seq), speaker: el.dataset.speaker,
            text: el.querySelector('.transcript__text').textContent }))""",
    )
    return [DomLine(r["seq"], r["speaker"], r["text"]) for r in rows]


def recorded(page: Page, name: str) -> list[str]:
    """What RECORDER_SCRIPT saw: `states` or `announcements`."""
    values = page.evaluate(f"window.__{name} || []")
    return [str(v) for v in values]


@dataclass(frozen=True)
class Progress:
    at_ms: float
    lines: int
    status: str


def recorded_progress(page: Page) -> list[Progress]:
    """Every (line count, job status) pair the page showed, in order."""
    rows = page.evaluate("window.__progress || []")
    return [Progress(r["at"], r["lines"], r["status"]) for r in rows]


@dataclass(frozen=True)
class ServerView:
    """The meeting as the REST API reports it, fetched with the page's own token."""

    base_url: str
    meeting_id: str
    token: str

    def get(self, path: str, **params: Any) -> httpx.Response:
        response = httpx.get(
            f"{self.base_url}/api/meetings/{self.meeting_id}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response

    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.get("/events", limit=5000).json()["events"]
        return events

    def transcript_segments(self) -> list[dict[str, Any]]:
        segments: list[dict[str, Any]] = self.get("/transcript", format="json").json()["segments"]
        return segments
