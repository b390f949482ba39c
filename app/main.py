"""The FastAPI application factory used by the Ingress deployment and by tests."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from app.api.router import api_router
from app.api.routes import health
from app.backend import Backend, StaticBackend
from app.config import Settings, get_settings

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, backend: Backend | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="meetingserve",
        summary="Speaker-attributed meeting transcripts, summaries and action items, live.",
        version="0.1.0",
    )
    app.state.settings = settings
    app.state.backend = backend or StaticBackend()
    app.include_router(health.router)
    app.include_router(api_router)
    return app
