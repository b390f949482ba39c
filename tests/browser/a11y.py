"""In-browser accessibility probes: keyboard focus and WCAG 2.x text contrast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

# WCAG 2.x contrast of every visible text node's colour against the first opaque background
# behind it. Disabled controls are exempt (WCAG 1.4.3), as is text nobody can see.
CONTRAST_SCRIPT = """
() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const results = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !el || el.closest('[aria-hidden=true], .visually-hidden, :disabled')) continue;
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || rect.width === 0 || rect.height === 0) continue;
    const a = lum(parse(style.color).slice(0, 3));
    const b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    results.push({ text: text.slice(0, 40), ratio, required: large ? 3 : 4.5 });
  }
  return results;
}
"""


@dataclass(frozen=True)
class ContrastResult:
    text: str
    ratio: float
    required: float


def text_contrast(page: Page) -> list[ContrastResult]:
    rows: list[dict[str, Any]] = page.evaluate(CONTRAST_SCRIPT)
    return [ContrastResult(r["text"], round(r["ratio"], 2), r["required"]) for r in rows]


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
