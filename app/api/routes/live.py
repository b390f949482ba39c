"""``WS /ws/meeting/{meeting_id}/audio``: live microphone audio in (PROTOCOL.md "Live audio in").

The Ingress only authenticates, converts frames to 16 kHz PCM16 when ``start`` declares another
format (``core/live_input.py``), batches them into ~0.25 s chunks and relays them to the
Processor, which owns the session (buffering, utterance cuts, models, publication to the room).
"""

from __future__ import annotations

import asyncio
import json
import logging

import anyio.to_thread
from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from app.api.routes.ws import ConnectionLimiter, authenticate_socket, safe_close
from app.api.socket_guard import run_while_permitted
from app.api.transcript_guard import transcript_may_be_replaced
from core.audio import whole_samples
from core.languages import UnsupportedLanguageError
from core.live_input import LiveInputConverter
from persistence import Database
from persistence.languages import get_language_settings, set_language_settings
from processor_api.backend import Backend
from processor_api.live_replies import LiveRefusal, LiveReply
from rooms.close_codes import CloseCode
from rooms.live_messages import LiveStartedMessage, LiveStartRequest, LiveStoppedMessage
from rooms.messages import ErrorMessage, PongMessage, wire
from settings.config import Settings

logger = logging.getLogger(__name__)
router = APIRouter()

CHUNK_BYTES = 8_000  # 0.25 s of 16 kHz PCM16: fewer hops to the Processor, no added latency
CLOSE_UNSUPPORTED = CloseCode.UNSUPPORTED
CLOSE_FORBIDDEN = CloseCode.FORBIDDEN
CLOSE_SESSION_GONE = CloseCode.SESSION_GONE
CLOSE_BUSY = CloseCode.CONFLICT
CLOSE_TOO_FAST = CloseCode.TOO_MANY  # also: too many sockets or live sessions for the user
CLOSE_TIMEOUT = (
    CloseCode.TIMEOUT
)  # no start in MEETING_WS_START_TIMEOUT_S, or idle MEETING_WS_IDLE_TIMEOUT_S
CLOSE_INTERNAL = CloseCode.INTERNAL
CLOSE_UNSUPPORTED_LANGUAGE = CloseCode.UNSUPPORTED_LANGUAGE
ERROR_CLOSE_CODES = {
    "busy": CLOSE_BUSY,
    "unknown_session": CLOSE_SESSION_GONE,
    "too_many": CLOSE_TOO_FAST,
    "too_fast": CLOSE_TOO_FAST,
    "overloaded": CLOSE_TOO_FAST,
    "bad_audio": CLOSE_UNSUPPORTED,
}


class LiveRelay:
    """One audio socket's relay to its Processor session."""

    def __init__(
        self,
        websocket: WebSocket,
        backend: Backend,
        session_id: str,
        converter: LiveInputConverter,
    ) -> None:
        self.websocket = websocket
        self.backend = backend
        self.session_id = session_id
        self.converter = converter
        self.pending = bytearray()  # 16 kHz PCM16 not relayed yet
        self.stopped = False

    async def flush(self, last: bool = False) -> LiveReply | None:
        """Relay what is pending; ``last`` (the connection ends) adds the resampler's tail."""
        if last:
            self.pending += self.converter.flush()
        # Whole 16-bit samples only: an odd trailing byte waits for the next frame.
        chunk = whole_samples(self.pending)
        if not chunk:
            return None
        return await self.backend.live_feed(self.session_id, chunk)

    async def add(self, data: bytes) -> LiveReply | None:
        self.pending += data if self.converter.passthrough else self.converter.convert(data)
        return await self.flush() if len(self.pending) >= CHUNK_BYTES else None

    async def detach(self) -> None:
        """Keep the session for a reconnect (unless it was stopped); never raises."""
        if self.stopped:
            return
        try:
            await self.backend.live_detach(self.session_id)
        except Exception:
            logger.exception("live session %s: could not detach", self.session_id)


@router.websocket("/ws/meeting/{meeting_id}/audio")
async def live_audio(websocket: WebSocket, meeting_id: str) -> None:
    settings: Settings = websocket.app.state.settings
    access = await authenticate_socket(websocket, meeting_id)
    if access is None:
        return
    user, role = access
    if role == "viewer":
        await websocket.close(CLOSE_FORBIDDEN, "Viewers cannot stream audio")
        return
    if not await transcript_may_be_replaced(websocket, meeting_id):
        return
    limiter: ConnectionLimiter = websocket.app.state.ws_limiter  # room sockets count too
    if not limiter.acquire(user.id):
        await safe_close(websocket, CLOSE_TOO_FAST, "Too many open connections")
        return
    try:
        await serve_live(websocket, meeting_id, settings)
    finally:
        limiter.release(user.id)


async def serve_live(websocket: WebSocket, meeting_id: str, settings: Settings) -> None:
    """Start (or resume) a session and relay audio until stop, disconnect or a bound is hit.

    Whatever happens, a session that was not stopped is detached, so the Processor's reaper
    finishes it and the meeting never stays busy.
    """
    backend: Backend = websocket.app.state.backend
    relay: LiveRelay | None = None
    try:
        relay = await start_session(websocket, backend, meeting_id, settings)
        if relay is not None:  # cancelled and closed 4401/4404 when access ends (then detached)
            await run_while_permitted(websocket, relay_audio(relay, settings))
    except Exception:
        logger.exception("live audio for meeting %s failed", meeting_id)
        await safe_close(websocket, CLOSE_INTERNAL, "Live audio failed; reconnect with session_id")
    finally:
        if relay is not None:
            await relay.detach()


