"""Render transcripts (json, txt, srt, vtt, rttm) and summaries (markdown).

Renderers accept :class:`Segment` objects or their wire dicts (as stored in the database),
so the REST layer can export without rebuilding dataclasses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, get_args

from core.types import ActionItem, Segment, SummaryResult

TranscriptFormat = Literal["json", "txt", "srt", "vtt", "rttm"]
TRANSCRIPT_FORMATS: tuple[str, ...] = get_args(TranscriptFormat)
SummaryFormat = Literal["json", "md"]
SegmentLike = Segment | Mapping[str, Any]

MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "rttm": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}


class ExportFormatError(ValueError):
    """A transcript format this module cannot render."""

    def __init__(self, fmt: str) -> None:
        super().__init__(
            f"Unknown transcript format {fmt!r}; choose one of {', '.join(TRANSCRIPT_FORMATS)}."
        )
        self.fmt = fmt


def render_transcript(
    segments: Sequence[SegmentLike], fmt: str, meeting_id: str = "meeting"
) -> tuple[str, str]:
    """The transcript in ``fmt`` and its media type; segments are ordered by start time."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ExportFormatError(fmt)
    wire = sorted((_to_wire(s) for s in segments), key=lambda d: float(d["start"]))
    return renderer(wire, meeting_id), MEDIA_TYPES[fmt]


def format_clock(seconds: float, separator: str = ".", with_ms: bool = True) -> str:
    """``HH:MM:SS.mmm`` (vtt), ``HH:MM:SS,mmm`` (srt) or ``HH:MM:SS`` (txt)."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{clock}{separator}{ms:03d}" if with_ms else clock


def _to_wire(segment: SegmentLike) -> dict[str, Any]:
    if isinstance(segment, Segment):
        return segment.to_wire()
    data = dict(segment)
    data.setdefault("start", data.get("timestamp", 0.0))
    data.setdefault("timestamp", data["start"])
    data.setdefault("end", data["start"])
    return data


def _render_json(segments: list[dict[str, Any]], meeting_id: str) -> str:
    return json.dumps({"meeting_id": meeting_id, "segments": segments}, indent=2) + "\n"


def _render_txt(segments: list[dict[str, Any]], meeting_id: str) -> str:
    lines = [
        f"[{format_clock(s['start'], with_ms=False)}] {s['speaker']}: {_one_line(s['text'])}"
        for s in segments
    ]
    return "".join(line + "\n" for line in lines)


def _render_srt(segments: list[dict[str, Any]], meeting_id: str) -> str:
    cues = [
        f"{n}\n{format_clock(s['start'], ',')} --> {format_clock(s['end'], ',')}\n"
        f"{s['speaker']}: {_one_line(s['text'])}\n"
        for n, s in enumerate(segments, start=1)
    ]
    return "\n".join(cues)


def _render_vtt(segments: list[dict[str, Any]], meeting_id: str) -> str:
    cues = [
        f"{s.get('id', n)}\n{format_clock(s['start'])} --> {format_clock(s['end'])}\n"
        f"<v {_vtt_escape(s['speaker'])}>{_vtt_escape(_one_line(s['text']))}\n"
        for n, s in enumerate(segments)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def _render_rttm(segments: list[dict[str, Any]], meeting_id: str) -> str:
    uri = _no_spaces(meeting_id)
    lines = [
        f"SPEAKER {uri} 1 {float(s['start']):.3f} {float(s['end']) - float(s['start']):.3f} "
        f"<NA> <NA> {_no_spaces(s['speaker'])} <NA> <NA>"
        for s in segments
    ]
    return "".join(line + "\n" for line in lines)


_RENDERERS: dict[str, Callable[[list[dict[str, Any]], str], str]] = {
    "json": _render_json,
    "txt": _render_txt,
    "srt": _render_srt,
    "vtt": _render_vtt,
    "rttm": _render_rttm,
}


def _one_line(text: str) -> str:
    # A newline inside a cue's text would end the cue early in srt/vtt and split a txt line.
    return " ".join(str(text).split())


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _no_spaces(text: str) -> str:
    # RTTM fields are whitespace-separated.
    return re.sub(r"\s+", "_", str(text).strip()) or "NA"


def coerce_summary(summary: SummaryResult | Mapping[str, Any]) -> SummaryResult:
    """A SummaryResult from itself, its ``asdict`` form or the wire ``summary`` message."""
    if isinstance(summary, SummaryResult):
        return summary
    details = summary.get("details") or {}
    raw_items = details.get("action_items", summary.get("action_items", []))
    return SummaryResult(
        summary=str(summary.get("summary", "")),
        action_items=[_coerce_item(item) for item in raw_items],
        decisions=list(details.get("decisions", summary.get("decisions", []))),
        topics=list(details.get("topics", summary.get("topics", []))),
        engine=str(summary.get("engine", details.get("engine", "extractive"))),
    )


def _coerce_item(item: ActionItem | Mapping[str, Any] | str) -> ActionItem:
    if isinstance(item, ActionItem):
        return item
    if isinstance(item, str):
        return ActionItem(text=item)
    return ActionItem(text=str(item["text"]), owner=item.get("owner"), due=item.get("due"))


def render_summary_markdown(
    summary: SummaryResult | Mapping[str, Any], title: str = "Meeting summary"
) -> str:
    """Markdown with the summary and, when present, action items, decisions and topics."""
    result = coerce_summary(summary)
    parts = [f"# {_one_line(title)}", "## Summary", result.summary.strip() or "_No summary._"]
    if result.action_items:
        parts.append("## Action items")
        parts.append("\n".join(_markdown_item(item) for item in result.action_items))
    if result.decisions:
        parts.append("## Decisions")
        parts.append("\n".join(f"- {_one_line(d)}" for d in result.decisions))
    if result.topics:
        parts.append("## Topics")
        parts.append(", ".join(_one_line(t) for t in result.topics))
    return "\n\n".join(parts) + "\n"


def _markdown_item(item: ActionItem) -> str:
    owner = f"**{item.owner}**: " if item.owner else ""
    due = f" _(due: {item.due})_" if item.due else ""
    return f"- [ ] {owner}{_one_line(item.text)}{due}"


TranscriptText = Literal["original", "translation", "both"]


def select_text(segments: Sequence[SegmentLike], text: TranscriptText) -> list[dict[str, Any]]:
    """Wire dicts whose ``text`` is the original, the English translation (the original where a
    segment has none), or both (original, then the translation in brackets on its own line)."""
    wire = [_to_wire(s) for s in segments]
    if text == "original":
        return wire
    return [{**s, "text": _caption(s, text)} for s in wire]


def _caption(segment: Mapping[str, Any], text: TranscriptText) -> str:
    original = str(segment["text"])
    translation = segment.get("translation")
    if not translation:
        return original
    return str(translation) if text == "translation" else f"{original}\n[{translation}]"
