"""``POST /api/meetings/{id}/audio``: accept an upload and hand it to the Processor."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request, status
from python_multipart.exceptions import MultipartParseError
from sqlalchemy.orm import Session

from app.api.deps import CallerRole, DatabaseDep, SettingsDep, VisibleMeeting
from app.api.languages import LanguageCode, LanguagesDep, TranslationTarget, check_languages
from app.backend import Backend, JobRequest
from app.db import Database, JobAlreadyActiveError, create_job, get_active_job, update_job
from app.db.languages import get_language_settings, set_language_settings
from app.schemas import JobAccepted
from app.uploads import UploadError, receive_audio_upload

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/meetings", tags=["audio"])

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers on top of the file itself
ALREADY_PROCESSING = "This meeting is already being processed; wait for it to finish"


@router.post("/{meeting_id}/audio", status_code=status.HTTP_202_ACCEPTED)
async def upload_audio(
    request: Request,
    meeting: VisibleMeeting,
    role: CallerRole,
    db: DatabaseDep,
    settings: SettingsDep,
    languages: LanguagesDep,
    language: Annotated[LanguageCode | None, Query()] = None,
    translate_to: Annotated[TranslationTarget | None, Query()] = None,
) -> JobAccepted:
    """Stream the ``file`` field to the data directory, queue a job, return its id at once.

    ``language`` / ``translate_to`` (query) replace the meeting's language settings for this
    and later jobs; omitted, the meeting's own apply."""
    if role == "viewer":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Viewers cannot upload audio")
    check_languages(languages, language, translate_to)
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.max_upload_bytes + MULTIPART_OVERHEAD:
        raise HTTPException(413, f"Audio file too large (limit {settings.max_upload_bytes} bytes)")
    if await anyio.to_thread.run_sync(_has_active_job, db, meeting.id):
        raise HTTPException(status.HTTP_409_CONFLICT, ALREADY_PROCESSING)
    staging = settings.uploads_dir / meeting.id / f"incoming-{uuid.uuid4().hex}"
    try:
        size = await receive_audio_upload(
            request.headers.get("content-type", ""),
            request.stream(),
            staging,
            settings.max_upload_bytes,
        )
    except UploadError as e:
        raise HTTPException(e.status, e.detail) from e
    except MultipartParseError as e:
        raise HTTPException(400, "Malformed multipart body") from e
    if language is not None or translate_to is not None:
        await anyio.to_thread.run_sync(_set_languages, db, meeting.id, language, translate_to)
    job_id, audio_path = await anyio.to_thread.run_sync(_queue_job, db, meeting.id, staging)
    await _submit(request.app.state.backend, db, JobRequest(job_id, meeting.id, str(audio_path)))
    logger.info("meeting %s: accepted upload of %d bytes as job %s", meeting.id, size, job_id)
    return JobAccepted(job_id=job_id, status="queued")


def _set_languages(
    db: Database, meeting_id: str, language: str | None, translate_to: str | None
) -> None:
    with db.session() as session:
        current = get_language_settings(session, meeting_id)
        set_language_settings(
            session,
            meeting_id,
            language=language if language is not None else current.language,
            translate_to=translate_to if translate_to is not None else current.translate_to,
        )


def _has_active_job(db: Database, meeting_id: str) -> bool:
    with db.session() as session:
        return get_active_job(session, meeting_id) is not None


def _queue_job(db: Database, meeting_id: str, staging: Path) -> tuple[str, Path]:
    """Create the job row and move the file to its final name; 409 if another job won."""
    try:
        with db.session() as session:
            job_id = _create_job(session, meeting_id)
    except JobAlreadyActiveError as e:
        staging.unlink(missing_ok=True)
        raise HTTPException(status.HTTP_409_CONFLICT, ALREADY_PROCESSING) from e
    audio_path = staging.with_name(f"{job_id}.audio")
    os.replace(staging, audio_path)
    return job_id, audio_path


def _create_job(session: Session, meeting_id: str) -> str:
    return create_job(session, meeting_id, source="upload").id


async def _submit(backend: Backend, db: Database, job: JobRequest) -> None:
    try:
        await backend.submit_job(job)
    except Exception as e:
        logger.exception(
            "meeting %s: could not hand job %s to the Processor", job.meeting_id, job.job_id
        )
        await anyio.to_thread.run_sync(_fail_job, db, job.job_id)
        raise HTTPException(503, "Processing is unavailable; try again shortly") from e


def _fail_job(db: Database, job_id: str) -> None:
    with db.session() as session:
        update_job(session, job_id, status="failed", error="processor unavailable")
