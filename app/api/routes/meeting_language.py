"""``PATCH /api/meetings/{id}``: an editor corrects the meeting's language or caption setting,
and re-runs the stored upload with it only when asked (``reprocess``)."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.deps import CallerRole, SessionDep, SettingsDep, VisibleMeeting
from app.api.languages import LanguagesDep, check_languages
from app.schemas import MeetingLanguageUpdate, MeetingPublic
from persistence import JobAlreadyActiveError, create_job, get_active_job, update_job
from persistence.languages import set_language_settings
from persistence.models import Job
from processor_api.backend import JobRequest

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/meetings", tags=["meetings"])

NOTHING_TO_REPROCESS = "This meeting has no stored upload to process again"
BUSY = "This meeting is already being processed; wait for it to finish"


@router.patch("/{meeting_id}")
async def update_meeting_language(
    body: MeetingLanguageUpdate,
    request: Request,
    meeting: VisibleMeeting,
    role: CallerRole,
    session: SessionDep,
    settings: SettingsDep,
    languages: LanguagesDep,
) -> MeetingPublic:
    if role == "viewer":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Viewers cannot change the meeting")
    given = body.model_fields_set
    language = body.language if "language" in given else meeting.language
    translate_to = body.translate_to if "translate_to" in given else meeting.translate_to
    check_languages(languages, language, translate_to)
    audio = _stored_upload(session, meeting.id, settings.uploads_dir) if body.reprocess else None
    if body.reprocess and audio is None:
        raise HTTPException(status.HTTP_409_CONFLICT, NOTHING_TO_REPROCESS)
    if body.reprocess and get_active_job(session, meeting.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, BUSY)
    set_language_settings(session, meeting.id, language=language, translate_to=translate_to)
    job_id = _create_job(session, meeting.id) if audio is not None else None
    session.commit()
    logger.info("meeting %s: language %s, captions %s", meeting.id, language, translate_to)
    if job_id is not None and audio is not None:
        await _submit(request, session, JobRequest(job_id, meeting.id, str(audio)))
    session.refresh(meeting)
    return MeetingPublic.model_validate(meeting).model_copy(update={"role": role})


async def _submit(request: Request, session: Session, job: JobRequest) -> None:
    try:
        await request.app.state.backend.submit_job(job)
    except Exception as e:
        logger.exception("meeting %s: could not hand job %s over", job.meeting_id, job.job_id)
        update_job(session, job.job_id, status="failed", error="processor unavailable")
        session.commit()
        raise HTTPException(503, "Processing is unavailable; try again shortly") from e


def _create_job(session: Session, meeting_id: str) -> str:
    try:
        return create_job(session, meeting_id, source="upload").id
    except JobAlreadyActiveError as e:
        raise HTTPException(status.HTTP_409_CONFLICT, BUSY) from e


def _stored_upload(session: Session, meeting_id: str, uploads_dir: Path) -> Path | None:
    """The newest upload's audio file still on disk (``uploads/<meeting>/<job>.audio``)."""
    job_ids = session.scalars(
        select(Job.id)
        .where(Job.meeting_id == meeting_id, Job.source == "upload")
        .order_by(Job.created_at.desc())
    )
    for job_id in job_ids:
        path = uploads_dir / meeting_id / f"{job_id}.audio"
        if path.is_file():
            return path
    return None
