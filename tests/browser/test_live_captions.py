"""Live captions in headless Chromium: provisional words while the speaker talks, replaced in
place by the final line, and axe-core (WCAG 2.2 AA) on every page and state.

Chromium's fake capture device plays the planning meeting as the microphone (as in
test_record.py), so the words come through the real AudioWorklet → live socket → live session
→ ``transcript_partial`` path. An init script notes every partial and every final line the page
shows, with the time it first appeared, so the order "provisional, then final" is checked on
what the user saw, not on the socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from scripts.synth_meeting import ensure_meeting
from tests.browser.a11y import AxeReport, axe_check
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, console_errors, new_context
from tests.browser.flows import LINE, RECORDER_SCRIPT, recorded
from tests.browser.test_record import fake_microphone_args, record_until
from tests.integration.client import register
from tests.integration.conftest import RunningPlatform

RECORD_S = 20.0
PARTIAL = "[data-testid=transcript-partial]"
CAPTIONS_SCRIPT = """
(() => {
  window.__partials = [];
  window.__finals = {};
  const record = () => {
    for (const el of document.querySelectorAll('[data-testid=transcript-partial]')) {
      const words = el.querySelector('.transcript__text');
      const text = words ? words.textContent.trim() : '';
      const last = window.__partials[window.__partials.length - 1];
      if (text && (!last || last.id !== el.dataset.segmentId || last.text !== text)) {
        const style = getComputedStyle(words);
        window.__partials.push({ id: el.dataset.segmentId, text, at: performance.now(),
          italic: style.fontStyle, underline: style.textDecorationStyle,
          marker: el.textContent.includes('(typing…)') });
      }
    }
    for (const el of document.querySelectorAll('[data-testid=transcript-line]')) {
      const id = el.dataset.segmentId;
      if (id && !(id in window.__finals)) window.__finals[id] = performance.now();
    }
  };
  new MutationObserver(record).observe(document,
    { subtree: true, childList: true, characterData: true });
})();
"""


@dataclass
class CaptionRun:
    page: Page
    axe: dict[str, AxeReport] = field(default_factory=dict)
    partials_while_recording: int = 0
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def captions_browser(playwright_driver: Playwright) -> Iterator[Browser]:
    wav = ensure_meeting("planning2", install=True).audio_path
    chromium = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + fake_microphone_args(wav), headless=True
    )
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def caption_run(
    captions_browser: Browser, platform: RunningPlatform, artifacts_dir: Path
) -> Iterator[CaptionRun]:
    user = register(platform.base_url, platform.ws_url)
    meeting_id = user.create_meeting("Browser captions")
    context = new_context(captions_browser, platform)
    try:
        context.add_init_script(RECORDER_SCRIPT)
        context.add_init_script(CAPTIONS_SCRIPT)
        page = context.new_page()
        run = CaptionRun(page, console_errors=console_errors(page))
        page.goto("/login")
        expect(page.get_by_test_id("login-form")).to_be_visible()
        run.axe["login"] = axe_check(page)
        page.evaluate("token => localStorage.setItem('token', token)", user.token)
        page.goto("/")
        expect(page.get_by_role("heading", name="Meetings", exact=True)).to_be_visible()
        expect(page.get_by_text("Browser captions")).to_be_visible()
        run.axe["meetings list"] = axe_check(page)
        page.goto(f"/meetings/{meeting_id}")
        expect(page.get_by_test_id("connection-status")).to_have_attribute(
            "data-state", "connected"
        )
        page.get_by_test_id("record-button").click()
        expect(page.locator(f"{PARTIAL} .transcript__text").filter(has_text="a")).not_to_have_count(
            0, timeout=60_000
        )
        run.axe["live meeting with partials"] = axe_check(page)
        page.screenshot(path=str(artifacts_dir / "captions-partial.png"), full_page=True)
        record_until(page, RECORD_S)
        run.partials_while_recording = len(page.evaluate("window.__partials"))
        page.get_by_test_id("record-button").click()
        stage = page.get_by_test_id("stage-panel")
        expect(stage).to_have_attribute("data-status", "completed", timeout=240_000)
        expect(page.get_by_test_id("summary-text")).to_be_visible()
        run.axe["completed meeting with summary"] = axe_check(page)
        yield run
    finally:
        context.close()


def shown(page: Page) -> tuple[list[dict[str, Any]], dict[str, float]]:
    return page.evaluate("window.__partials"), page.evaluate("window.__finals")


def test_provisional_words_show_before_the_pause_and_the_final_line_replaces_them(
    caption_run: CaptionRun,
) -> None:
    partials, finals = shown(caption_run.page)
    assert caption_run.partials_while_recording >= 1, "no provisional words while recording"
    # Each utterance shown provisionally ended as a final line with the same segment id, and
    # the provisional words were on screen before that final line appeared.
    ids = {p["id"] for p in partials}
    assert ids and ids <= set(finals), (ids, finals)
    for p in partials:
        assert p["at"] < finals[p["id"]], p
    # Provisional by shape and words, not colour alone.
    assert all(
        p["italic"] == "italic" and p["underline"] == "dotted" and p["marker"] for p in partials
    )
    # Replaced, not duplicated: no partial is left, and one final line per segment id.
    page = caption_run.page
    assert page.locator(PARTIAL).count() == 0
    line_ids = page.eval_on_selector_all(LINE, "els => els.map(el => el.dataset.segmentId)")
    assert len(line_ids) >= len(ids)


def test_screen_readers_hear_final_lines_only(caption_run: CaptionRun) -> None:
    page = caption_run.page
    finals = {
        t.strip()
        for t in page.eval_on_selector_all(
            f"{LINE} .transcript__text", "els => els.map(el => el.textContent)"
        )
    }
    announcements = [a for a in recorded(page, "announcements") if " at " in a]
    assert announcements, "no line was announced"
    for announcement in announcements:
        assert announcement.split(": ", 1)[1].strip() in finals, announcement
    # The announcer is the only live region with speech; the transcript list itself is not.
    assert page.get_by_test_id("transcript").get_attribute("aria-live") is None


@pytest.mark.parametrize(
    "state",
    ["login", "meetings list", "live meeting with partials", "completed meeting with summary"],
)
def test_axe_finds_no_wcag_22_aa_violations(caption_run: CaptionRun, state: str) -> None:
    report = caption_run.axe[state]
    assert report.passes >= 5, report  # the page was checked, not an empty shell
    assert [str(v) for v in report.violations] == []


def test_page_logged_no_errors(caption_run: CaptionRun) -> None:
    assert caption_run.console_errors == []
