"""OpenAI-compatible endpoints: ``POST /v1/audio/transcriptions``, ``POST
/v1/audio/translations`` and ``GET /v1/models``.

Served by the same pipeline as the meeting API: each request becomes a meeting owned by the
caller (an API key or a JWT, ``Authorization: Bearer``), so it shows in the web client and its
exports. The request stays open while the audio is processed (the answer names the meeting
in ``X-Meeting-Id``); ``stream=true`` answers with server-sent events as windows complete.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from python_multipart.exceptions import MultipartParseError

from app.apikeys import user_for_credential
from app.body_limits import BodyLimit
from app.intake import intake_step
from app.openai_compat.errors import OpenAIError
from app.openai_compat.formats import (
    diarized_segment,
    in_english,
    render_response,
    speaker_letters,
    transcript_text,
)
from app.openai_compat.jobs import (
    FinalTranscript,
    Idle,
    NewMeeting,
    SegmentReady,
    TranscriptDone,
    TranscriptionFailed,
    TranscriptionJob,
    final_transcript,
    start_transcription,
    upload_allowance,
    watch_transcription,
)
from app.openai_compat.params import (
    RESPONSE_FORMATS,
    Task,
    TranscriptionParams,
    model_ids,
    parse_params,
)
from app.ratelimit import RateLimited
from app.security import AuthenticationError
from app.uploads import ReceivedUpload, UploadError, receive_audio_form
from core.languages import AUTO, ENGLISH, LanguageRouter, UnsupportedLanguageError
from core.types import Segment
from core.word_pieces import separator
from persistence import Database, User
from settings.config import Settings

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MULTIPART_OVERHEAD = 64 * 1024
STAGING_DIR = "v1-incoming"
STARTED_AT = int(time.time())


# ---- auth ------------------------------------------------------------------------------


async def authenticate(request: Request) -> User:
    """The caller by API key or JWT, or the OpenAI-shaped 401/429."""
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise OpenAIError(
            401,
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    state = request.app.state
    settings: Settings = state.settings
    db: Database = state.db

    def check() -> User:
        with db.session() as session:
            return user_for_credential(
                session, credential.strip(), settings, getattr(state, "api_keys", None)
            )

    try:
        return await anyio.to_thread.run_sync(check)
    except AuthenticationError as e:
        logger.info("/v1: rejected bearer credential: %s", e.reason)
        raise OpenAIError(
            401,
            "Incorrect API key provided, or the key was revoked.",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        ) from e
    except RateLimited as e:
        raise OpenAIError(
            429,
            f"Rate limit reached for this API key; retry after {e.retry_after_s} s.",
            type="requests",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(e.retry_after_s)},
        ) from e


# ---- models ----------------------------------------------------------------------------


def model_object(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": STARTED_AT, "owned_by": "meetingserve"}


@router.get("/models")
async def list_models(request: Request) -> dict[str, Any]:
    """The profile's transcription model and the OpenAI names that alias it."""
    await authenticate(request)
    ids = model_ids(request.app.state.backend.served_models())
    return {"object": "list", "data": [model_object(i) for i in ids]}


@router.get("/models/{model_id}")
async def retrieve_model(model_id: str, request: Request) -> dict[str, Any]:
    await authenticate(request)
    if model_id not in model_ids(request.app.state.backend.served_models()):
        raise OpenAIError(
            404, f"The model `{model_id}` does not exist", param="model", code="model_not_found"
        )
    return model_object(model_id)


# ---- transcriptions --------------------------------------------------------------------


# The body is parsed by hand (streamed to disk), so /docs learns its fields from here.
TRANSCRIPTION_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "model"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "model": {"type": "string", "example": "whisper-1"},
                        "language": {"type": "string"},
                        "prompt": {"type": "string", "description": "accepted, ignored"},
                        "temperature": {"type": "number", "description": "accepted, ignored"},
                        "response_format": {"type": "string", "enum": list(RESPONSE_FORMATS)},
                        "timestamp_granularities[]": {
                            "type": "array",
                            "items": {"type": "string", "enum": ["word", "segment"]},
                        },
                        "stream": {"type": "boolean"},
                    },
                }
            }
        },
    }
}


def transcription_body_limit(settings: Settings) -> BodyLimit:
    """The /v1 uploads take a large multipart body, like the meeting upload route."""
    return BodyLimit(
        r"/v1/audio/(transcriptions|translations)",
        settings.max_upload_bytes + MULTIPART_OVERHEAD,
        True,
    )


@router.post("/audio/transcriptions", response_model=None, openapi_extra=TRANSCRIPTION_FORM)
async def create_transcription(request: Request) -> Response:
    """Transcribe (and diarize) one uploaded file through the meeting pipeline."""
    return await serve_audio(request, "transcribe")


@router.post("/audio/translations", response_model=None, openapi_extra=TRANSCRIPTION_FORM)
async def create_translation(request: Request) -> Response:
    """English text of one uploaded file's speech, in any language Whisper knows: the meeting
    pipeline with English captions (``translate_to: "en"``)."""
    return await serve_audio(request, "translate")


