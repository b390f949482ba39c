from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from core.exports import (
    ExportFormatError,
    format_clock,
    render_summary_markdown,
    render_transcript,
)
from core.types import ActionItem, Segment, SummaryResult, Word

SEGMENTS = [
    Segment("w1-0", "SPEAKER_01", "Thanks. <b>Agenda</b> &\nnotes", 3725.5, 3727.25, 1),
    Segment(
        "w0-0",
        "SPEAKER_00",
        "Hello everyone, let's begin.",
        1.0,
        3.5,
        0,
        [Word("Hello", 1.0, 1.4, 0.98)],
    ),
]


def test_txt() -> None:
    text, media_type = render_transcript(SEGMENTS, "txt", "m1")
    assert text == (
        "[00:00:01] SPEAKER_00: Hello everyone, let's begin.\n"
        "[01:02:05] SPEAKER_01: Thanks. <b>Agenda</b> & notes\n"
    )
    assert media_type == "text/plain; charset=utf-8"


def test_srt() -> None:
    text, media_type = render_transcript(SEGMENTS, "srt", "m1")
    assert text == (
        "1\n00:00:01,000 --> 00:00:03,500\nSPEAKER_00: Hello everyone, let's begin.\n"
        "\n"
        "2\n01:02:05,500 --> 01:02:07,250\nSPEAKER_01: Thanks. <b>Agenda</b> & notes\n"
    )
    assert media_type.startswith("application/x-subrip")


def test_vtt() -> None:
    text, media_type = render_transcript(SEGMENTS, "vtt", "m1")
    assert text == (
        "WEBVTT\n\n"
        "w0-0\n00:00:01.000 --> 00:00:03.500\n<v SPEAKER_00>Hello everyone, let's begin.\n"
        "\n"
        "w1-0\n01:02:05.500 --> 01:02:07.250\n"
        "<v SPEAKER_01>Thanks. &lt;b&gt;Agenda&lt;/b&gt; &amp; notes\n"
    )
    assert media_type == "text/vtt; charset=utf-8"


def test_rttm() -> None:
    text, _ = render_transcript(SEGMENTS, "rttm", "team sync")
    assert text == (
        "SPEAKER team_sync 1 1.000 2.500 <NA> <NA> SPEAKER_00 <NA> <NA>\n"
        "SPEAKER team_sync 1 3725.500 1.750 <NA> <NA> SPEAKER_01 <NA> <NA>\n"
    )


def test_json_round_trips_wire_segments() -> None:
    text, media_type = render_transcript(SEGMENTS, "json", "m1")
    data = json.loads(text)
    assert media_type == "application/json"
    assert data["meeting_id"] == "m1"
    assert [s["id"] for s in data["segments"]] == ["w0-0", "w1-0"]
    assert data["segments"][0] == SEGMENTS[1].to_wire()
    assert data["segments"][0]["timestamp"] == 1.0


def test_dicts_render_like_segments() -> None:
    dicts = [asdict(s) for s in SEGMENTS]
    for fmt in ("txt", "srt", "vtt", "rttm"):
        assert render_transcript(dicts, fmt, "m1") == render_transcript(SEGMENTS, fmt, "m1")


def test_empty_transcript() -> None:
    assert render_transcript([], "txt")[0] == ""
    assert render_transcript([], "vtt")[0] == "WEBVTT\n\n"


def test_unknown_format() -> None:
    with pytest.raises(ExportFormatError) as info:
        render_transcript(SEGMENTS, "docx")
    assert info.value.fmt == "docx"
    assert "json, txt, srt, vtt, rttm" in str(info.value)


def test_format_clock_rounds_to_milliseconds() -> None:
    assert format_clock(59.9996) == "00:01:00.000"
    assert format_clock(3661.25, ",") == "01:01:01,250"
    assert format_clock(-0.2, with_ms=False) == "00:00:00"


SUMMARY = SummaryResult(
    summary="The team reviewed the release.",
    action_items=[
        ActionItem("send the build to QA", "SPEAKER_01", "Friday"),
        ActionItem("update the docs"),
    ],
    decisions=["Ship on Monday."],
    topics=["release", "docs"],
)
EXPECTED_MD = """# Weekly sync

## Summary

The team reviewed the release.

## Action items

- [ ] **SPEAKER_01**: send the build to QA _(due: Friday)_
- [ ] update the docs

## Decisions

- Ship on Monday.

## Topics

release, docs
"""


def test_summary_markdown() -> None:
    assert render_summary_markdown(SUMMARY, "Weekly sync") == EXPECTED_MD


def test_summary_markdown_from_dicts() -> None:
    assert render_summary_markdown(asdict(SUMMARY), "Weekly sync") == EXPECTED_MD
    wire = {
        "type": "summary",
        "summary": SUMMARY.summary,
        "action_items": SUMMARY.action_item_strings(),
        "details": {
            "action_items": [asdict(a) for a in SUMMARY.action_items],
            "decisions": SUMMARY.decisions,
            "topics": SUMMARY.topics,
        },
    }
    assert render_summary_markdown(wire, "Weekly sync") == EXPECTED_MD


def test_summary_markdown_omits_empty_sections() -> None:
    assert render_summary_markdown(SummaryResult(summary=""), "Empty") == (
        "# Empty\n\n## Summary\n\n_No summary._\n"
    )
