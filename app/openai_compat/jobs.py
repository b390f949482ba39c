"""A ``/v1`` transcription as a meeting job: create the meeting, hand the upload to the same
Processor path as ``POST /api/meetings/{id}/audio``, then follow the meeting's room events.

Events come through this replica's ``RoomFanout`` (one long poll to the hub for all sockets
and requests), starting from seq 0 so nothing published before the subscription is missed.
The transcript is complete when the last window is aligned (stage ``alignment``,
``window == windows``): the answer does not wait for the summary, which the meeting still
gets. While nothing arrives, the job row is checked, so a job failed behind the hub's back (a
Processor restart marks orphans failed in the database only) ends the wait too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.datastructures import State

from app.intake import intake_step
from app.openai_compat.errors import OpenAIError
from app.sockets.fanout import RoomFanout
from core.types import Segment, Word
from persistence import (
    Database,
    create_job,
    create_meeting,
    get_job,
    get_meeting,
    list_segments,
    set_meeting_status,
    update_job,
)
from persistence.languages import get_language_settings, set_language_settings
from persistence.quotas import (
    QuotaExceeded,
    check_job_slot,
    check_meeting_slot,
    remaining_audio_bytes,
)
from processor_api.backend import Backend, JobRequest
from settings.config import Settings

logger = logging.getLogger(__name__)

IDLE_CHECK_S = 10.0  # also the SSE keepalive period
DECODE_ERROR_CODES = frozenset(
    {"empty_audio", "unsupported_audio", "truncated_audio", "audio_too_long"}
)


@dataclass(frozen=True, slots=True)
class TranscriptionJob:
    meeting_id: str
    job_id: str


@dataclass(frozen=True, slots=True)
class SegmentReady:
    segment: Segment


@dataclass(frozen=True, slots=True)
class Idle:
    """Nothing happened for ``IDLE_CHECK_S`` (the stream sends a keepalive)."""


@dataclass(frozen=True, slots=True)
class TranscriptDone:
    duration: float


WatchEvent = SegmentReady | Idle | TranscriptDone


class TranscriptionFailed(Exception):
    """The job failed; ``code`` is the pipeline's error code."""

    def __init__(self, message: str, code: str, duration: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.duration = duration  # of the audio, when the pipeline read all of it

    @property
    def no_speech(self) -> bool:
        return self.code == "no_speech"

    def as_openai_error(self) -> OpenAIError:
        if self.code in DECODE_ERROR_CODES:
            return OpenAIError(400, self.message, param="file", code=self.code)
        return OpenAIError(500, self.message, type="server_error", code=self.code)


async def start_transcription(state: State, meeting: NewMeeting, staging: Path) -> TranscriptionJob:
    """A new meeting for ``meeting.owner_id`` with a queued job for the staged upload."""
    backend: Backend = state.backend
    db: Database = state.db
    settings: Settings = state.settings
    job = await intake_step(state, _create_meeting_job, db, settings, meeting, staging)
    audio_path = settings.uploads_dir / job.meeting_id / f"{job.job_id}.audio"
    try:
        await backend.submit_job(JobRequest(job.job_id, job.meeting_id, str(audio_path)))
    except Exception as e:
        logger.exception("meeting %s: could not hand job %s to the Processor", *_ids(job))
        await anyio.to_thread.run_sync(_fail_job, db, job)
        raise OpenAIError(
            503, "Processing is unavailable; try again shortly", type="server_error"
        ) from e
    logger.info("meeting %s: /v1 transcription queued as job %s", *_ids(job))
    return job


def _ids(job: TranscriptionJob) -> tuple[str, str]:
    return job.meeting_id, job.job_id


def upload_allowance(db: Database, settings: Settings, user_id: str) -> int:
    """Bytes this caller may upload now, after the per-user caps (OpenAI-shaped 429 if none)."""
    with db.session() as session:
        try:
            check_meeting_slot(session, settings, user_id)
            check_job_slot(session, settings, user_id)
            return min(settings.max_upload_bytes, remaining_audio_bytes(session, settings, user_id))
        except QuotaExceeded as e:
            raise quota_error(e) from e


def quota_error(e: QuotaExceeded) -> OpenAIError:
    return OpenAIError(429, e.detail, code="quota_exceeded", headers=e.headers)


@dataclass(frozen=True, slots=True)
class NewMeeting:
    """The meeting a /v1 request becomes; ``language`` and ``translate_to`` as meetings take
    them (a code, "auto", or None for the profile's default; "en" or None)."""

    owner_id: str
    title: str
    language: str | None = None
    translate_to: str | None = None


def _create_meeting_job(
    db: Database, settings: Settings, new: NewMeeting, staging: Path
) -> TranscriptionJob:
    uploads_dir = settings.uploads_dir
    user_id, title = new.owner_id, new.title
    with db.session() as session:
        try:  # again: another request of this user may have taken the last slot meanwhile
            check_meeting_slot(session, settings, user_id)
            check_job_slot(session, settings, user_id)
        except QuotaExceeded as e:
            staging.unlink(missing_ok=True)
            raise quota_error(e) from e
        meeting = create_meeting(session, owner_id=user_id, title=title)
        if new.language is not None or new.translate_to is not None:
            set_language_settings(
                session, meeting.id, language=new.language, translate_to=new.translate_to
            )
        job = TranscriptionJob(meeting.id, create_job(session, meeting.id, source="upload").id)
    target = uploads_dir / job.meeting_id / f"{job.job_id}.audio"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)
    return job