async def serve_audio(request: Request, task: Task) -> Response:
    user = await authenticate(request)
    state = request.app.state
    settings: Settings = state.settings
    allowance = await intake_step(state, upload_allowance, state.db, settings, user.id)
    form, staging = await receive_form(request, settings, allowance)
    try:
        params = parse_params(form, state.backend.served_models(), task)
        title = (form.filename or "API transcription").strip() or "API transcription"
        meeting = new_meeting(user.id, title[:200], params, state.backend.languages())
    except OpenAIError:
        staging.unlink(missing_ok=True)
        raise
    job = await start_transcription(state, meeting, staging)
    headers = {"X-Meeting-Id": job.meeting_id}
    if params.stream:
        events = stream_events(request, job, params)
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    transcript, duration = await wait_for_transcript(request, job)
    body, media_type = render_response(transcript.segments, params, duration, transcript.language)
    if isinstance(body, dict):
        return JSONResponse(body, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def new_meeting(
    owner_id: str, title: str, params: TranscriptionParams, router: LanguageRouter
) -> NewMeeting:
    """The meeting's language settings: the language given, else detection where the profile
    can detect and the request allows it; a translation also asks for English captions."""
    language = params.language
    if language is None and (params.detect or params.task == "translate"):
        language = AUTO if router.detector is not None else None
    translate_to = ENGLISH if params.task == "translate" else None
    try:
        router.check(language, translate_to)
    except UnsupportedLanguageError as e:
        raise OpenAIError(400, e.reason, param="model", code=e.code) from e
    return NewMeeting(owner_id, title, language, translate_to)


async def receive_form(
    request: Request, settings: Settings, limit: int
) -> tuple[ReceivedUpload, Path]:
    """The multipart body with the upload's own validation and a size bound of ``limit``
    (the upload limit or the caller's remaining audio storage), in OpenAI's errors."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit + MULTIPART_OVERHEAD:
        raise OpenAIError(
            413, f"Audio file too large (limit {limit} bytes)", param="file", code="file_too_large"
        )
    staging = settings.uploads_dir / STAGING_DIR / uuid.uuid4().hex
    content_type = request.headers.get("content-type", "")
    try:
        form = await receive_audio_form(content_type, request.stream(), staging, limit)
    except UploadError as e:
        code = "file_too_large" if e.status == 413 else "invalid_file"
        raise OpenAIError(e.status, e.detail, param="file", code=code) from e
    except MultipartParseError as e:
        raise OpenAIError(400, "Malformed multipart body", param="file") from e
    return form, staging


async def wait_for_transcript(
    request: Request, job: TranscriptionJob
) -> tuple[FinalTranscript, float]:
    """Hold the request until the last window is published; the stored transcript."""
    state = request.app.state
    watch = watch_transcription(state.fanout, state.db, job)
    try:
        async with aclosing(watch) as events:
            async for event in events:
                if isinstance(event, TranscriptDone):
                    return await final_transcript(state.db, job.meeting_id), event.duration
                if isinstance(event, Idle) and await request.is_disconnected():
                    logger.info("meeting %s: /v1 client left; the job continues", job.meeting_id)
                    raise OpenAIError(499, "Client closed the request")
    except TranscriptionFailed as e:
        if e.no_speech:
            return FinalTranscript([], None), e.duration
        raise e.as_openai_error() from e
    raise OpenAIError(500, "The transcript did not complete", type="server_error")


def sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def stream_events(
    request: Request, job: TranscriptionJob, params: TranscriptionParams
) -> AsyncIterator[bytes]:
    """``transcript.text.delta`` per segment as its window completes (plus
    ``transcript.text.segment`` for ``diarized_json``), then ``transcript.text.done``."""
    state = request.app.state
    streamed: list[Segment] = []
    diarized = params.response_format == "diarized_json"
    try:
        async with aclosing(watch_transcription(state.fanout, state.db, job)) as events:
            async for event in events:
                if isinstance(event, Idle):
                    yield b": keepalive\n\n"
                elif isinstance(event, SegmentReady):
                    segment = event.segment
                    if params.task == "translate":
                        segment = in_english(segment)
                    for chunk in segment_events(segment, streamed, diarized):
                        yield chunk
                elif isinstance(event, TranscriptDone):
                    break
    except TranscriptionFailed as e:
        if not e.no_speech:
            yield sse(e.as_openai_error().body())
            return
    yield sse({"type": "transcript.text.done", "text": transcript_text(streamed)})


def segment_events(segment: Segment, streamed: list[Segment], diarized: bool) -> list[bytes]:
    text = segment.text.strip()
    if not text:
        return []
    text = " ".join(text.split())  # the deltas add up to ``transcript_text`` exactly
    delta = separator(streamed[-1].text.strip() if streamed else "", text) + text
    streamed.append(segment)  # only segments with text are kept
    event: dict[str, Any] = {"type": "transcript.text.delta", "delta": delta}
    if not diarized:
        return [sse(event)]
    event["segment_id"] = segment.id
    letters = speaker_letters(streamed)
    return [sse(event), sse(diarized_segment(segment, letters))]


@router.api_route(
    "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unknown_endpoint(path: str) -> Response:
    raise OpenAIError(404, f"Unknown endpoint /v1/{path}", code="unknown_url")
