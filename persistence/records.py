"""What processing produces: jobs, durable room events, transcript segments, summaries.

Called by the hub actor and the processor as well as by routes, so these functions take a
``Session`` and return plain data (dicts, ``core.types.Segment``) or detached ORM rows.
A constraint conflict rolls the session back before the domain error is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.types import Segment, Word
from persistence.errors import EventSeqConflictError, JobAlreadyActiveError
from persistence.models import (
    ACTIVE_JOB_STATUSES,
    Job,
    JobSource,
    JobStatus,
    MeetingSpeaker,
    RoomEvent,
    SegmentRow,
    SegmentSpeaker,
    Summary,
    utcnow,
)
from persistence.speakers import load_speaker_edits
from persistence.versions import archive_transcript

logger = logging.getLogger(__name__)

TERMINAL_JOB_STATUSES: tuple[JobStatus, ...] = ("completed", "failed")


# ---- room events -------------------------------------------------------------------------


def append_event(
    session: Session, meeting_id: str, seq: int, type: str, payload: dict[str, Any]
) -> None:
    """Store one durable wire message (``payload`` includes ``seq`` and ``type`` itself)."""
    _add_events(
        session, meeting_id, [RoomEvent(meeting_id=meeting_id, seq=seq, type=type, payload=payload)]
    )


def append_events(session: Session, meeting_id: str, messages: list[dict[str, Any]]) -> None:
    """Store several durable wire messages (each with its ``seq`` and ``type``) in one flush."""
    rows = [
        RoomEvent(meeting_id=meeting_id, seq=m["seq"], type=m["type"], payload=m) for m in messages
    ]
    _add_events(session, meeting_id, rows)


def _add_events(session: Session, meeting_id: str, rows: list[RoomEvent]) -> None:
    session.add_all(rows)
    try:
        session.flush()
    except IntegrityError as e:
        session.rollback()
        raise EventSeqConflictError(meeting_id, rows[0].seq) from e


def max_event_seq(session: Session, meeting_id: str) -> int:
    """The highest stored seq of the meeting; 0 when it has none (seqs start at 1)."""
    value = session.scalar(
        select(func.max(RoomEvent.seq)).where(RoomEvent.meeting_id == meeting_id)
    )
    return int(value or 0)


def events_after(
    session: Session, meeting_id: str, after_seq: int, limit: int = 1000
) -> list[dict[str, Any]]:
    """Stored payloads with ``seq > after_seq``, oldest first, at most ``limit``."""
    payloads = session.scalars(
        select(RoomEvent.payload)
        .where(RoomEvent.meeting_id == meeting_id, RoomEvent.seq > after_seq)
        .order_by(RoomEvent.seq)
        .limit(limit)
    )
    return [dict(payload) for payload in payloads]


# ---- transcript segments -----------------------------------------------------------------


def save_segments(session: Session, meeting_id: str, segments: Sequence[Segment]) -> None:
    """Store final segments; a segment id stored before is replaced (a retried window)."""
    if not segments:
        return
    ids = [segment.id for segment in segments]
    session.execute(
        delete(SegmentRow).where(
            SegmentRow.meeting_id == meeting_id, SegmentRow.segment_id.in_(ids)
        )
    )
    next_idx: dict[int, int] = {}
    for segment in segments:
        idx = next_idx.get(segment.window, 0)
        next_idx[segment.window] = idx + 1
        session.add(_segment_row(meeting_id, segment, idx))
    session.flush()


def clear_transcript(session: Session, meeting_id: str) -> None:
    """Archive the meeting's transcript and summary as an earlier version, then remove them
    (a new recording replaces them; ``persistence/versions.py``)."""
    # Archived as it was read: speaker names, merges and reassigned lines baked in, since the
    # edits themselves belong to the current transcript and are removed with it.
    edits = load_speaker_edits(session, meeting_id)
    archived = [
        replace(s, speaker=edits.display_name(edits.segment_label(s.id, s.speaker)))
        for s in list_segments(session, meeting_id)
    ]
    archive_transcript(session, meeting_id, archived)
    session.execute(delete(SegmentRow).where(SegmentRow.meeting_id == meeting_id))
    session.execute(delete(Summary).where(Summary.meeting_id == meeting_id))
    session.execute(delete(MeetingSpeaker).where(MeetingSpeaker.meeting_id == meeting_id))
    session.execute(delete(SegmentSpeaker).where(SegmentSpeaker.meeting_id == meeting_id))
    session.flush()


def _segment_row(meeting_id: str, segment: Segment, idx: int) -> SegmentRow:
    return SegmentRow(
        meeting_id=meeting_id,
        window=segment.window,
        idx=idx,
        segment_id=segment.id,
        speaker=segment.speaker,
        text=segment.text,
        start=segment.start,
        end=segment.end,
        words=[asdict(word) for word in segment.words],
        translation=segment.translation,
    )


def list_segments(session: Session, meeting_id: str) -> list[Segment]:
    """The meeting's transcript in media-time order."""
    rows = session.scalars(
        select(SegmentRow)
        .where(SegmentRow.meeting_id == meeting_id)
        .order_by(SegmentRow.start, SegmentRow.window, SegmentRow.idx)
    )
    return [
        Segment(
            id=row.segment_id,
            speaker=row.speaker,
            text=row.text,
            start=row.start,
            end=row.end,
            window=row.window,
            words=[Word(**word) for word in row.words],
            translation=row.translation,
        )
        for row in rows
    ]


