"""``WS /ws/meeting/{meeting_id}/audio``: live microphone audio in (PROTOCOL.md "Live audio in").

The Ingress only authenticates, batches frames into ~0.25 s chunks and relays them to the
Processor, which owns the session (buffering, utterance cuts, models, publication to the room).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

import anyio.to_thread
from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, ValidationError
from starlette.websockets import WebSocketDisconnect

from app.api.languages import LanguageCode, TranslationTarget
from app.api.routes.ws import authenticate_socket, safe_close
from app.backend import Backend
from app.config import Settings
from app.db import Database
from app.db.languages import get_language_settings, set_language_settings
from app.rooms.messages import ErrorMessage, PongMessage, utc_timestamp, wire
from core.languages import UnsupportedLanguageError

logger = logging.getLogger(__name__)
router = APIRouter()

CHUNK_BYTES = 8_000  # 0.25 s of 16 kHz PCM16: fewer hops to the Processor, no added latency
CLOSE_UNSUPPORTED = 1003
CLOSE_FORBIDDEN = 4403
CLOSE_SESSION_GONE = 4410
CLOSE_BUSY = 4409
CLOSE_TOO_FAST = 4429
CLOSE_UNSUPPORTED_LANGUAGE = 4400
ERROR_CLOSE_CODES = {"busy": CLOSE_BUSY, "unknown_session": CLOSE_SESSION_GONE}


class StartMessage(BaseModel):
    type: Literal["start"]
    sample_rate: Literal[16000]
    encoding: Literal["pcm_s16le"] = "pcm_s16le"
    session_id: str | None = None  # to continue a session after a dropped connection
    # the meeting's language settings for this session (omitted: the meeting's own apply)
    language: LanguageCode | None = None
    translate_to: TranslationTarget | None = None


class LiveRelay:
    """One audio socket's relay to its Processor session."""

    def __init__(self, websocket: WebSocket, backend: Backend, session_id: str) -> None:
        self.websocket = websocket
        self.backend = backend
        self.session_id = session_id
        self.pending = bytearray()

    async def flush(self) -> dict[str, Any]:
        chunk, self.pending = bytes(self.pending), bytearray()
        if not chunk:
            return {}
        return await self.backend.live_feed(self.session_id, chunk)

    async def add(self, data: bytes) -> dict[str, Any]:
        self.pending += data
        return await self.flush() if len(self.pending) >= CHUNK_BYTES else {}


@router.websocket("/ws/meeting/{meeting_id}/audio")
async def live_audio(websocket: WebSocket, meeting_id: str) -> None:
    settings: Settings = websocket.app.state.settings
    access = await authenticate_socket(websocket, meeting_id)
    if access is None:
        return
    _user, role = access
    if role == "viewer":
        await websocket.close(CLOSE_FORBIDDEN, "Viewers cannot stream audio")
        return
    relay = await start_session(websocket, websocket.app.state.backend, meeting_id, settings)
    if relay is not None:
        await relay_audio(relay, settings)


async def start_session(
    websocket: WebSocket, backend: Backend, meeting_id: str, settings: Settings
) -> LiveRelay | None:
    try:
        start = StartMessage.model_validate_json(await websocket.receive_text())
    except (ValidationError, WebSocketDisconnect, KeyError, RuntimeError):
        await send_error(websocket, 'Expected {"type":"start","sample_rate":16000,...}')
        await safe_close(websocket, CLOSE_UNSUPPORTED, "Expected a start message")
        return None
    if not await apply_languages(websocket, backend, meeting_id, start):
        return None
    reply = await backend.live_open(meeting_id, start.session_id)
    if "error" in reply:
        await safe_close(websocket, ERROR_CLOSE_CODES.get(reply["error"], 1011), reply["message"])
        return None
    await websocket.send_json({"type": "started", **reply, "timestamp": utc_timestamp()})
    return LiveRelay(websocket, backend, reply["session_id"])


async def apply_languages(
    websocket: WebSocket, backend: Backend, meeting_id: str, start: StartMessage
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


def _store_languages(db: Database, meeting_id: str, start: StartMessage) -> None:
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
            message = await websocket.receive()
        except WebSocketDisconnect:
            message = {"type": "websocket.disconnect"}
        if message["type"] == "websocket.disconnect":
            await relay.flush()
            await relay.backend.live_detach(relay.session_id)
            return
        data = message.get("bytes")
        if data is not None:
            if len(data) > settings.ws_max_message_bytes:
                await safe_close(websocket, 1009, "Audio frame too large")
                await relay.backend.live_detach(relay.session_id)
                return
            if not await check_reply(relay, await relay.add(data)):
                return
        elif await handle_control(relay, message.get("text") or ""):
            return


async def handle_control(relay: LiveRelay, text: str) -> bool:
    """Handle a text frame; True when the session is over."""
    try:
        kind = json.loads(text).get("type")
    except (ValueError, AttributeError):
        kind = None
    if kind == "ping":
        await relay.websocket.send_json(wire(PongMessage()))
    elif kind == "stop":
        await check_reply(relay, await relay.flush())
        reply = await relay.backend.live_stop(relay.session_id)
        await relay.websocket.send_json({"type": "stopped", **reply, "timestamp": utc_timestamp()})
        await safe_close(relay.websocket, 1000, "Stopped")
        return True
    else:
        await send_error(relay.websocket, "Unknown or malformed message")
    return False


async def check_reply(relay: LiveRelay, reply: dict[str, Any]) -> bool:
    """False (after closing the socket) when the Processor refused the audio."""
    if "error" not in reply:
        return True
    code = ERROR_CLOSE_CODES.get(reply["error"], CLOSE_TOO_FAST)
    await safe_close(relay.websocket, code, reply["message"])
    if code == CLOSE_TOO_FAST:
        await relay.backend.live_detach(relay.session_id)
    return False


async def send_error(websocket: WebSocket, text: str, code: str = "bad_message") -> None:
    try:
        await websocket.send_json(wire(ErrorMessage(error=text, code=code)))
    except (RuntimeError, WebSocketDisconnect):
        logger.debug("could not send error to a closed socket")
