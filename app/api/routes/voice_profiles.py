"""A user's library of named voices: enrol from a meeting speaker or a sample, list, rename,
delete. A profile stores one speaker embedding and the diarization backend that made it; no
audio is kept (an uploaded sample is decoded, embedded and discarded). New meetings of the
profile's owner name matching speakers automatically (``deployments/speaker_naming.py``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from app.api.deps import CurrentUser, DatabaseDep, SettingsDep
from app.body_limits import BodyLimit
from app.intake import intake_step
from app.uploads import UploadError, receive_audio_upload
from core.audio import AudioDecodeError, decode_audio
from core.types import SAMPLE_RATE
from persistence import meeting_role
from persistence.models import VoiceProfile
from persistence.speakers import (
    create_voice_profile,
    delete_voice_profile,
    get_voice_profile,
    list_voice_profiles,
    speaker_centroid,
)
from processor_api.voices import VoiceRefusal, VoiceSample

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/voice-profiles", tags=["voice profiles"])

MAX_PROFILES_PER_USER = 200
MAX_SAMPLE_BYTES = 10 * 1024 * 1024
MAX_SAMPLE_S = 120.0
MULTIPART_OVERHEAD = 64 * 1024
MIN_SAMPLE_SPEECH_S = 1.0
PROFILE_NOT_FOUND = "Voice profile not found"

ProfileName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$"
    ),
]


class VoiceProfileFromMeeting(BaseModel):
    name: ProfileName
    meeting_id: str = Field(min_length=1, max_length=64)
    speaker: str = Field(min_length=1, max_length=64)


class VoiceProfileUpdate(BaseModel):
    name: ProfileName


class VoiceProfilePublic(BaseModel):
    """A profile as its owner sees it; the embedding itself never leaves the server."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    backend: str
    source: str
    source_meeting_id: str | None
    speech_s: float
    created_at: datetime
    stores_audio: bool = False


def _public(profile: VoiceProfile) -> VoiceProfilePublic:
    return VoiceProfilePublic.model_validate(profile)


@router.get("")
def list_profiles(user: CurrentUser, db: DatabaseDep) -> list[VoiceProfilePublic]:
    with db.session() as session:
        return [_public(p) for p in list_voice_profiles(session, user.id)]


@router.post("", status_code=status.HTTP_201_CREATED)
def enrol_from_meeting(
    body: VoiceProfileFromMeeting, user: CurrentUser, db: DatabaseDep
) -> VoiceProfilePublic:
    """ "This is Dana": the meeting speaker's centroid becomes a profile (editors, owners)."""
    with db.session() as session:
        role = meeting_role(session, user.id, body.meeting_id)
        if role is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Meeting not found")
        if role == "viewer":
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Viewers cannot enrol voices")
        _check_quota(session, user.id)
        found = speaker_centroid(session, body.meeting_id, body.speaker)
        if found is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                "No voice embedding is stored for this speaker; process the meeting first",
            )
        embedding, speech_s, backend = found
        profile = create_voice_profile(
            session, user.id, body.name, backend, embedding, "meeting", body.meeting_id, speech_s
        )
        public = _public(profile)
    logger.info(
        "user %s enrolled voice profile %s from meeting %s", user.id, public.id, body.meeting_id
    )
    return public


def sample_body_limit() -> BodyLimit:
    """The enrolment sample is a (small) multipart upload, like the meeting upload route."""
    return BodyLimit(r"/api/voice-profiles/sample", MAX_SAMPLE_BYTES + MULTIPART_OVERHEAD, True)


@router.post("/sample", status_code=status.HTTP_201_CREATED)
async def enrol_from_sample(
    request: Request,
    name: Annotated[ProfileName, Query()],
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
) -> VoiceProfilePublic:
    """Enrol from a recording of one person (multipart field ``file``, up to 10 MB and 2
    minutes). It is streamed to a temporary file with a hard size limit, embedded with the
    active diarization backend and deleted: only the embedding is stored."""
    audio = await _receive_sample(request, settings.data_dir)
    voice = await request.app.state.backend.embed_voice(VoiceSample(audio))
    if isinstance(voice, VoiceRefusal):
        code = status.HTTP_503_SERVICE_UNAVAILABLE if voice.code == "unavailable" else 422
        raise HTTPException(code, voice.message)
    if voice.speech_s < MIN_SAMPLE_SPEECH_S:
        raise HTTPException(422, "The sample needs at least a second of clear speech")

    def store() -> VoiceProfilePublic:
        with db.session() as session:
            _check_quota(session, user.id)
            profile = create_voice_profile(
                session,
                user.id,
                name,
                voice.backend,
                voice.embedding,
                "sample",
                None,
                voice.speech_s,
            )
            return _public(profile)

    public = await anyio.to_thread.run_sync(store)
    logger.info("user %s enrolled voice profile %s from a sample", user.id, public.id)
    return public


@router.patch("/{profile_id}")
def rename_profile(
    profile_id: str, body: VoiceProfileUpdate, user: CurrentUser, db: DatabaseDep
) -> VoiceProfilePublic:
    with db.session() as session:
        profile = get_voice_profile(session, user.id, profile_id)
        if profile is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, PROFILE_NOT_FOUND)
        profile.name = body.name
        session.flush()
        return _public(profile)


@router.delete("/{profile_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_profile(profile_id: str, user: CurrentUser, db: DatabaseDep) -> Response:
    """Delete the profile and its embedding; meetings it named keep the name as text."""
    with db.session() as session:
        profile = get_voice_profile(session, user.id, profile_id)
        if profile is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, PROFILE_NOT_FOUND)
        delete_voice_profile(session, profile)
    logger.info("user %s deleted voice profile %s", user.id, profile_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _make_temp_dir(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(dir=data_dir, prefix="voice-sample-")


async def _receive_sample(request: Request, data_dir: Path) -> np.ndarray:
    declared = int(request.headers.get("content-length") or 0)
    if declared > MAX_SAMPLE_BYTES + MULTIPART_OVERHEAD:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "Samples are limited to 10 MB")
    tmp = Path(await anyio.to_thread.run_sync(_make_temp_dir, data_dir))
    try:
        path = tmp / "sample"
        await receive_audio_upload(
            request.headers.get("content-type", ""), request.stream(), path, MAX_SAMPLE_BYTES
        )
        audio = await intake_step(request.app.state, decode_audio, str(path))
    except UploadError as e:
        raise HTTPException(e.status, e.detail) from e
    except AudioDecodeError as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, e.reason) from e
    finally:  # the sample is never kept
        await anyio.to_thread.run_sync(shutil.rmtree, tmp, True)
    if audio.size > MAX_SAMPLE_S * SAMPLE_RATE:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "Samples are limited to 2 minutes")
    return audio


def _check_quota(session: Session, user_id: str) -> None:
    if len(list_voice_profiles(session, user_id)) >= MAX_PROFILES_PER_USER:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"A user can keep at most {MAX_PROFILES_PER_USER} voice profiles; delete one first",
        )
