"""Earlier transcripts: a recording that replaces a meeting's transcript archives it first.

The current transcript lives in ``segments`` (written window by window while processing);
each replaced one is kept whole in ``transcript_versions`` with its summary. Versions are
numbered from 1 per meeting; the current transcript is the highest number.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.types import Segment, Word
from persistence.models import SegmentRow, Summary, TranscriptVersion

MAX_ARCHIVED_VERSIONS = 20  # older ones are dropped: a bound on what re-recording can store


def has_transcript(session: Session, meeting_id: str) -> bool:
    return (
        session.scalar(select(SegmentRow.id).where(SegmentRow.meeting_id == meeting_id).limit(1))
        is not None
    )


def latest_archived_version(session: Session, meeting_id: str) -> int:
    value = session.scalar(
        select(func.max(TranscriptVersion.version)).where(
            TranscriptVersion.meeting_id == meeting_id
        )
    )
    return int(value or 0)


def current_version(session: Session, meeting_id: str) -> int:
    """The number the current transcript (or the next one, when there is none) has."""
    return latest_archived_version(session, meeting_id) + 1


def archive_transcript(session: Session, meeting_id: str, segments: list[Segment]) -> int | None:
    """Keep ``segments`` (the current transcript) and the summary as the next earlier version."""
    if not segments:
        return None
    summary = session.get(Summary, meeting_id)
    version = current_version(session, meeting_id)
    session.add(
        TranscriptVersion(
            meeting_id=meeting_id,
            version=version,
            segments=[asdict(segment) for segment in segments],
            summary=dict(summary.payload) if summary is not None else None,
        )
    )
    session.execute(
        delete(TranscriptVersion).where(
            TranscriptVersion.meeting_id == meeting_id,
            TranscriptVersion.version <= version - MAX_ARCHIVED_VERSIONS,
        )
    )
    session.flush()
    return version


def list_archived_versions(session: Session, meeting_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(TranscriptVersion)
        .where(TranscriptVersion.meeting_id == meeting_id)
        .order_by(TranscriptVersion.version)
    )
    return [
        {
            "version": row.version,
            "segments": len(row.segments),
            "archived_at": row.archived_at,
            "has_summary": row.summary is not None,
        }
        for row in rows
    ]


def archived_segments(session: Session, meeting_id: str, version: int) -> list[Segment] | None:
    row = session.scalar(
        select(TranscriptVersion).where(
            TranscriptVersion.meeting_id == meeting_id, TranscriptVersion.version == version
        )
    )
    if row is None:
        return None
    return [_segment(item) for item in row.segments]


def _segment(item: dict[str, Any]) -> Segment:
    words = [Word(**word) for word in item.get("words", [])]
    return Segment(**{**item, "words": words})


__all__ = [
    "MAX_ARCHIVED_VERSIONS",
    "archive_transcript",
    "archived_segments",
    "current_version",
    "has_transcript",
    "list_archived_versions",
]
