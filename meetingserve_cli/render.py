"""How results look: one line per transcript segment, a table of meetings (rich)."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table


def clock(seconds: float) -> str:
    whole, tenths = divmod(round(max(seconds, 0.0) * 10), 10)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{tenths}"


def segment_line(segment: dict[str, Any], as_json: bool) -> str:
    """``[00:01:02.3 - 00:01:05.1] SPEAKER_01: text``, then ``[English caption]`` on a line of
    its own when the segment has one; or the segment as one JSON line."""
    if as_json:
        return json.dumps(segment, separators=(",", ":"), ensure_ascii=False)
    start, end = float(segment.get("start", 0.0)), float(segment.get("end", 0.0))
    line = f"[{clock(start)} - {clock(end)}] {segment.get('speaker', '?')}: {segment['text']}"
    translation = segment.get("translation")
    return f"{line}\n    [{translation}]" if translation else line


def reattribution_text(change: dict[str, Any]) -> str:
    """What the server's end-of-job second look at speakers changed (a ``speakers`` event
    with ``change.action == "reattribute"``), for lines already printed."""
    parts = [f"{label} is {into}" for label, into in sorted(change.get("merges", {}).items())]
    moved = len(change.get("segment_speakers", {}))
    if moved:
        parts.append(f"{moved} line{'s' * (moved != 1)} moved to another speaker")
    return "Speakers settled: " + ("; ".join(parts) or "no change")


def meetings_table(meetings: list[dict[str, Any]]) -> Table:
    table = Table("id", "title", "status", "role", "created", "duration", box=None)
    for m in meetings:
        duration = m.get("duration")
        table.add_row(
            m["id"],
            m["title"],
            m["status"],
            m.get("role") or "",
            str(m["created_at"])[:19].replace("T", " "),
            clock(float(duration)) if duration is not None else "",
        )
    return table