# ---- summaries ---------------------------------------------------------------------------


def save_summary(session: Session, meeting_id: str, payload: dict[str, Any], engine: str) -> None:
    """Store (or replace) the meeting's summary."""
    summary = session.get(Summary, meeting_id)
    if summary is None:
        session.add(Summary(meeting_id=meeting_id, payload=payload, engine=engine))
    else:
        summary.payload = payload
        summary.engine = engine
        summary.created_at = utcnow()
    session.flush()


def get_summary(session: Session, meeting_id: str) -> Summary | None:
    return session.get(Summary, meeting_id)


# ---- jobs --------------------------------------------------------------------------------


def create_job(session: Session, meeting_id: str, source: JobSource = "upload") -> Job:
    """A queued job; raises ``JobAlreadyActiveError`` while another is queued or processing.

    A partial unique index backs the check, so concurrent replicas cannot both succeed.
    """
    active = get_active_job(session, meeting_id)
    if active is not None:
        raise JobAlreadyActiveError(meeting_id, active.id)
    job = Job(meeting_id=meeting_id, source=source, status="queued")
    session.add(job)
    try:
        session.flush()
    except IntegrityError as e:
        session.rollback()
        raise JobAlreadyActiveError(meeting_id, None) from e
    return job


def get_job(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def get_active_job(session: Session, meeting_id: str) -> Job | None:
    return session.scalar(
        select(Job).where(Job.meeting_id == meeting_id, Job.status.in_(ACTIVE_JOB_STATUSES))
    )


def update_job(
    session: Session,
    job_id: str,
    *,
    status: JobStatus | None = None,
    error: str | None = None,
    error_code: str | None = None,
    windows_total: int | None = None,
    windows_done: int | None = None,
) -> Job | None:
    """Change the given fields; a terminal status stamps ``finished_at``. None if no such job."""
    job = session.get(Job, job_id)
    if job is None:
        return None
    if status is not None:
        job.status = status
        if status in TERMINAL_JOB_STATUSES:
            job.finished_at = utcnow()
    job.error = error if error is not None else job.error
    job.error_code = error_code if error_code is not None else job.error_code
    job.windows_total = windows_total if windows_total is not None else job.windows_total
    job.windows_done = windows_done if windows_done is not None else job.windows_done
    session.flush()
    return job
