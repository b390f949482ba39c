"""``POST /api/meetings/{id}/audio``: accept an upload and hand it to the Processor."""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request, status
from python_multipart.exceptions import MultipartParseError
from sqlalchemy.orm import Session

from app.api.deps import (
    MEETING_NOT_FOUND,
    DatabaseDep,
    MeetingId,
    SettingsDep,
    TokenDep,
    authenticated_user,
    quota_refused,
)
from app.api.languages import LanguagesDep, check_languages
from app.api.transcript_guard import refuse_silent_replacement
from app.apikeys import ApiKeyGuard
from app.body_limits import BodyLimit
from app.intake import intake_step
from app.schemas import JobAccepted
from app.uploads import UploadError, receive_audio_upload
from core.audio import AudioDecodeError, probe_audio
from core.audio_formats import DecodeLimits
from persistence import (
    Database,
    JobAlreadyActiveError,
    create_job,
    get_active_job,
    meeting_role,
    update_job,
    visible_meeting,
)
from persistence.languages import get_language_settings, set_language_settings
from persistence.quotas import QuotaExceeded, check_job_slot, remaining_audio_bytes
from processor_api.backend import Backend, JobRequest
from rooms.live_messages import LanguageCode, TranslationTarget
from settings.config import Settings

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/meetings", tags=["audio"])

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers on top of the file itself
ALREADY_PROCESSING = "This meeting is already being processed; wait for it to finish"


def upload_body_limit(settings: Settings) -> BodyLimit:
    """The upload's own body limit: a large multipart body (every other route but the /v1 uploads
    and the voice sample gets the default)."""
    return BodyLimit(
        r"/api/meetings/[^/]+/audio", settings.max_upload_bytes + MULTIPART_OVERHEAD, True
    )


@dataclass(frozen=True)
class Admission:
    meeting_id: str
    owner_id: str
    max_bytes: int  # what this upload may store: the size limit or the owner's remaining quota


@router.post("/{meeting_id}/audio", status_code=status.HTTP_202_ACCEPTED)
async def upload_audio(
    request: Request,
    meeting_id: MeetingId,
    token: TokenDep,
    db: DatabaseDep,
    settings: SettingsDep,
    languages: LanguagesDep,
    replace: Annotated[bool, Query(description="replace an existing transcript")] = False,
    language: Annotated[LanguageCode | None, Query()] = None,
    translate_to: Annotated[TranslationTarget | None, Query()] = None,
) -> JobAccepted:
    """Stream the ``file`` field to the data directory, queue a job, return its id at once.

    No database session is held while the body arrives (a slow upload must not pin a pooled
    connection): one short session admits the upload, another creates the job.
    ``language`` / ``translate_to`` (query) replace the meeting's language settings for this
    and later jobs; omitted, the meeting's own apply.
    """
    state = request.app.state
    api_keys = getattr(state, "api_keys", None)
    admission = await intake_step(
        state, admit_upload, db, settings, token, api_keys, meeting_id, replace
    )
    check_languages(languages, language, translate_to)
    staging = settings.uploads_dir / meeting_id / f"incoming-{uuid.uuid4().hex}"
    try:
        size = await receive_audio_upload(
            request.headers.get("content-type", ""),
            request.stream(),
            staging,
            admission.max_bytes,
        )
        await intake_step(state, check_upload_format, staging, settings)
    except UploadError as e:
        raise HTTPException(e.status, upload_error_detail(e, admission, settings)) from e
    except MultipartParseError as e:
        raise HTTPException(400, "Malformed multipart body") from e
    if language is not None or translate_to is not None:
        await intake_step(state, _set_languages, db, meeting_id, language, translate_to)
    job_id, audio_path = await intake_step(state, _queue_job, db, settings, admission, staging)
    await _submit(request.app.state.backend, db, JobRequest(job_id, meeting_id, str(audio_path)))
    logger.info("meeting %s: accepted upload of %d bytes as job %s", meeting_id, size, job_id)
    return JobAccepted(job_id=job_id, status="queued")


def admit_upload(
    db: Database,
    settings: Settings,
    token: str | None,
    api_keys: ApiKeyGuard | None,
    meeting_id: str,
    replace: bool,
) -> Admission:
    """Auth, access, busy and quota checks in one short session, before any body is read."""
    with db.session() as session:
        user = authenticated_user(session, settings, token, api_keys)
        meeting = visible_meeting(session, user.id, meeting_id)
        role = meeting_role(session, user.id, meeting_id) if meeting else None
        if meeting is None or role is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, MEETING_NOT_FOUND)
        if role == "viewer":
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Viewers cannot upload audio")
        if get_active_job(session, meeting_id) is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, ALREADY_PROCESSING)
        refuse_silent_replacement(session, meeting_id, replace)  # 409 transcript_exists
        try:
            check_job_slot(session, settings, meeting.owner_id)
            left = remaining_audio_bytes(session, settings, meeting.owner_id)
        except QuotaExceeded as e:
            raise quota_refused(e) from e
    return Admission(meeting_id, meeting.owner_id, min(settings.max_upload_bytes, left))


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


def upload_error_detail(error: UploadError, admission: Admission, settings: Settings) -> str:
    if error.status == 413 and admission.max_bytes < settings.max_upload_bytes:
        return (
            "The upload would exceed the meeting owner's audio storage "
            f"({admission.max_bytes} bytes left); delete old meetings first"
        )
    return error.detail


def check_upload_format(path: Path, settings: Settings) -> None:
    """Refuse a file whose header declares an absurd format (400) before a job exists."""
    try:
        probe_audio(path, DecodeLimits(max_duration_s=settings.max_audio_duration_s))
    except AudioDecodeError as e:
        path.unlink(missing_ok=True)
        raise UploadError(400, e.reason) from e


def _queue_job(
    db: Database, settings: Settings, admission: Admission, staging: Path
) -> tuple[str, Path]:
    """Create the job row and move the file to its final name; 409/429 if another job won."""
    try:
        with db.session() as session:
            check_job_slot(session, settings, admission.owner_id)
            job_id = _create_job(session, admission.meeting_id)
    except (JobAlreadyActiveError, QuotaExceeded) as e:
        staging.unlink(missing_ok=True)
        if isinstance(e, QuotaExceeded):
            raise quota_refused(e) from e
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
