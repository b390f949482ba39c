"""``WS /ws/meeting/{meeting_id}``: a meeting's room (PROTOCOL.md, WebSocket part)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import Counter
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, WebSocket
from pydantic import TypeAdapter, ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.api.socket_guard import remember_grant, run_while_permitted
from app.client_address import client_address
from app.sockets.access import RoomAccessError, authorize_room_grant
from app.sockets.fanout import Outgoing, RoomFanout, Subscriber
from app.sockets.keepalive import KeepaliveTimer
from observability.logging_context import bind_log_context
from observability.web_metrics import metrics_sink
from persistence import Role, User
from rooms.close_codes import CloseCode
from rooms.messages import (
    AuthRequest,
    ClientMessage,
    ConnectedMessage,
    ErrorMessage,
    PongMessage,
    ResumeRequest,
    utc_timestamp,
    wire,
)
from settings.config import Settings

logger = logging.getLogger(__name__)
router = APIRouter()

# A window's segments and statuses usually fit: one frame instead of a dozen, and still a
# bounded frame (each message is at most a segment of 30 s of speech).
MAX_BATCH = 64
CLOSE_GOING_AWAY = CloseCode.GOING_AWAY
CLOSE_MESSAGE_TOO_BIG = CloseCode.MESSAGE_TOO_BIG
CLOSE_AUTH_TIMEOUT = CloseCode.TIMEOUT
CLOSE_TOO_MANY = CloseCode.TOO_MANY
CLOSE_UNAUTHORIZED = CloseCode.UNAUTHORIZED
# Which server process holds a socket (sent in ``connected``): tells a client, an operator or a
# test which Ingress replica it reached. Random per process, so it reveals nothing.
SERVER_ID = uuid.uuid4().hex[:12]
_client_message: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


class ConnectionLimiter:
    """Open sockets per user on this replica."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def acquire(self, user_id: str) -> bool:
        if self._open[user_id] >= self.limit:
            return False
        self._open[user_id] += 1
        return True

    def release(self, user_id: str) -> None:
        self._open[user_id] -= 1
        if self._open[user_id] <= 0:
            del self._open[user_id]

    @property
    def total(self) -> int:
        return sum(self._open.values())


def offered_token(websocket: WebSocket) -> tuple[str | None, str | None]:
    """(token, subprotocol to accept) from ``?token=`` or the ``["bearer", <jwt>]`` subprotocols."""
    offered = list(websocket.scope.get("subprotocols") or [])
    if len(offered) == 2 and offered[0] == "bearer":
        return offered[1], "bearer"
    return websocket.query_params.get("token"), None


def redact_query_token(websocket: WebSocket) -> None:
    """Blank ``token`` in the ASGI scope's query string, in place.

    The server logs the handshake (uvicorn: ``"WebSocket /ws/meeting/x?token=..." [accepted]``)
    from this same scope dict *after* the app accepts, so redacting it first keeps the seed's
    ``?token=`` form out of the logs. ``query_params`` was already read (Starlette caches it).
    """
    raw = websocket.scope.get("query_string", b"")
    if b"token" not in raw:
        return
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    redacted = [(k, "redacted" if k == "token" else v) for k, v in pairs]
    websocket.scope["query_string"] = urlencode(redacted).encode("latin-1")


async def pending_auth_token(websocket: WebSocket, settings: Settings) -> str | None:
    """The first-message token, for a socket that offered none in the handshake.

    While it waits, the socket counts against its address (both endpoints), so nobody can hold
    thousands of sockets open for the auth timeout without a token. Sockets that offered a
    token are authorised at once and never wait here.
    """
    pending: ConnectionLimiter = websocket.app.state.ws_pending_auth
    # Behind a load balancer every socket comes from its address: honour X-Forwarded-For from
    # the configured trusted proxies, or one busy office would exhaust everyone's allowance.
    address = client_address(websocket, settings.trusted_proxy_networks)
    if not pending.acquire(address):
        await safe_close(websocket, CLOSE_TOO_MANY, "Too many unauthenticated connections")
        return None
    try:
        return await first_message_token(websocket, settings.ws_auth_timeout_s)
    finally:
        pending.release(address)


