"""Exports: ``GET /transcript?format=...&version=N``, earlier versions, and the summary (read,
regenerate: one run at a time per meeting, rate-limited per user and per meeting)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy.orm import Session

from app.api.deps import (
    CallerRole,
    CurrentUser,
    GuardDep,
    SessionDep,
    VisibleMeeting,
    rate_limited,
)
from app.login_guard import LoginGuard
from app.ratelimit import RateLimited
from app.schemas import TranscriptVersions
from core.exports import (
    SummaryFormat,
    TranscriptFormat,
    TranscriptText,
    render_summary_markdown,
    render_transcript,
    select_text,
)
from core.speaker_edits import SpeakerEdits, apply_to_summary, apply_to_wire_segments
from core.types import Segment
from persistence import get_active_job, get_summary, list_segments
from persistence.speakers import load_speaker_edits
from persistence.versions import (
    archived_segments,
    current_version,
    has_transcript,
    list_archived_versions,
)
from processor_api.backend import Backend

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/meetings", tags=["exports"])

SUMMARY_RUNNING = "A summary is already being generated for this meeting; wait for it"
# Background regenerations, referenced until done (the event loop keeps only weak references).
_summary_runs: set[asyncio.Task[None]] = set()


@router.get("/{meeting_id}/transcript")
def read_transcript(
    meeting: VisibleMeeting,
    session: SessionDep,
    format: Annotated[TranscriptFormat, Query()] = "json",
    version: Annotated[int | None, Query(ge=1, description="an earlier version")] = None,
    text: Annotated[TranscriptText, Query()] = "original",
) -> Response:
    """``text``: the original speech, its English ``translation`` (meetings with captions),
    or ``both``. Speaker names, merges and reassigned lines apply on read to the current
    transcript (the stored one stays as diarized)."""
    segments = _transcript_segments(session, meeting.id, version)
    # An earlier version has its edits baked in (archived as it was read): no edits of its own.
    edits = load_speaker_edits(session, meeting.id) if version is None else SpeakerEdits()
    named = apply_to_wire_segments(segments, edits)
    rendered, media_type = render_transcript(select_text(named, text), format, meeting.id)
    suffix = f"-v{version}" if version is not None else ""
    filename = f"{meeting.id}{suffix}.{format}"
    return Response(
        content=rendered,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def _transcript_segments(session: Session, meeting_id: str, version: int | None) -> list[Segment]:
    if version is None or version == current_version(session, meeting_id):
        segments = list_segments(session, meeting_id)
        if not segments:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "This meeting has no transcript yet")
        return segments
    archived = archived_segments(session, meeting_id, version)
    if archived is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No transcript version {version}")
    return archived


@router.get("/{meeting_id}/transcript/versions")
def list_transcript_versions(meeting: VisibleMeeting, session: SessionDep) -> TranscriptVersions:
    """Earlier (replaced) transcripts, oldest first, and the current version number."""
    has_current = has_transcript(session, meeting.id)
    return TranscriptVersions.model_validate(
        {
            "current": current_version(session, meeting.id) if has_current else None,
            "versions": list_archived_versions(session, meeting.id),
        }
    )


@router.get("/{meeting_id}/summary", response_model=None)
def read_summary(
    meeting: VisibleMeeting,
    session: SessionDep,
    format: Annotated[SummaryFormat, Query()] = "json",
) -> Response | dict[str, Any]:
    summary = get_summary(session, meeting.id)
    if summary is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This meeting has no summary yet")
    payload = apply_to_summary(summary.payload, load_speaker_edits(session, meeting.id))
    if format == "md":
        text = render_summary_markdown(payload, meeting.title)
        return Response(content=text, media_type="text/markdown; charset=utf-8")
    return payload


@router.post("/{meeting_id}/summary", status_code=status.HTTP_202_ACCEPTED)
async def regenerate_summary(
    request: Request,
    meeting: VisibleMeeting,
    role: CallerRole,
    user: CurrentUser,
    session: SessionDep,
    guard: GuardDep,
) -> dict[str, str]:
    """Summarise the stored transcript again; the new summary arrives as a ``summary`` event.

    409 while a regeneration of this meeting runs (on any replica), 429 with ``Retry-After``
    past ``MEETING_SUMMARY_RATE_LIMIT`` per user or per meeting."""
    if role == "viewer":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Viewers cannot regenerate the summary")
    if get_active_job(session, meeting.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "The meeting is still being processed")
    if not list_segments(session, meeting.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This meeting has no transcript yet")
    session.close()  # no connection held while the summary runs
    wait = await asyncio.to_thread(guard.claim_summary_run, meeting.id)
    if wait is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, SUMMARY_RUNNING, {"Retry-After": str(wait)})
    try:
        await asyncio.to_thread(guard.summary_requested, user.id, meeting.id)
    except RateLimited as e:
        await asyncio.to_thread(guard.summary_run_done, meeting.id)
        raise rate_limited(e) from e
    task = asyncio.create_task(_run_summary(request.app.state.backend, guard, meeting.id))
    _summary_runs.add(task)
    task.add_done_callback(_summary_runs.discard)
    return {"status": "accepted"}


async def _run_summary(backend: Backend, guard: LoginGuard, meeting_id: str) -> None:
    try:
        await backend.regenerate_summary(meeting_id)
    except Exception:
        logger.exception("meeting %s: summary regeneration could not run", meeting_id)
    finally:
        await asyncio.to_thread(guard.summary_run_done, meeting_id)
