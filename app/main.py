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

from app.anyio_root import adopt_current_task_as_root
from app.api.router import api_router
from app.api.routes import audio, health, live, voice_profiles, ws
from app.api.transcript_guard import CodedHTTPException, coded_http_exception_handler
from app.apikeys import ApiKeyGuard
from app.body_limits import BodyLimitMiddleware
from app.intake import intake_limiter
from app.login_guard import LoginGuard
from app.openai_compat import install_openai_compat
from app.openai_compat.routes import transcription_body_limit
from app.ratelimit import SharedLimiter
from app.redaction import install_token_redaction
from app.security import signing_keys
from app.security_headers import SecurityHeadersMiddleware
from app.sockets.access import AccessWatcher
from app.sockets.fanout import RoomFanout
from app.static import mount_web
from observability.web_metrics import metrics_sink
from persistence import Database, upgrade_database
from processor_api.backend import Backend, LocalBackend
from settings.config import Settings, db_pool, get_settings

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
    app.state.db = Database(settings.resolved_database_url, db_pool(settings))
    signing_keys(settings)  # a missing key file or bad secret stops start-up, not each login
    app.state.login_guard = LoginGuard(settings, SharedLimiter(app.state.db))
    app.state.ws_limiter = ws.ConnectionLimiter(settings.ws_max_connections_per_user)
    app.state.ws_pending_auth = ws.ConnectionLimiter(settings.ws_max_pending_auth_per_address)
    app.state.api_keys = ApiKeyGuard(settings, app.state.db)
    app.state.intake = intake_limiter(settings.intake_threads)
    app.add_middleware(
        BodyLimitMiddleware,
        default_max_bytes=settings.max_json_body_bytes,
        routes=(
            audio.upload_body_limit(settings),
            transcription_body_limit(settings),
            voice_profiles.sample_body_limit(),
        ),
    )
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: 413/415 answers get them too
    app.add_exception_handler(RequestValidationError, validation_error_handler)  # type: ignore[arg-type]
    app.add_exception_handler(CodedHTTPException, coded_http_exception_handler)
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
    adopt_current_task_as_root()  # this task lives as long as the app
    db: Database = app.state.db
    await anyio.to_thread.run_sync(upgrade_database, db.url)
    app.state.hub = app.state.backend.make_hub(db.url)
    app.state.fanout = RoomFanout(
        app.state.hub,
        queue_size=app.state.settings.ws_send_queue_size,
        on_replayed=lambda n: metrics_sink().events_replayed(n),
    )
    await app.state.fanout.start()
    app.state.access_watcher = AccessWatcher(db, app.state.settings.ws_access_recheck_s)
    await app.state.access_watcher.start()
    try:
        yield
    finally:
        await app.state.access_watcher.stop()
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
