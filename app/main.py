"""The FastAPI application factory used by the Ingress deployment and by tests."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.router import api_router
from app.api.routes import health, live, ws
from app.apikeys import ApiKeyGuard
from app.backend import Backend, LocalBackend
from app.config import Settings, get_settings
from app.db import Database, upgrade_database
from app.metrics import metrics_sink
from app.openai_compat import install_openai_compat
from app.ratelimit import SlidingWindowLimiter
from app.rooms.fanout import RoomFanout
from app.rooms.redaction import install_token_redaction
from app.static import mount_web

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, backend: Backend | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_token_redaction()  # whichever server runs the app logs WS handshakes: no tokens
    app = FastAPI(
        title="meetingserve",
        summary="Speaker-attributed meeting transcripts, summaries and action items, live.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.backend = backend or LocalBackend()
    app.state.db = Database(settings.resolved_database_url)
    app.state.login_limiter = SlidingWindowLimiter(
        settings.login_rate_limit, settings.login_rate_window_s
    )
    app.state.ws_limiter = ws.ConnectionLimiter(settings.ws_max_connections_per_user)
    app.state.api_keys = ApiKeyGuard(settings, app.state.db)
    app.add_middleware(JsonBodyLimitMiddleware, max_bytes=settings.max_json_body_bytes)
    app.add_exception_handler(RequestValidationError, validation_error_handler)  # type: ignore[arg-type]
    app.include_router(health.router)
    app.include_router(ws.router)
    app.include_router(live.router)
    app.include_router(api_router)
    install_openai_compat(app)  # /v1, OpenAI's error envelope there
    mount_web(app, settings.web_dist_dir)  # last: its catch-all must not shadow the API
    return app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Migrate the schema before serving (idempotent, safe across processes), start the room
    fan-out loop; stop it and close the pool on the way out."""
    db: Database = app.state.db
    await anyio.to_thread.run_sync(upgrade_database, db.url)
    app.state.hub = app.state.backend.make_hub(db.url)
    app.state.fanout = RoomFanout(
        app.state.hub,
        queue_size=app.state.settings.ws_send_queue_size,
        on_replayed=lambda n: metrics_sink().events_replayed(n),
    )
    await app.state.fanout.start()
    try:
        yield
    finally:
        await app.state.fanout.stop()
        await anyio.to_thread.run_sync(lambda: app.state.api_keys.flush(force=True))
        db.dispose()


async def validation_error_handler(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 body without the ``input`` echo: it would send passwords back."""
    errors = [
        {key: value for key, value in error.items() if key not in {"input", "url"}}
        for error in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})


class BodyTooLarge(StarletteHTTPException):
    """An HTTPException so FastAPI's body parsing re-raises it as is (not as a 400)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=_too_large_detail(max_bytes))


def _too_large_detail(max_bytes: int) -> str:
    return f"Request body too large (limit {max_bytes} bytes)"


class JsonBodyLimitMiddleware:
    """413 for request bodies over ``max_bytes``, except multipart uploads (own limit).

    Checks ``Content-Length`` up front and counts streamed (chunked) bodies as they arrive,
    so a lying or absent header cannot get a large body past it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_multipart(scope):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._reject(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._reject(send)

    async def _reject(self, send: Send) -> None:
        response = JSONResponse(
            status_code=413,
            content={"detail": _too_large_detail(self.max_bytes)},
        )
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def _is_multipart(scope: Scope) -> bool:
    content_type = _header(scope, b"content-type") or b""
    return content_type.lower().startswith(b"multipart/")


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
