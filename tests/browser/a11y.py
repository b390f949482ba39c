"""In-browser accessibility probes: keyboard focus, and axe-core for WCAG 2.2 AA."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SCRIPT = (
    Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
)
# WCAG 2.2 AA as axe-core tags it: every A and AA rule of 2.0, 2.1 and 2.2.
WCAG_22_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


@dataclass(frozen=True)
class AxeViolation:
    rule: str
    impact: str | None
    help: str
    targets: list[str]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}): {self.help} at {', '.join(self.targets[:5])}"


@dataclass(frozen=True)
class AxeReport:
    violations: list[AxeViolation]
    passes: int  # rules that ran and passed: proves the page was checked, not an empty shell
    rules_run: int


def axe_check(page: Page, tags: tuple[str, ...] = WCAG_22_AA) -> AxeReport:
    """Runs axe-core (the npm package in web/devDependencies) over the page as it is now."""
    if not AXE_SCRIPT.is_file():
        raise AssertionError(f"{AXE_SCRIPT} missing: run `npm ci` in web/")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP (script-src 'self',
        # no inline scripts) does not govern; a <script> tag would be refused, as it should.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    raw: dict[str, Any] = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
            const brief = (v) => ({ rule: v.id, impact: v.impact, help: v.help,
                                    targets: v.nodes.map((n) => n.target.join(' ')) });
            return { violations: r.violations.map(brief), passes: r.passes.length,
                     rules: r.passes.length + r.violations.length + r.incomplete.length
                            + r.inapplicable.length };
        }""",
        list(tags),
    )
    violations = [AxeViolation(**v) for v in raw["violations"]]
    return AxeReport(violations, int(raw["passes"]), int(raw["rules"]))


def focused_test_id(page: Page) -> str:
    value = page.evaluate("document.activeElement?.dataset?.testid ?? ''")
    return str(value)


def tab_to(page: Page, test_id: str, max_tabs: int = 40) -> int:
    """Presses Tab until the element with `test_id` has focus; returns how many presses."""
    for presses in range(1, max_tabs + 1):
        page.keyboard.press("Tab")
        if focused_test_id(page) == test_id:
            return presses
    raise AssertionError(f"{max_tabs} Tab presses never focused [data-testid={test_id}]")


def focus_is_visible(page: Page) -> bool:
    """The focused element draws a focus indicator (an outline or a box shadow)."""
    return bool(
        page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                    || s.boxShadow !== 'none'; }"""
        )
    )