def _fail_job(db: Database, job: TranscriptionJob) -> None:
    with db.session() as session:
        update_job(session, job.job_id, status="failed", error="processor unavailable")
        set_meeting_status(session, job.meeting_id, "failed")


async def watch_transcription(
    fanout: RoomFanout, db: Database, job: TranscriptionJob
) -> AsyncGenerator[WatchEvent, None]:
    """Segments as their windows complete, ``Idle`` ticks, then one ``TranscriptDone``;
    raises ``TranscriptionFailed``."""
    duration = 0.0
    error: tuple[str, str] = ("Processing failed", "processing_failed")
    async with contextlib.aclosing(room_events(fanout, job.meeting_id)) as events:
        async for event in events:
            if event is None:
                yield Idle()
                state = await anyio.to_thread.run_sync(_job_state, db, job)
                if state is not None:
                    yield state
                    return
                continue
            kind = event.get("type")
            details = event.get("details") or {}
            if kind == "transcript":
                yield SegmentReady(segment_from_wire(event["segment"]))
            elif kind == "error":
                error = (str(event.get("error", error[0])), str(event.get("code", error[1])))
            elif kind == "status":
                duration = float(details.get("duration", duration))
                if event.get("status") == "failed":
                    raise TranscriptionFailed(*error, duration)
                if event.get("status") == "completed" or _last_window_aligned(details):
                    yield TranscriptDone(duration)
                    return


def _last_window_aligned(details: dict[str, Any]) -> bool:
    windows = details.get("windows")
    return (
        details.get("stage") == "alignment"
        and windows is not None
        and (details.get("window") == windows)
    )


def _job_state(db: Database, job: TranscriptionJob) -> TranscriptDone | None:
    """Ends a wait the room will not end: the job row says failed (or completed)."""
    with db.session() as session:
        row = get_job(session, job.job_id)
        if row is None:
            raise TranscriptionFailed("The meeting was deleted", "deleted")
        meeting = get_meeting(session, job.meeting_id)
        duration = float(meeting.duration or 0.0) if meeting else 0.0
        if row.status == "failed":
            message, code = row.error or "Processing failed", row.error_code or "failed"
            raise TranscriptionFailed(message, code, duration)
        if row.status == "completed":
            return TranscriptDone(duration)
    return None


async def room_events(
    fanout: RoomFanout, meeting_id: str
) -> AsyncGenerator[dict[str, Any] | None, None]:
    """The meeting's events from seq 1 in order, ``None`` after each idle period. A consumer
    too slow for the subscriber's queue re-subscribes from the last event it took."""
    cursor = 0
    while True:
        subscriber = await fanout.subscribe(meeting_id, cursor)
        catch_up = asyncio.create_task(fanout.catch_up(subscriber))
        try:
            while not subscriber.overflowed:
                try:
                    event = await asyncio.wait_for(subscriber.queue.get(), IDLE_CHECK_S)
                except TimeoutError:
                    yield None
                    continue
                cursor = int(event.get("seq", cursor))
                yield event
        finally:
            fanout.unsubscribe(subscriber)
            catch_up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await catch_up


def segment_from_wire(payload: dict[str, Any]) -> Segment:
    return Segment(
        id=str(payload["id"]),
        speaker=str(payload["speaker"]),
        text=str(payload["text"]),
        start=float(payload["start"]),
        end=float(payload["end"]),
        window=int(payload.get("window", 0)),
        words=[Word(**word) for word in payload.get("words", [])],
        translation=payload.get("translation"),
    )


@dataclass(frozen=True, slots=True)
class FinalTranscript:
    segments: list[Segment]
    language: str | None  # the language spoken: detected, or the one set


async def final_transcript(db: Database, meeting_id: str) -> FinalTranscript:
    def read() -> FinalTranscript:
        with db.session() as session:
            spoken = get_language_settings(session, meeting_id).spoken_language
            return FinalTranscript(list_segments(session, meeting_id), spoken)

    return await anyio.to_thread.run_sync(read)
