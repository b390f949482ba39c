"""docs/configuration.md documents every process setting (so it cannot drift from the code)."""

from __future__ import annotations

from pathlib import Path

from settings.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    missing = [
        f"MEETING_{name.upper()}"
        for name in Settings.model_fields
        if f"`MEETING_{name.upper()}`" not in text
    ]
    assert missing == []
