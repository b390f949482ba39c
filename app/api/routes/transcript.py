"""Exports: ``GET /transcript?format=...`` and the summary (read, regenerate)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from app.api.deps import CallerRole, SessionDep, VisibleMeeting
from app.db import get_active_job, get_summary, list_segments
from app.db.speakers import load_speaker_edits
from core.exports import render_summary_markdown, render_transcript
from core.speaker_edits import apply_to_summary, apply_to_wire_segments

router = APIRouter(prefix="/meetings", tags=["exports"])

TranscriptFormat = Literal["json", "txt", "srt", "vtt", "rttm"]
SummaryFormat = Literal["json", "md"]


@router.get("/{meeting_id}/transcript")
def read_transcript(
    meeting: VisibleMeeting,
    session: SessionDep,
    format: Annotated[TranscriptFormat, Query()] = "json",
) -> Response:
    segments = list_segments(session, meeting.id)
    if not segments:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This meeting has no transcript yet")
    # Names, merges and reassigned lines apply on read: the stored transcript stays as diarized.
    named = apply_to_wire_segments(segments, load_speaker_edits(session, meeting.id))
    text, media_type = render_transcript(named, format, meeting.id)
    filename = f"{meeting.id}.{format}"
    return Response(
        content=text,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
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
    request: Request, meeting: VisibleMeeting, role: CallerRole, session: SessionDep
) -> dict[str, str]:
    """Summarise the stored transcript again; the new summary arrives as a ``summary`` event."""
    if role == "viewer":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Viewers cannot regenerate the summary")
    if get_active_job(session, meeting.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "The meeting is still being processed")
    if not list_segments(session, meeting.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This meeting has no transcript yet")
    await request.app.state.backend.regenerate_summary(meeting.id)
    return {"status": "accepted"}