async def first_message_token(websocket: WebSocket, timeout_s: float) -> str | None:
    """Wait for ``{"type":"auth","token":...}``; close 4408 on timeout, 4401 on anything else."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout_s)
    except TimeoutError:
        await safe_close(websocket, CLOSE_AUTH_TIMEOUT, "Authentication timed out")
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        return AuthRequest.model_validate_json(
            message.get("text") or message.get("bytes") or ""
        ).token
    except ValidationError:
        await safe_close(websocket, CLOSE_UNAUTHORIZED, "Expected an auth message first")
        return None


@router.websocket("/ws/meeting/{meeting_id}")
async def meeting_room(websocket: WebSocket, meeting_id: str) -> None:
    app = websocket.app
    settings: Settings = app.state.settings
    access = await authenticate_socket(websocket, meeting_id)
    if access is None:
        return
    user, _role = access
    limiter: ConnectionLimiter = app.state.ws_limiter
    if not limiter.acquire(user.id):
        await safe_close(websocket, CLOSE_TOO_MANY, "Too many open connections")
        return
    metrics_sink().websocket_opened()
    try:
        after = parse_last_seq(websocket.query_params.get("last_seq"))
        with bind_log_context(meeting_id=meeting_id):
            room = serve_room(websocket, app.state.fanout, settings, meeting_id, after)
            await run_while_permitted(websocket, room)  # 4401/4404 when access ends
    finally:
        limiter.release(user.id)
        metrics_sink().websocket_closed()


async def authenticate_socket(websocket: WebSocket, meeting_id: str) -> tuple[User, Role] | None:
    """Accept the socket and authorise it by any of the three forms (query token, ``bearer``
    subprotocol, first-message ``auth``); None after closing it with the documented code."""
    settings: Settings = websocket.app.state.settings
    token, subprotocol = offered_token(websocket)
    redact_query_token(websocket)
    await websocket.accept(subprotocol=subprotocol)
    if token is None:
        token = await pending_auth_token(websocket, settings)
        if token is None:
            return None
    try:
        user, role, grant = await authorize_room_grant(
            websocket.app.state.db,
            settings,
            token,
            meeting_id,
            getattr(websocket.app.state, "api_keys", None),
        )
    except RoomAccessError as e:
        await safe_close(websocket, e.close_code, e.reason)
        return None
    remember_grant(websocket, grant)
    return user, role


def parse_last_seq(value: str | None) -> int | None:
    """``?last_seq=N`` as an int; absent or not a non-negative integer means live only."""
    if value is None or not value.isdigit():
        return None
    return int(value)


async def serve_room(
    websocket: WebSocket, fanout: RoomFanout, settings: Settings, meeting_id: str, after: int | None
) -> None:
    """Stream the meeting to one authorised socket until it closes (or is too slow)."""
    subscriber = await open_subscription(websocket, fanout, meeting_id, after)
    if subscriber is None:
        return
    catch_up = asyncio.create_task(fanout.catch_up(subscriber))
    watched = {
        asyncio.create_task(
            pump(websocket, subscriber, settings.ws_keepalive_s, wants_batches(websocket))
        ),
        asyncio.create_task(receive_loop(websocket, subscriber, fanout, settings)),
    }
    too_slow = subscriber.too_slow()
    pending: set[asyncio.Future[None]] = {*watched, catch_up, too_slow}
    try:
        while True:  # until the socket ends or is too slow; a finished replay is not an end
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if done & watched or too_slow in done or (catch_up in done and catch_up.exception()):
                break
    finally:
        fanout.unsubscribe(subscriber)
        for task in pending:
            task.cancel()
        # Gather every task, done ones too, so no exception goes unretrieved.
        await asyncio.gather(*watched, catch_up, return_exceptions=True)
    if subscriber.overflowed:
        logger.info("closing slow consumer of meeting %s", meeting_id)
        metrics_sink().slow_consumer_disconnected()
        await safe_close(websocket, CLOSE_TOO_MANY, "Too slow to keep up; resume with last_seq")
    elif catch_up.done() and not catch_up.cancelled() and catch_up.exception():
        logger.warning("replay for meeting %s failed: %r", meeting_id, catch_up.exception())
        await safe_close(websocket, CLOSE_GOING_AWAY, "Temporarily unavailable; resume later")


async def open_subscription(
    websocket: WebSocket, fanout: RoomFanout, meeting_id: str, after: int | None
) -> Subscriber | None:
    """Subscribe and send ``connected``; None when the hub or the peer is gone (closed 1001)."""
    try:
        last_seq = await fanout.last_seq(meeting_id)
        subscriber = await fanout.subscribe(meeting_id, after)
    except Exception as e:  # hub unreachable even after the client's retries
        logger.warning("cannot open room %s: %r", meeting_id, e)
        await safe_close(websocket, CLOSE_GOING_AWAY, "Temporarily unavailable; resume later")
        return None
    connected = ConnectedMessage(meeting_id=meeting_id, last_seq=last_seq, server_id=SERVER_ID)
    try:
        await websocket.send_json(wire(connected))
    except (WebSocketDisconnect, OSError, RuntimeError):
        fanout.unsubscribe(subscriber)
        return None
    return subscriber


def wants_batches(websocket: WebSocket) -> bool:
    """``?batch=1``: the client reads ``batch`` frames (a protocol extension it opts in to)."""
    return websocket.query_params.get("batch") in {"1", "true"}


async def pump(
    websocket: WebSocket, subscriber: Subscriber, keepalive_s: float, batch: bool = False
) -> None:
    """Send queued messages in order (pre-encoded: ``Outgoing.text``); a keepalive when the
    socket has been idle. With ``batch``, whatever is queued goes out as one frame.

    Returns when the peer is gone (a send fails), which ends the connection.
    """
    keepalive = KeepaliveTimer(subscriber, keepalive_s)
    try:
        while True:
            first = await subscriber.queue.get()
            ready = [first, *drain(subscriber.queue, MAX_BATCH - 1)] if batch else [first]
            try:
                await websocket.send_text(ready[0].text if len(ready) == 1 else batch_frame(ready))
            except (WebSocketDisconnect, OSError, RuntimeError):
                return
            keepalive.sent()
    finally:
        keepalive.cancel()


def drain(queue: asyncio.Queue[Outgoing], limit: int) -> list[Outgoing]:
    """Up to ``limit`` messages already waiting, without waiting for more."""
    taken: list[Outgoing] = []
    while len(taken) < limit and not queue.empty():
        taken.append(queue.get_nowait())
    return taken


def batch_frame(messages: list[Outgoing]) -> str:
    """One ``batch`` frame: the messages, in order, exactly as they would be sent one by one."""
    inner = ",".join(m.text for m in messages)
    return f'{{"type":"batch","timestamp":"{utc_timestamp()}","messages":[{inner}]}}'


async def receive_loop(
    websocket: WebSocket, subscriber: Subscriber, fanout: RoomFanout, settings: Settings
) -> None:
    """Answer client messages until the peer disconnects or sends something too large."""
    while True:
        try:
            message = await websocket.receive()
        except WebSocketDisconnect:
            return
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text") or message.get("bytes") or b""
        size = len(raw.encode()) if isinstance(raw, str) else len(raw)
        if size > settings.ws_max_message_bytes:
            await safe_close(websocket, CLOSE_MESSAGE_TOO_BIG, "Message too large")
            return
        await handle_client_message(raw, subscriber, fanout)


def parse_client_message(raw: str | bytes) -> ClientMessage | None:
    """A room client's message, or None for anything malformed (never raises)."""
    try:
        return _client_message.validate_python(json.loads(raw))
    except (ValueError, ValidationError, RecursionError):  # deep nesting: RecursionError
        return None


async def handle_client_message(
    raw: str | bytes, subscriber: Subscriber, fanout: RoomFanout
) -> None:
    """ping → pong, resume → replay; anything else gets a non-durable ``bad_message`` error."""
    request = parse_client_message(raw)
    if request is None:
        metrics_sink().error_sent("bad_message")
        subscriber.send(
            wire(ErrorMessage(error="Unknown or malformed message", code="bad_message"))
        )
        return
    if isinstance(request, ResumeRequest):
        await fanout.resume(subscriber, request.last_seq)
    elif not isinstance(request, AuthRequest):  # ping; a repeated auth is a no-op
        subscriber.send(wire(PongMessage()))


async def safe_close(websocket: WebSocket, code: int, reason: str) -> None:
    """Close unless the socket is already gone (closing twice raises)."""
    if websocket.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code, reason)