async def receive_text_frame(websocket: WebSocket, settings: Settings) -> str | None:
    """The ``start`` frame's text, or None after closing the socket (timeout, too large)."""
    try:
        message = await asyncio.wait_for(websocket.receive(), settings.ws_start_timeout_s)
    except TimeoutError:
        await safe_close(websocket, CLOSE_TIMEOUT, "No start message in time")
        return None
    except WebSocketDisconnect:
        return None
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text") or ""
    if len(text.encode()) > settings.ws_max_message_bytes:
        await safe_close(websocket, CloseCode.MESSAGE_TOO_BIG, "Message too large")
        return None
    return text


async def start_session(
    websocket: WebSocket, backend: Backend, meeting_id: str, settings: Settings
) -> LiveRelay | None:
    text = await receive_text_frame(websocket, settings)
    if text is None:
        return None
    try:
        start = LiveStartRequest.model_validate_json(text)
    except ValidationError:
        await send_error(
            websocket,
            'Expected {"type":"start","sample_rate":16000,...}: a sample_rate of 8000-48000 Hz '
            "and an encoding of pcm_s16le (the default), pcm_f32le, pcm_mulaw or pcm_alaw",
        )
        await safe_close(websocket, CLOSE_UNSUPPORTED, "Expected a start message")
        return None
    converter = LiveInputConverter(start.sample_rate, start.encoding)  # validated above
    if not await apply_languages(websocket, backend, meeting_id, start):
        return None
    reply = await backend.live_open(meeting_id, start.session_id)
    if isinstance(reply, LiveRefusal):
        await safe_close(
            websocket, ERROR_CLOSE_CODES.get(reply.code, CLOSE_INTERNAL), reply.message
        )
        return None
    await websocket.send_json(wire(LiveStartedMessage(**reply.public())))
    return LiveRelay(websocket, backend, reply.session_id, converter)


async def apply_languages(
    websocket: WebSocket, backend: Backend, meeting_id: str, start: LiveStartRequest
) -> bool:
    """Store the start message's language settings on the meeting; False (after an
    ``unsupported_language`` error and close 4400) when no loaded model serves them."""
    if start.language is None and start.translate_to is None:
        return True
    try:
        backend.languages().check(start.language, start.translate_to)
    except UnsupportedLanguageError as e:
        await send_error(websocket, e.reason, e.code)
        await safe_close(websocket, CLOSE_UNSUPPORTED_LANGUAGE, e.code)
        return False
    db: Database = websocket.app.state.db
    await anyio.to_thread.run_sync(_store_languages, db, meeting_id, start)
    return True


def _store_languages(db: Database, meeting_id: str, start: LiveStartRequest) -> None:
    with db.session() as session:
        current = get_language_settings(session, meeting_id)
        set_language_settings(
            session,
            meeting_id,
            language=start.language if start.language is not None else current.language,
            translate_to=start.translate_to or current.translate_to,
        )


async def relay_audio(relay: LiveRelay, settings: Settings) -> None:
    websocket = relay.websocket
    while True:
        try:
            message = await asyncio.wait_for(websocket.receive(), settings.ws_idle_timeout_s)
        except TimeoutError:
            await relay.flush(last=True)
            await safe_close(websocket, CLOSE_TIMEOUT, "Idle for too long; reconnect to resume")
            return
        except WebSocketDisconnect:
            message = {"type": "websocket.disconnect"}
        if message["type"] == "websocket.disconnect":
            await relay.flush(last=True)
            return
        data = message.get("bytes")
        text = message.get("text") or ""
        size = len(data) if data is not None else len(text.encode())
        if size > settings.ws_max_message_bytes:
            await safe_close(websocket, CloseCode.MESSAGE_TOO_BIG, "Message too large")
            return
        if data is not None:
            if not await check_reply(relay, await relay.add(data)):
                return
        elif await handle_control(relay, text):
            return


async def handle_control(relay: LiveRelay, text: str) -> bool:
    """Handle a text frame; True when the session is over."""
    kind = control_kind(text)
    if kind == "ping":
        await relay.websocket.send_json(wire(PongMessage()))
    elif kind == "stop":
        await check_reply(relay, await relay.flush(last=True))
        relay.stopped = True
        reply = await relay.backend.live_stop(relay.session_id)
        if isinstance(reply, LiveRefusal):  # e.g. the session was already finished
            await check_reply(relay, reply)
            return True
        await relay.websocket.send_json(wire(LiveStoppedMessage(**reply.public())))
        await safe_close(relay.websocket, CloseCode.NORMAL, "Stopped")
        return True
    else:
        await send_error(relay.websocket, "Unknown or malformed message")
    return False


def control_kind(text: str) -> str | None:
    """The ``type`` of a control frame, or None for anything that is not a JSON object."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # 64 KiB of "[" nests deeper than json allows
        return None
    kind = message.get("type") if isinstance(message, dict) else None
    return kind if isinstance(kind, str) else None


async def check_reply(relay: LiveRelay, reply: LiveReply | None) -> bool:
    """False (after closing the socket) when the Processor refused the audio."""
    if not isinstance(reply, LiveRefusal):
        return True
    code = ERROR_CLOSE_CODES.get(reply.code, CLOSE_INTERNAL)
    await safe_close(relay.websocket, code, reply.message)
    return False


async def send_error(websocket: WebSocket, text: str, code: str = "bad_message") -> None:
    try:
        await websocket.send_json(wire(ErrorMessage(error=text, code=code)))
    except (RuntimeError, WebSocketDisconnect):
        logger.debug("could not send error to a closed socket")
